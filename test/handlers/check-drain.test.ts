import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type TargetHealthStateEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it, vi } from 'vitest';
import type { BlueDrain } from '#shared/domain/workflow.ts';
import { handler } from '../../functions/check-drain.ts';
import { expectFailure } from '../support/failures.ts';
import { freezeClock, mockAws } from './aws-mocks.ts';
import {
  BLUE_1,
  BLUE_3,
  BLUE_IDS,
  blueRequestCountQuery,
  blueTargetGroup,
  greenFleet,
  lambdaContext,
  requestCounts,
  stateWith,
  TARGET_GROUP,
} from './fixtures.ts';

const { cloudwatchMock, elbv2Mock } = mockAws();

const NOW = freezeClock(new Date('2026-03-02T10:35:00.000Z'));

const context = lambdaContext('checkDrain');

const secondsAgo = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

/**
 * Blue's drain as deregister-blue wrote it `elapsed` seconds ago: two of its three instances were
 * registered, with the default 300 s deregistration delay.
 */
function drainStarted(elapsed: number, extra: Partial<BlueDrain> = {}): BlueDrain {
  return {
    slot: 'a',
    instances: BLUE_IDS.length,
    deregistered: 2,
    deregisteredAt: secondsAgo(elapsed),
    drainUntil: secondsAgo(elapsed - 300),
    drained: false,
    reason: 'draining',
    polls: Math.floor(elapsed / 30),
    maxPolls: 13,
    pollSeconds: 30,
    nextCheckSeconds: 30,
    ...extra,
  };
}

/** What check-drain returns when `polls` checks found blue drained `elapsed` s after deregistering, for `reason`. */
function drainedAfter(elapsed: number, polls: number, reason: string): BlueDrain {
  return drainStarted(elapsed, { polls, drained: true, reason, nextCheckSeconds: 0 });
}

function targets(state: TargetHealthStateEnum) {
  const description =
    state === 'draining'
      ? { State: state, Reason: 'Target.DeregistrationInProgress' as const }
      : { State: state, Reason: 'Target.NotRegistered' as const };
  return {
    TargetHealthDescriptions: [BLUE_1, BLUE_3].map((Id) => ({
      Target: { Id, Port: 80 },
      TargetHealth: description,
    })),
  };
}

/** ELB still reports both targets draining, and CloudWatch counted these requests per minute. */
function stillDraining(requestsPerMinute: number[]) {
  elbv2Mock.on(DescribeTargetHealthCommand).resolves(targets('draining'));
  elbv2Mock.on(DescribeTargetGroupsCommand).resolves(blueTargetGroup());
  cloudwatchMock.on(GetMetricDataCommand).resolves(requestCounts(requestsPerMinute, NOW));
}

const checking = (drain: BlueDrain) => stateWith({ green: greenFleet, drain });

describe('check-drain', () => {
  it("is done once ELB no longer reports any target of blue's group draining", async () => {
    // Prepare
    stillDraining([12, 40]);
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(targets('unused'));

    // Act
    const result = await handler(checking(drainStarted(90, { polls: 3 })), context);

    // Assess
    expect(elbv2Mock.commandCalls(DescribeTargetHealthCommand).map((c) => c.args[0].input)).toEqual([
      // Every target of the group: the state carries how many were deregistered, not which.
      { TargetGroupArn: TARGET_GROUP.a },
    ]);
    expect(cloudwatchMock.calls()).toHaveLength(0);
    expect(result).toEqual(drainedAfter(90, 4, 'ELB finished draining'));
  });

  it('keeps waiting while any one deregistered target is still draining', async () => {
    // Prepare
    stillDraining([3, 5]);
    elbv2Mock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        {
          Target: { Id: BLUE_1, Port: 80 },
          TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered' },
        },
        {
          Target: { Id: BLUE_3, Port: 80 },
          TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress' },
        },
      ],
    });

    // Act
    const result = await handler(checking(drainStarted(90, { polls: 3 })), context);

    // Assess
    expect(result).toEqual({ ...drainStarted(90), polls: 4, drained: false, nextCheckSeconds: 30 });
  });

  it.each([0, 30, 59])(
    'asks CloudWatch %i s after deregistration already, and is done when the target group is idle',
    async (elapsed) => {
      // Prepare
      stillDraining([0, 0]);

      // Act
      const result = await handler(checking(drainStarted(elapsed, { polls: 1 })), context);

      // Assess
      expect(elbv2Mock.commandCalls(DescribeTargetGroupsCommand)).toHaveLength(1);
      expect(cloudwatchMock.commandCalls(GetMetricDataCommand)).toHaveLength(1);
      expect(result).toEqual(drainedAfter(elapsed, 2, 'no request in the last 120 s'));
    },
  );

  it('asks CloudWatch on every check that still sees a target draining', async () => {
    // Prepare
    stillDraining([1, 4]);
    let drain = drainStarted(0, { polls: 0 });

    // Act
    for (let check = 0; check < 4; check += 1) {
      drain = await handler(checking(drain), context);
      vi.setSystemTime(new Date(Date.now() + drain.nextCheckSeconds * 1000));
    }

    // Assess
    expect(elbv2Mock.commandCalls(DescribeTargetHealthCommand)).toHaveLength(4);
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)).toHaveLength(4);
    expect(drain).toMatchObject({ polls: 4, drained: false, reason: 'draining' });
  });

  it('stops asking once the target group went idle between two checks', async () => {
    // Prepare
    stillDraining([1, 4]);
    const first = await handler(checking(drainStarted(30, { polls: 1 })), context);
    stillDraining([0, 0]);

    // Act
    const second = await handler(checking(first), context);
    const third = await handler(checking(second), context);

    // Assess
    expect(first).toMatchObject({ polls: 2, drained: false });
    expect(second).toMatchObject({ polls: 3, drained: true, reason: 'no request in the last 120 s' });
    expect(third).toEqual(second);
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)).toHaveLength(2);
  });

  it('asks CloudWatch for the RequestCount of blue’s target group behind its load balancer over 120 s', async () => {
    // Prepare
    stillDraining([0, 0]);

    // Act
    await handler(checking(drainStarted(75)), context);

    // Assess
    expect(elbv2Mock.commandCalls(DescribeTargetGroupsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArns: [TARGET_GROUP.a] },
    ]);
    const queries = cloudwatchMock.commandCalls(GetMetricDataCommand);
    expect(queries).toHaveLength(1);
    expect(queries[0]?.args[0].input).toEqual(
      blueRequestCountQuery(new Date('2026-03-02T10:33:00.000Z'), NOW),
    );
  });

  it('keeps waiting when requests were served in the last 120 s', async () => {
    // Prepare
    stillDraining([0, 7]);

    // Act
    const result = await handler(checking(drainStarted(150, { polls: 5 })), context);

    // Assess
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)).toHaveLength(1);
    expect(result).toEqual({ ...drainStarted(150), polls: 6, drained: false, nextCheckSeconds: 30 });
  });

  it('counts no data points as idle: ELB publishes RequestCount only while requests flow', async () => {
    // Prepare
    stillDraining([]);

    // Act
    const result = await handler(checking(drainStarted(150, { polls: 5 })), context);

    // Assess
    expect(result).toMatchObject({ polls: 6, drained: true, reason: 'no request in the last 120 s' });
  });

  it('is done once the deregistration delay is over, even while ELB still reports draining', async () => {
    // Prepare
    stillDraining([3, 5]);

    // Act
    const result = await handler(checking(drainStarted(301, { polls: 10 })), context);

    // Assess
    expect(result).toEqual(drainedAfter(301, 11, 'the deregistration delay is over'));
  });

  it('is done when the checks reach their bound, whatever ELB and CloudWatch say', async () => {
    // Prepare
    stillDraining([3, 5]);
    const almostBounded = drainStarted(150, { polls: 12, maxPolls: 13 });

    // Act
    const result = await handler(checking(almostBounded), context);

    // Assess
    expect(result).toMatchObject({
      polls: 13,
      drained: true,
      reason: 'checked 13 times, the most allowed',
      nextCheckSeconds: 0,
    });
  });

  it('keeps waiting one check short of the bound', async () => {
    // Prepare
    stillDraining([3, 5]);

    // Act
    const result = await handler(checking(drainStarted(150, { polls: 11, maxPolls: 13 })), context);

    // Assess
    expect(result).toMatchObject({ polls: 12, drained: false, nextCheckSeconds: 30 });
  });

  it('checks next when the delay ends if that is sooner than 30 s', async () => {
    // Prepare
    stillDraining([3, 5]);

    // Act
    const result = await handler(checking(drainStarted(288, { polls: 9 })), context);

    // Assess
    expect(result).toMatchObject({ polls: 10, drained: false, nextCheckSeconds: 12 });
  });

  it('waits between checks as long as deregister-blue chose for a long delay', async () => {
    // Prepare
    stillDraining([3, 5]);
    const longDelay = drainStarted(200, {
      drainUntil: secondsAgo(200 - 3600),
      polls: 1,
      maxPolls: 21,
      pollSeconds: 183,
      nextCheckSeconds: 183,
    });

    // Act
    const result = await handler(checking(longDelay), context);

    // Assess
    expect(result).toEqual({ ...longDelay, polls: 2, nextCheckSeconds: 183 });
  });

  it('asks nothing and changes nothing once blue is drained', async () => {
    // Prepare
    stillDraining([3, 5]);
    const drained = drainStarted(120, {
      drained: true,
      reason: 'ELB finished draining',
      nextCheckSeconds: 0,
    });

    // Act
    const result = await handler(checking(drained), context);

    // Assess
    expect(result).toEqual(drained);
    expect(elbv2Mock.calls()).toHaveLength(0);
    expect(cloudwatchMock.calls()).toHaveLength(0);
  });

  it('refuses to run without the drain that deregister-blue writes', async () => {
    // Prepare
    stillDraining([0, 0]);

    // Act
    const run = handler(stateWith({ green: greenFleet }), context);

    // Assess
    await expectFailure(run, 'TypeError', 'execution state is missing drain');
    expect(elbv2Mock.calls()).toHaveLength(0);
  });
});
