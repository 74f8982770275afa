import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  AddTagsCommand,
  DeregisterTargetsCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildReport } from '#shared/domain/report.ts';
import type { ClearedSlot, DeploymentState } from '#shared/domain/workflow.ts';
import { healLeft } from '#shared/operations/survey.ts';
import { handler as clearSlot } from '../../functions/clear-slot.ts';
import { handler as healSplit } from '../../functions/heal-split.ts';
import { handler as retireClearedSlot } from '../../functions/retire-cleared-slot.ts';
import { expectFailure } from '../support/failures.ts';
import { mockAws } from './aws-mocks.ts';
import {
  BLUE_DEPLOYMENT_ID,
  BLUE_IDS,
  DEPLOYMENT_ID,
  deployment,
  fleetInstanceTags,
  healingPlan,
  healthy,
  lambdaContext,
  reservation,
  SPLIT,
  slotTags,
  syncedChange,
  TARGET_GROUP,
  weightedRecords,
} from './fixtures.ts';

const { dynamodbMock, ec2Mock, elbv2Mock, route53Mock, sfnMock } = mockAws({ slotsOurs: true });

// Both slots are web/prod's; slot b's claim names this deployment (the heal took it), unless a
// test says otherwise. Earlier claims are of deployments that ended.
beforeEach(() => {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
  dynamodbMock.on(GetItemCommand).resolves({});
});

const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-prod-deploy:${DEPLOYMENT_ID}`;

/** What the state machine passes the heal: the execution state and the execution. */
function healRequest(extra: Parameters<typeof healingState>[0] = {}) {
  return { deployment: healingState(extra), executionArn: EXECUTION_ARN };
}

/** The other deployment of web/prod, started while the lock item was lost. */
const OTHER = { deploymentId: 'web-prod-1_2_0-0123456789', version: '1.2.0' };

/** Slot b's half-finished fleet from an earlier deploy that left a=60 b=40. */
const STRAY_IDS = ['i-0e1e2e3e4e5e60001', 'i-0e1e2e3e4e5e60002'];

function healingState(extra: Partial<DeploymentState> = {}) {
  return { ...deployment, plan: healingPlan(), ...extra };
}

const healing = {
  to: 'a' as const,
  from: 'b' as const,
  dns: syncedChange('2026-03-02T09:01:00.000Z'),
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

    const result = await healSplit(healRequest(), lambdaContext('healSplit'));

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

    await healSplit(healRequest(), lambdaContext('healSplit'));

    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it.each([[{ a: 30, b: 70 }], [{ a: 0, b: 100 }]])(
    'refuses with TrafficDrift, writing nothing, when the records changed since the plan (%o)',
    async (weights) => {
      route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(weights));

      await expectFailure(
        healSplit(healRequest(), lambdaContext('healSplit')),
        'TrafficDrift',
        'not the split the plan saw',
      );
      expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    },
  );

  it('claims the slot it clears for this deployment before it moves traffic', async () => {
    // Prepare: slot b's claim is an earlier deployment's, which ended.
    elbv2Mock
      .on(DescribeTagsCommand)
      .callsFake(slotTags({ deploymentId: BLUE_DEPLOYMENT_ID, version: '1.0.0' }));
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(SPLIT));
    route53Accepts();

    // Act
    await healSplit(healRequest(), lambdaContext('healSplit'));

    // Assess
    expect(elbv2Mock.commandCalls(AddTagsCommand).map((c) => c.args[0].input)).toEqual([
      {
        ResourceArns: [TARGET_GROUP.b],
        Tags: [
          { Key: 'bluegreen:deployment-id', Value: DEPLOYMENT_ID },
          { Key: 'bluegreen:version', Value: '1.1.0' },
          { Key: 'bluegreen:execution', Value: EXECUTION_ARN },
        ],
      },
    ]);
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  it('refuses with SlotInUse, moving no traffic and claiming nothing, while another deployment that still runs holds the slot', async () => {
    // Prepare: the lock item was lost; 1.2.0 claimed slot b and still runs.
    elbv2Mock.on(DescribeTagsCommand).callsFake(slotTags(OTHER));
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(SPLIT));
    route53Accepts();

    // Act
    const run = healSplit(healRequest(), lambdaContext('healSplit'));

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'SlotInUse' });
    await expect(run).rejects.toThrow(
      /^slot b's target group targetgroup\/web-prod-b\/\w+ is claimed by web\/prod 1\.2\.0 \(execution arn:aws:states:.*:web-prod-1_2_0-0123456789\), which still runs: .*; this deployment moved no traffic and clears nothing of it$/,
    );
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(elbv2Mock.commandCalls(AddTagsCommand)).toHaveLength(0);
  });

  it('refuses with SlotInUse, moving no traffic, when the slots belong to another app/env', async () => {
    // Prepare
    elbv2Mock.on(DescribeTagsCommand).callsFake((input: { ResourceArns?: string[] }) => ({
      TagDescriptions: (input.ResourceArns ?? []).map((arn) => ({
        ResourceArn: arn,
        Tags: [
          { Key: 'bluegreen:app', Value: 'api' },
          { Key: 'bluegreen:env', Value: 'prod' },
        ],
      })),
    }));
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(SPLIT));

    // Act
    const run = healSplit(healRequest(), lambdaContext('healSplit'));

    // Assess
    await expectFailure(run, 'SlotInUse', 'belongs to api/prod');
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(elbv2Mock.commandCalls(AddTagsCommand)).toHaveLength(0);
  });

  it('refuses with UnsafeToDeploy when the healthier slot lost every healthy target', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(SPLIT));
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves({
      TargetHealthDescriptions: BLUE_IDS.map((Id) => ({
        Target: { Id, Port: 80 },
        TargetHealth: { State: 'unhealthy' as const },
      })),
    });

    await expect(healSplit(healRequest(), lambdaContext('healSplit'))).rejects.toMatchObject({
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

    await expectFailure(
      clearSlot(healingState({ healing }), lambdaContext('clearSlot')),
      'UnsafeToDeploy',
      'targets this service did not launch (i-0123456789abcdef0)',
    );
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });
});

describe('clear-slot, when the slot is not only the fleet the heal found', () => {
  beforeEach(() => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    elbv2Mock.on(DeregisterTargetsCommand).resolves({});
    elbv2Mock.on(DescribeTargetGroupAttributesCommand).resolves({ Attributes: [] });
  });

  it('refuses with SlotInUse, deregistering nothing, when another deployment holds the slot now', async () => {
    elbv2Mock.on(DescribeTagsCommand).callsFake(slotTags(OTHER));
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy(STRAY_IDS));

    await expectFailure(
      clearSlot(healingState({ healing }), lambdaContext('clearSlot')),
      'SlotInUse',
      /^slot b, which this heal clears \(target group targetgroup\/web-prod-b\/\w+\) is now claimed by web\/prod 1\.2\.0 /,
    );
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('refuses with SlotInUse, deregistering nothing, when an instance was launched into the slot after this deployment planned', async () => {
    // Prepare: the plan is from 09:00; 1.2.0's instance was launched at 09:05.
    const newer = 'i-0f0f0f0f0f0f00001';
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            ...STRAY_IDS.map((InstanceId) => ({
              InstanceId,
              State: { Name: 'running' as const },
              LaunchTime: new Date('2026-03-01T09:00:00Z'),
              Tags: fleetInstanceTags('b', '1.0.1', BLUE_DEPLOYMENT_ID),
            })),
            {
              InstanceId: newer,
              State: { Name: 'running' as const },
              LaunchTime: new Date('2026-03-02T09:05:00Z'),
              Tags: fleetInstanceTags('b', '1.2.0', OTHER.deploymentId),
            },
          ],
        },
      ],
    });
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy([...STRAY_IDS, newer]));

    // Act
    const run = clearSlot(healingState({ healing }), lambdaContext('clearSlot'));

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'SlotInUse',
      message: expect.stringContaining(
        `holds instances launched after this deployment planned (${newer} of web/prod 1.2.0 (execution ${OTHER.deploymentId}))`,
      ),
    });
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('deregisters a target whose instance EC2 no longer lists, instead of refusing it as foreign', async () => {
    // Prepare: an instance terminated long ago is still registered; EC2 lists only the strays.
    const gone = 'i-0d0d0d0d0d0d00001';
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(reservation(STRAY_IDS, fleetInstanceTags('b', '1.0.1', BLUE_DEPLOYMENT_ID)));
    elbv2Mock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        ...healthy(STRAY_IDS).TargetHealthDescriptions,
        {
          Target: { Id: gone, Port: 80 },
          TargetHealth: { State: 'unused' as const, Reason: 'Target.InvalidState' as const },
        },
      ],
    });

    // Act
    const result = await clearSlot(healingState({ healing }), lambdaContext('clearSlot'));

    // Assess
    expect(result).toMatchObject({ slot: 'b', deregistered: 3 });
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)[0]?.args[0].input.Targets).toEqual(
      [...STRAY_IDS, gone].map((Id) => ({ Id })),
    );
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

  it('terminates nothing when another deployment holds the cleared slot now', async () => {
    elbv2Mock.on(DescribeTagsCommand).callsFake(slotTags(OTHER));
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(reservation(STRAY_IDS, fleetInstanceTags('b', '1.2.0', OTHER.deploymentId)));

    await expect(
      retireClearedSlot(healingState({ healing, cleared }), lambdaContext('retireClearedSlot')),
    ).rejects.toMatchObject({ name: 'SlotInUse' });
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
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
