import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { beforeEach, describe, expect, it } from 'vitest';
import { alarmsCause } from '#shared/domain/text.ts';
import { handler } from '../../functions/rollback-traffic.ts';
import { expectFailure } from '../support/failures.ts';
import { mockAws } from './aws-mocks.ts';
import {
  BLUE_IDS,
  DEPLOYMENT_ID,
  GREEN_IDS,
  greenFleet,
  healthy,
  lambdaContext,
  planFor,
  RECORD_NAME,
  stateWith,
  syncedChange,
  TARGET_GROUP,
  weightedRecords,
  ZONE_ID,
} from './fixtures.ts';

const { elbv2Mock, route53Mock } = mockAws({ slotsOurs: true });

beforeEach(() => {
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(healthy(BLUE_IDS));
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b }).resolves(healthy(GREEN_IDS));
});

const context = lambdaContext('rollbackTraffic');
const failure = { Error: 'AlarmTriggered', Cause: 'alarm in ALARM: web-prod-5xx (Threshold Crossed)' };

function route53Accepts() {
  route53Mock.on(ChangeResourceRecordSetsCommand).resolves({
    ChangeInfo: {
      Id: '/change/C1R0LLBACK00000000',
      Status: 'PENDING',
      SubmittedAt: new Date('2026-03-02T09:40:00Z'),
    },
  });
}

/** Blue with one of its three targets failing its checks. */
function blueTwoOfThree(unhealthy = 1) {
  const { TargetHealthDescriptions } = healthy(BLUE_IDS);
  return {
    TargetHealthDescriptions: TargetHealthDescriptions.map((d, i) =>
      i < unhealthy
        ? {
            ...d,
            TargetHealth: { State: 'unhealthy' as const, Reason: 'Target.ResponseCodeMismatch' as const },
          }
        : d,
    ),
  };
}

describe('rollback-traffic', () => {
  it('puts all traffic back on blue with both records in one change batch', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    route53Accepts();

    // Act
    const result = await handler(stateWith({ green: greenFleet, failure }), context);

    // Assess
    const writes = route53Mock.commandCalls(ChangeResourceRecordSetsCommand);
    expect(writes).toHaveLength(1);
    const input = writes[0]?.args[0].input;
    expect(input?.HostedZoneId).toBe(ZONE_ID);
    expect(input?.ChangeBatch?.Comment).toBe(`${DEPLOYMENT_ID} rollback: all traffic to slot a`);
    expect(
      input?.ChangeBatch?.Changes?.map((c) => [
        c.Action,
        c.ResourceRecordSet?.Name,
        c.ResourceRecordSet?.SetIdentifier,
        c.ResourceRecordSet?.Weight,
      ]),
    ).toEqual([
      ['UPSERT', RECORD_NAME, 'a', 100],
      ['UPSERT', RECORD_NAME, 'b', 0],
    ]);
    expect(result).toMatchObject({
      changed: true,
      weights: { a: 100, b: 0 },
      // Given back up only after 30 minutes: Route 53 applies every change it accepted.
      dns: {
        changeId: '/change/C1R0LLBACK00000000',
        status: 'PENDING',
        polls: 0,
        maxPolls: 45,
        pollSeconds: 10,
      },
    });
  });

  it('records when the alarm that caused it went into ALARM, the same on a retry', async () => {
    // Prepare: the cause as Step Functions wraps a Lambda error, naming two alarms.
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    route53Accepts();
    const errorMessage = alarmsCause([
      { name: 'web-prod-latency', reason: 'p99 > 2 s', since: '2026-03-02T09:31:10.000Z' },
      {
        name: 'web-prod-5xx',
        reason: 'in ALARM since 2026-03-02T08:00:00.000Z: ',
        since: '2026-03-02T09:30:40.000Z',
      },
    ]);
    const caught = {
      Error: 'AlarmTriggered',
      Cause: JSON.stringify({ errorType: 'AlarmTriggered', errorMessage, trace: [] }),
    };
    const state = stateWith({ green: greenFleet, failure: caught });

    // Act
    const first = await handler(state, context);
    const retried = await handler(state, context);

    // Assess: the earliest alarm's time, not a time a reason spells out.
    expect(first).toMatchObject({ changed: true, alarmedAt: '2026-03-02T09:30:40.000Z' });
    expect(retried.alarmedAt).toBe(first.alarmedAt);
  });

  it('keeps the alarm time the first rollback recorded when a stop of it started the rollback execution', async () => {
    // Prepare: the deployment was stopped while its alarm's rollback waited on Route 53; the
    // recovery's rollback execution starts from its last state, with the stop as the failure.
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    route53Accepts();
    const stopped = { Error: 'ABORTED', Cause: 'the execution web-prod-1_1_0-1 stopped' };
    const begun = {
      alarmedAt: '2026-03-02T09:30:40.000Z',
      leaveSeconds: 60,
      changed: true,
      weights: { a: 100, b: 0 },
      summary: 'traffic returned to slot a (a=100 b=0)',
      dns: null,
    };
    const state = stateWith({
      green: greenFleet,
      shift: {
        index: 1,
        percent: 50,
        weights: { a: 50, b: 50 },
        isLast: false,
        settleSeconds: 300,
        dns: syncedChange('2026-03-02T09:29:00.000Z'),
      },
      failure: stopped,
      rollbackTraffic: begun,
    });

    // Act
    const result = await handler(state, context);

    // Assess
    expect(result).toMatchObject({ changed: true, alarmedAt: '2026-03-02T09:30:40.000Z' });
  });

  it('records no alarm time for a rollback no alarm caused, nor for an alarm cause without one', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    route53Accepts();
    const unhealthy = {
      Error: 'GreenUnhealthy',
      Cause: 'alarm in ALARM: "x" (in ALARM since 2026-03-02T09:30:40.000Z: "y")',
    };

    // Act
    const results = [
      await handler(stateWith({ green: greenFleet, failure: unhealthy }), context),
      await handler(stateWith({ green: greenFleet, failure }), context),
    ];

    // Assess
    for (const result of results) {
      expect(result.changed).toBe(true);
      expect(result).not.toHaveProperty('alarmedAt');
    }
  });

  it('refuses with RollbackBlocked, writing nothing, when blue has no healthy target left', async () => {
    // Prepare: blue's targets are draining (it was being retired) or gone.
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves({
      TargetHealthDescriptions: BLUE_IDS.map((Id) => ({
        Target: { Id, Port: 80 },
        TargetHealth: { State: 'draining' as const, Reason: 'Target.DeregistrationInProgress' as const },
      })),
    });

    // Act
    const run = handler(stateWith({ green: greenFleet, failure }), context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'RollbackBlocked',
      message:
        'not returning traffic to blue slot a: blue slot a has no healthy target (0 of 0 targets healthy); the traffic stays as it is (a=0 b=100)',
    });
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  });

  it('returns traffic to a blue with 2 of 3 targets healthy when green failed on an alarm', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    route53Accepts();
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(blueTwoOfThree());

    // Act
    const result = await handler(stateWith({ green: greenFleet, failure }), context);

    // Assess
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
    expect(result).toMatchObject({ changed: true, weights: { a: 100, b: 0 } });
  });

  it('keeps the traffic off a partly healthy blue when the failure says nothing about a healthy green', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 40, b: 60 }));
    route53Accepts();
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(blueTwoOfThree(2));
    const dnsFault = { Error: 'DnsChangeTimedOut', Cause: 'Route 53 change C1 not in sync after 18 polls' };

    // Act
    const run = handler(stateWith({ green: greenFleet, failure: dnsFault }), context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'RollbackBlocked',
      message:
        'not returning traffic to blue slot a: blue is below its healthy minimum, less healthy than green, has at most half of its targets healthy, and nothing says green failed (blue slot a: 1 of 3 targets healthy; green slot b: 3 of 3 targets healthy); the traffic stays as it is (a=40 b=60)',
    });
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  });

  it('writes again, to wait on, when a retry after its own write finds traffic already on blue', async () => {
    // Prepare: a step was shifted, and the first attempt's write already took effect.
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    route53Accepts();
    const shift = {
      index: 0,
      percent: 10,
      weights: { a: 90, b: 10 },
      isLast: false,
      settleSeconds: 300,
      dns: syncedChange('2026-03-02T09:31:00.000Z'),
    };

    // Act
    const result = await handler(stateWith({ green: greenFleet, shift, failure }), context);

    // Assess: green is removed only after this change is INSYNC and a TTL has passed.
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
    expect(result).toMatchObject({ changed: true, weights: { a: 100, b: 0 }, dns: { status: 'PENDING' } });
  });

  it('writes nothing when traffic never left blue', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    route53Accepts();

    // Act
    const state = stateWith({ green: greenFleet, failure });
    expect(state.plan?.leaveSeconds).toBe(60);
    const result = await handler(state, context);

    // Assess
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(result).toEqual({
      // The record TTL, as planned (route53 mode has no stickiness to read).
      leaveSeconds: 60,
      changed: false,
      weights: null,
      summary: 'traffic never left blue (a=100 b=0)',
      dns: null,
    });
  });

  it('refuses with RollbackBlocked when a first deployment already carries traffic', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    route53Accepts();
    const firstDeploy = planFor({ a: 0, b: 0 }, 0);

    // Act
    const run = handler(
      stateWith({ plan: firstDeploy, green: { ...greenFleet, slot: 'a' }, failure }),
      context,
    );

    // Assess
    await expectFailure(run, 'RollbackBlocked', 'there is no previous fleet to return it to');
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  });
});
