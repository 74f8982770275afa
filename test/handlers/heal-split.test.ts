import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildPlan } from '#shared/domain/plan.ts';
import { buildReport } from '#shared/domain/report.ts';
import type { DeploymentState, Plan } from '#shared/domain/workflow.ts';
import type { ClearedSlot } from '#shared/healing.ts';
import { healLeft } from '#shared/tasks/notify.ts';
import { handler as clearSlot } from '../../functions/clear-slot.ts';
import { handler as healSplit } from '../../functions/heal-split.ts';
import { handler as retireClearedSlot } from '../../functions/retire-cleared-slot.ts';
import { mockAws } from './aws-mocks.ts';
import {
  BLUE_DEPLOYMENT_ID,
  BLUE_IDS,
  config,
  deployment,
  fleetInstanceTags,
  healthy,
  lambdaContext,
  reservation,
  TARGET_GROUP,
  TOPIC_ARN,
  weightedRecords,
} from './fixtures.ts';

const { ec2Mock, elbv2Mock, route53Mock } = mockAws();

/** Slot b's half-finished fleet from an earlier deploy that left a=60 b=40. */
const STRAY_IDS = ['i-0e1e2e3e4e5e60001', 'i-0e1e2e3e4e5e60002'];
const SPLIT = { a: 60, b: 40 };

/** The plan of a deploy that found a=60 b=40 with traffic.healSplit on: heal toward a. */
function healingPlan(): Plan {
  return buildPlan({
    configVersionId: 'v-config',
    deployment,
    config: { ...config, traffic: { ...config.traffic, healSplit: true } },
    weights: SPLIT,
    blueTargetCount: 0,
    defaultTopicArn: TOPIC_ARN,
    now: new Date('2026-03-02T09:00:00Z'),
    slotHealth: { a: { healthy: 3, registered: 3 }, b: { healthy: 1, registered: 2 } },
  });
}

function healingState(extra: Partial<DeploymentState> & { cleared?: ClearedSlot } = {}) {
  return { ...deployment, plan: healingPlan(), ...extra };
}

const healing = {
  to: 'a' as const,
  from: 'b' as const,
  dns: {
    changeId: 'C1',
    status: 'INSYNC' as const,
    polls: 2,
    maxPolls: 18,
    pollSeconds: 10,
    submittedAt: '2026-03-02T09:01:00.000Z',
  },
};

function route53Accepts() {
  route53Mock.on(ChangeResourceRecordSetsCommand).resolves({
    ChangeInfo: { Id: '/change/C0HEAL', Status: 'PENDING', SubmittedAt: new Date('2026-03-02T09:01:00Z') },
  });
}

describe('the plan of a split with traffic.healSplit', () => {
  it('heals toward the healthier slot, which becomes blue; the other becomes green', () => {
    const plan = healingPlan();
    expect(plan.heal).toEqual({ to: 'a', from: 'b', weights: SPLIT });
    expect(plan).toMatchObject({ blue: 'a', green: 'b' });
  });
});

describe('heal-split', () => {
  beforeEach(() => {
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(healthy(BLUE_IDS));
  });

  it('moves all traffic to the healthier slot in one change batch', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(SPLIT));
    route53Accepts();

    const result = await healSplit(healingState(), lambdaContext('healSplit'));

    expect(result).toMatchObject({
      to: 'a',
      from: 'b',
      dns: { changeId: '/change/C0HEAL', status: 'PENDING' },
    });
    const writes = route53Mock.commandCalls(ChangeResourceRecordSetsCommand);
    expect(writes).toHaveLength(1);
    const changes = writes[0]?.args[0].input.ChangeBatch?.Changes ?? [];
    expect(changes.map((c) => [c.ResourceRecordSet?.SetIdentifier, c.ResourceRecordSet?.Weight])).toEqual([
      ['a', 100],
      ['b', 0],
    ]);
  });

  it('writes again when retried after its write (same weights, idempotent)', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    route53Accepts();

    await healSplit(healingState(), lambdaContext('healSplit'));

    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it.each([[{ a: 30, b: 70 }], [{ a: 0, b: 100 }]])(
    'refuses with TrafficDrift, writing nothing, when the records changed since the plan (%o)',
    async (weights) => {
      route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(weights));

      await expect(healSplit(healingState(), lambdaContext('healSplit'))).rejects.toMatchObject({
        name: 'TrafficDrift',
        message: expect.stringContaining('not the split the plan saw'),
      });
      expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    },
  );

  it('refuses with UnsafeToDeploy when the healthier slot lost every healthy target', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(SPLIT));
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves({
      TargetHealthDescriptions: BLUE_IDS.map((Id) => ({
        Target: { Id, Port: 80 },
        TargetHealth: { State: 'unhealthy' as const },
      })),
    });

    await expect(healSplit(healingState(), lambdaContext('healSplit'))).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      message: 'slot a has no healthy target any more; not moving traffic to it',
    });
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  });
});

describe('clear-slot', () => {
  beforeEach(() => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(reservation(STRAY_IDS, fleetInstanceTags('b', '1.0.1', BLUE_DEPLOYMENT_ID)));
    elbv2Mock.on(DeregisterTargetsCommand).resolves({});
    elbv2Mock.on(DescribeTargetGroupAttributesCommand).resolves({
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '600' }],
    });
  });

  it('deregisters our instances in the slot that lost its traffic and waits out the deregistration delay', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy(STRAY_IDS));

    const result = await clearSlot(healingState({ healing }), lambdaContext('clearSlot'));

    expect(result).toEqual({ slot: 'b', instances: STRAY_IDS.length, deregistered: 2, drainSeconds: 600 });
    const calls = elbv2Mock.commandCalls(DeregisterTargetsCommand);
    expect(calls.map((c) => [c.args[0].input.TargetGroupArn, c.args[0].input.Targets])).toEqual([
      [TARGET_GROUP.b, STRAY_IDS.map((Id) => ({ Id }))],
    ]);
  });

  it('refuses with TrafficDrift, deregistering nothing, while the slot still carries traffic', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 99, b: 1 }));
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy(STRAY_IDS));

    await expect(clearSlot(healingState({ healing }), lambdaContext('clearSlot'))).rejects.toMatchObject({
      name: 'TrafficDrift',
      message: 'slot b still carries traffic (a=99 b=1); not clearing it',
    });
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('refuses with UnsafeToDeploy, naming them, when the slot holds targets this service did not launch', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy([...STRAY_IDS, 'i-0123456789abcdef0']));

    await expect(clearSlot(healingState({ healing }), lambdaContext('clearSlot'))).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      message: expect.stringContaining('targets this service did not launch (i-0123456789abcdef0)'),
    });
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });
});

describe('retire-cleared-slot', () => {
  const cleared: ClearedSlot = {
    slot: 'b',
    instances: STRAY_IDS.length,
    deregistered: STRAY_IDS.length,
    drainSeconds: 300,
  };

  it("terminates our instances of the cleared slot, found by the slot's tags again", async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(reservation(STRAY_IDS, fleetInstanceTags('b', '1.0.1', BLUE_DEPLOYMENT_ID)));
    ec2Mock.on(TerminateInstancesCommand).resolves({});

    const result = await retireClearedSlot(
      healingState({ healing, cleared }),
      lambdaContext('retireClearedSlot'),
    );

    expect(result.terminated).toBe(STRAY_IDS.length);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toContainEqual({
      Name: 'tag:bluegreen:slot',
      Values: ['b'],
    });
    expect(ec2Mock.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input.InstanceIds)).toEqual([
      STRAY_IDS,
    ]);
  });

  it('terminates nothing while the cleared slot carries traffic again', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));

    await expect(
      retireClearedSlot(healingState({ healing, cleared }), lambdaContext('retireClearedSlot')),
    ).rejects.toMatchObject({ name: 'TrafficDrift' });
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  });
});

describe('a deploy that fails after healing', () => {
  it('names what of the cleared slot is left for a person', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(reservation(STRAY_IDS, fleetInstanceTags('b', '1.0.1', BLUE_DEPLOYMENT_ID)));
    const state = healingState({
      healing,
      failure: {
        Error: 'AccessDenied',
        Cause: 'not authorized to perform elasticloadbalancing:DeregisterTargets',
      },
    });

    const left = await healLeft(state);
    const report = buildReport(state, 'failed', new Date('2026-03-02T09:10:00Z'), left);

    expect(left).toEqual([
      `slot b instances still running: ${STRAY_IDS.join(', ')}; deregister them from ${TARGET_GROUP.b} if still registered, then terminate them`,
    ]);
    expect(report.summary).toMatch(
      /^web\/prod 1\.1\.0 failed after healing a traffic split \(all traffic moved to slot a\): AccessDenied: .*\. Left for a person: slot b instances still running: /,
    );
  });

  it('says the slot was cleared when nothing is left', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const state = healingState({ healing, failure: { Error: 'BakeFailed', Cause: 'the build failed' } });

    const report = buildReport(state, 'failed', new Date(), await healLeft(state));

    expect(report.summary).toContain('Slot b was cleared; nothing else was changed.');
  });

  it('tells from the records when the heal wrote but failed before it could say so', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(reservation(STRAY_IDS, fleetInstanceTags('b', '1.0.1', BLUE_DEPLOYMENT_ID)));
    const state = healingState({ failure: { Error: 'AwsThrottled', Cause: 'Rate exceeded' } });

    const left = await healLeft(state);
    const report = buildReport(state, 'failed', new Date(), left);

    expect(left).toEqual([expect.stringMatching(/^slot b instances still running: /)]);
    expect(report.summary).toMatch(/failed after healing a traffic split \(all traffic moved to slot a\)/);
  });

  it('says nothing changed when the heal never wrote', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(SPLIT));
    const state = healingState({ failure: { Error: 'AwsThrottled', Cause: 'Rate exceeded' } });

    const left = await healLeft(state);

    expect(left).toEqual([]);
    expect(buildReport(state, 'failed', new Date(), left).summary).toContain(
      'failed before anything was changed',
    );
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
  });

  it('asks for the weights to be fixed when the cleared slot still carries traffic', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(SPLIT));
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });

    expect(await healLeft(healingState({ healing }))).toEqual([
      'traffic: a=60 b=40; slot b still carries traffic, set it to 0 and slot a to 100 in one change',
    ]);
  });
});
