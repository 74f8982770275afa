import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ShiftState } from '#shared/domain/workflow.ts';
import { handler } from '../../functions/shift-traffic.ts';
import { mockAws } from './aws-mocks.ts';
import {
  alarmStates,
  config,
  DEPLOYMENT_ID,
  firstShiftStep,
  GREEN_IDS,
  greenFleet,
  greenInstances,
  healthy,
  lambdaContext,
  RECORD_NAME,
  stateWith,
  TARGET_GROUP,
  weightedRecords,
  ZONE_ID,
} from './fixtures.ts';

const { cloudwatchMock, ec2Mock, elbv2Mock, route53Mock } = mockAws({
  slotsOurs: true,
  pinnedConfig: true,
  alarmsOk: true,
});

beforeEach(() => {
  // Green is found by its deployment tag.
  ec2Mock.on(DescribeInstancesCommand).resolves(greenInstances());
});

const context = lambdaContext('shiftTraffic');
const SUBMITTED_AT = new Date('2026-03-02T09:31:00.000Z');

/** What shift-traffic returned for the first step, as the state machine hands it back. */
const firstStep = firstShiftStep({
  changeId: '/change/C2682N5HXP0BZ4',
  status: 'INSYNC',
  polls: 2,
  maxPolls: 18,
  pollSeconds: 10,
  submittedAt: '2026-03-02T09:31:00.000Z',
  syncedAt: '2026-03-02T09:31:20.000Z',
});

/** The weighted records hold `weights`, and Route 53 accepts a change. */
function recordsAt(weights: { a: number; b: number }) {
  route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(weights));
  route53Mock.on(ChangeResourceRecordSetsCommand).resolves({
    ChangeInfo: { Id: '/change/C0743215NX5FBGQ4SGJ9', Status: 'PENDING', SubmittedAt: SUBMITTED_AT },
  });
}

/** Every green target is healthy, and the weighted records hold `weights`. */
function greenHealthyAt(weights: { a: number; b: number }) {
  elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy(GREEN_IDS));
  recordsAt(weights);
}

/** The step is refused with `error`, and no weight is written. */
async function expectRefused(run: Promise<unknown>, error: Record<string, unknown>) {
  await expect(run).rejects.toMatchObject(error);
  expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
}

describe('shift-traffic', () => {
  it('writes both weighted records in one change batch, 90/10 on the first step', async () => {
    // Prepare
    greenHealthyAt({ a: 100, b: 0 });

    // Act
    const result = await handler(stateWith({ green: greenFleet }), context);

    // Assess
    const writes = route53Mock.commandCalls(ChangeResourceRecordSetsCommand);
    expect(writes).toHaveLength(1);
    const input = writes[0]?.args[0].input;
    expect(input?.HostedZoneId).toBe(ZONE_ID);
    expect(input?.ChangeBatch?.Changes).toEqual([
      {
        Action: 'UPSERT',
        ResourceRecordSet: {
          Name: RECORD_NAME,
          Type: 'A',
          SetIdentifier: 'a',
          Weight: 90,
          AliasTarget: {
            DNSName: config.slots.a.loadBalancer.dnsName,
            HostedZoneId: config.slots.a.loadBalancer.hostedZoneId,
            EvaluateTargetHealth: true,
          },
        },
      },
      {
        Action: 'UPSERT',
        ResourceRecordSet: {
          Name: RECORD_NAME,
          Type: 'A',
          SetIdentifier: 'b',
          Weight: 10,
          AliasTarget: {
            DNSName: config.slots.b.loadBalancer.dnsName,
            HostedZoneId: config.slots.b.loadBalancer.hostedZoneId,
            EvaluateTargetHealth: true,
          },
        },
      },
    ]);
    expect(input?.ChangeBatch?.Comment).toBe(`${DEPLOYMENT_ID} step 1/3: 10% to slot b`);
    expect(result).toEqual({
      ...firstStep,
      dns: {
        changeId: '/change/C0743215NX5FBGQ4SGJ9',
        status: 'PENDING',
        polls: 0,
        maxPolls: 18,
        pollSeconds: 10,
        submittedAt: SUBMITTED_AT.toISOString(),
      },
    });
  });

  it('writes nothing before the first step, with AlarmTriggered, when a watched alarm is already in ALARM', async () => {
    // Prepare
    greenHealthyAt({ a: 100, b: 0 });
    cloudwatchMock.on(DescribeAlarmsCommand).callsFake(alarmStates(['web-prod-5xx']));

    // Act
    const run = handler(stateWith({ green: greenFleet }), context);

    // Assess
    await expectRefused(run, {
      name: 'AlarmTriggered',
      message: expect.stringContaining('checked right before the first traffic step'),
    });
  });

  it('lets a retry of the first step that finds its weights written go on, whatever the alarms: past the before-traffic moment', async () => {
    // Prepare
    greenHealthyAt({ a: 90, b: 10 });
    cloudwatchMock.on(DescribeAlarmsCommand).callsFake(alarmStates(['web-prod-5xx']));

    // Act
    const result = await handler(stateWith({ green: greenFleet }), context);

    // Assess
    expect(result).toMatchObject({ index: 0, weights: { a: 90, b: 10 } });
    expect(cloudwatchMock.commandCalls(DescribeAlarmsCommand)).toHaveLength(0);
  });

  it('leaves later steps to the step checks: no alarm read before the second step', async () => {
    // Prepare
    greenHealthyAt({ a: 90, b: 10 });

    // Act
    await handler(stateWith({ green: greenFleet, shift: firstStep }), context);

    // Assess
    expect(cloudwatchMock.commandCalls(DescribeAlarmsCommand)).toHaveLength(0);
  });

  it('moves on to 50/50 after the first step, from the weights that step wrote', async () => {
    // Prepare
    greenHealthyAt({ a: 90, b: 10 });

    // Act
    const result = await handler(stateWith({ green: greenFleet, shift: firstStep }), context);

    // Assess
    const changes = route53Mock.commandCalls(ChangeResourceRecordSetsCommand)[0]?.args[0].input.ChangeBatch
      ?.Changes;
    expect(changes?.map((c) => [c.ResourceRecordSet?.SetIdentifier, c.ResourceRecordSet?.Weight])).toEqual([
      ['a', 50],
      ['b', 50],
    ]);
    expect(result).toMatchObject({ index: 1, percent: 50, isLast: false });
  });

  it('checks the health of exactly the green instances, in the green target group, before writing', async () => {
    // Prepare
    greenHealthyAt({ a: 100, b: 0 });

    // Act
    await handler(stateWith({ green: greenFleet }), context);

    // Assess
    // (The other read lists every registered target: only green's own instances may be there.)
    const healthReads = elbv2Mock
      .commandCalls(DescribeTargetHealthCommand)
      .filter((call) => call.args[0].input.Targets !== undefined);
    expect(healthReads).toHaveLength(1);
    expect(healthReads[0]?.args[0].input).toEqual({
      TargetGroupArn: TARGET_GROUP.b,
      Targets: GREEN_IDS.map((Id) => ({ Id })),
    });
  });

  it('refuses with GreenUnhealthy, and writes nothing, when a green target is not healthy', async () => {
    // Prepare
    const [first = '', second = '', third = ''] = GREEN_IDS;
    elbv2Mock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: first, Port: 80 }, TargetHealth: { State: 'healthy' } },
        {
          Target: { Id: second, Port: 80 },
          TargetHealth: {
            State: 'unhealthy',
            Reason: 'Target.ResponseCodeMismatch',
            Description: 'Health checks failed with these codes: [502]',
          },
        },
        { Target: { Id: third, Port: 80 }, TargetHealth: { State: 'healthy' } },
      ],
    });
    recordsAt({ a: 100, b: 0 });

    // Act
    const run = handler(stateWith({ green: greenFleet }), context);

    // Assess
    await expectRefused(run, {
      name: 'GreenUnhealthy',
      message: expect.stringContaining(
        `2 of 3 green targets healthy (3 required); ${second} unhealthy (Target.ResponseCodeMismatch)`,
      ),
    });
  });

  it('refuses with GreenUnhealthy when ELB no longer reports a green instance', async () => {
    // Prepare
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy(GREEN_IDS.slice(0, 2)));
    recordsAt({ a: 100, b: 0 });

    // Act
    const run = handler(stateWith({ green: greenFleet }), context);

    // Assess
    await expectRefused(run, { name: 'GreenUnhealthy' });
  });

  it.each([
    {
      when: 'someone else moved traffic before the first step',
      records: { a: 70, b: 30 },
      shift: {},
      found: 'the records hold a=70 b=30',
    },
    {
      when: 'the records are no longer what the previous step wrote',
      records: { a: 100, b: 0 },
      shift: { shift: firstStep },
      found: 'a=100 b=0',
    },
  ])('refuses with TrafficDrift when $when', async ({ records, shift, found }) => {
    // Prepare
    greenHealthyAt(records);

    // Act
    const run = handler(stateWith({ green: greenFleet, ...shift }), context);

    // Assess
    await expectRefused(run, { name: 'TrafficDrift', message: expect.stringContaining(found) });
  });

  it('writes the step again, without error, when a retry finds the records already at its weights', async () => {
    // Prepare
    greenHealthyAt({ a: 90, b: 10 });

    // Act
    const result = await handler(stateWith({ green: greenFleet }), context);

    // Assess
    const writes = route53Mock.commandCalls(ChangeResourceRecordSetsCommand);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.args[0].input.ChangeBatch?.Changes?.map((c) => c.ResourceRecordSet?.Weight)).toEqual([
      90, 10,
    ]);
    expect(result).toMatchObject({ index: 0, percent: 10, weights: { a: 90, b: 10 } });
  });

  it('marks the 100 % step as the last one', async () => {
    // Prepare
    const secondStep: ShiftState = { ...firstStep, index: 1, percent: 50, weights: { a: 50, b: 50 } };
    greenHealthyAt({ a: 50, b: 50 });

    // Act
    const result = await handler(stateWith({ green: greenFleet, shift: secondStep }), context);

    // Assess
    expect(result).toMatchObject({ index: 2, percent: 100, weights: { a: 0, b: 100 }, isLast: true });
  });

  it('fails with LoopBoundExceeded, writing nothing, when asked for a step past the last', async () => {
    // Prepare
    const lastStep: ShiftState = {
      ...firstStep,
      index: 2,
      percent: 100,
      weights: { a: 0, b: 100 },
      isLast: true,
    };
    greenHealthyAt({ a: 0, b: 100 });

    // Act
    const run = handler(stateWith({ green: greenFleet, shift: lastStep }), context);

    // Assess
    await expectRefused(run, { name: 'LoopBoundExceeded' });
  });
});
