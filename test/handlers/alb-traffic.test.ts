import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import {
  type Action,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ChangeResourceRecordSetsCommand, GetChangeCommand } from '@aws-sdk/client-route-53';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '#shared/domain/config.ts';
import { buildPlan } from '#shared/domain/plan.ts';
import type { Plan, ShiftState } from '#shared/domain/workflow.ts';
import example from '../../examples/web-prod-alb.config.json' with { type: 'json' };
import { handler as checkDnsChange } from '../../functions/check-dns-change.ts';
import { handler as rollbackTraffic } from '../../functions/rollback-traffic.ts';
import { handler as shiftTraffic } from '../../functions/shift-traffic.ts';
import { handler as watchAlarms } from '../../functions/watch-alarms.ts';
import { mockAws } from './aws-mocks.ts';
import {
  BLUE_IDS,
  CONFIG_VERSION_ID,
  deployment,
  GREEN_IDS,
  greenFleet,
  greenInstances,
  healthy,
  lambdaContext,
  TARGET_GROUP,
  TOPIC_ARN,
} from './fixtures.ts';

// traffic.mode alb: the tasks that move traffic read the listener's forward action and write it
// back with both weights in one ModifyListener (or ModifyRule) call, in effect when it returns.

const { dynamodbMock, ec2Mock, elbv2Mock, route53Mock } = mockAws({
  slotsOurs: true,
  pinnedConfig: true,
  alarmsOk: true,
});

const LISTENER = example.listener.listenerArn;
const RULE = `${LISTENER.replace(':listener/', ':listener-rule/')}/9683b2d02a6cabee`;
const STICKY = { Enabled: true, DurationSeconds: 600 };

function albPlan(listener: { listenerArn: string; ruleArn?: string } = { listenerArn: LISTENER }): Plan {
  const parsed = validateConfig({ ...example, listener });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return buildPlan({
    deployment,
    config: parsed.config,
    configVersionId: CONFIG_VERSION_ID,
    weights: { a: 100, b: 0 },
    blueTargetCount: 3,
    defaultTopicArn: TOPIC_ARN,
    now: new Date('2026-03-02T09:00:00Z'),
    stickinessSeconds: STICKY.DurationSeconds,
  });
}

const forward = (a: number, b: number): Action[] => [
  {
    Type: 'forward',
    Order: 1,
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: TARGET_GROUP.a, Weight: a },
        { TargetGroupArn: TARGET_GROUP.b, Weight: b },
      ],
      TargetGroupStickinessConfig: STICKY,
    },
  },
];

/** The listener's default action forwards a/b by these weights. */
function listenerAt(a: number, b: number, actions = forward(a, b)) {
  elbv2Mock
    .on(DescribeListenersCommand)
    .resolves({ Listeners: [{ ListenerArn: LISTENER, DefaultActions: actions }] });
  elbv2Mock.on(ModifyListenerCommand).resolves({});
}

/** What shift-traffic returned for a step in alb mode: written, in sync at once. */
function step(index: number, percent: number, weights: { a: number; b: number }): ShiftState {
  const at = '2026-03-02T09:31:00.000Z';
  return {
    index,
    percent,
    weights,
    isLast: false,
    settleSeconds: 300,
    dns: {
      changeId: LISTENER,
      status: 'INSYNC',
      polls: 0,
      maxPolls: 0,
      pollSeconds: 0,
      submittedAt: at,
      syncedAt: at,
    },
  };
}

/** shift-traffic's second step on the listener, after this deployment's first step wrote 90/10. */
const shiftAfterFirstStep = () =>
  shiftTraffic(
    { ...deployment, plan: albPlan(), green: greenFleet, shift: step(0, 10, { a: 90, b: 10 }) },
    lambdaContext('shiftTraffic'),
  );

beforeEach(() => {
  ec2Mock.on(DescribeInstancesCommand).resolves(greenInstances());
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(healthy(BLUE_IDS));
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b }).resolves(healthy(GREEN_IDS));
});

describe('shift-traffic in traffic.mode alb', () => {
  it('writes both target groups’ weights in one ModifyListener, stickiness kept, and returns a change already in sync', async () => {
    // Prepare
    listenerAt(100, 0);

    // Act
    const result = await shiftTraffic(
      { ...deployment, plan: albPlan(), green: greenFleet },
      lambdaContext('shiftTraffic'),
    );

    // Assess
    const writes = elbv2Mock.commandCalls(ModifyListenerCommand);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.args[0].input).toEqual({ ListenerArn: LISTENER, DefaultActions: forward(90, 10) });
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(result).toMatchObject({ index: 0, percent: 10, weights: { a: 90, b: 10 } });
    // In effect when written: no poll, no wait, its sync time its write time.
    expect(result.dns).toMatchObject({ status: 'INSYNC', polls: 0, maxPolls: 0, pollSeconds: 0 });
    expect(result.dns.syncedAt).toBe(result.dns.submittedAt);
  });

  it('writes a listener rule with ModifyRule when the config names one', async () => {
    // Prepare
    elbv2Mock.on(DescribeRulesCommand).resolves({ Rules: [{ RuleArn: RULE, Actions: forward(90, 10) }] });
    elbv2Mock.on(ModifyRuleCommand).resolves({});

    // Act
    const result = await shiftTraffic(
      {
        ...deployment,
        plan: albPlan({ listenerArn: LISTENER, ruleArn: RULE }),
        green: greenFleet,
        shift: step(0, 10, { a: 90, b: 10 }),
      },
      lambdaContext('shiftTraffic'),
    );

    // Assess
    expect(elbv2Mock.commandCalls(ModifyRuleCommand).map((c) => c.args[0].input)).toEqual([
      { RuleArn: RULE, Actions: forward(50, 50) },
    ]);
    expect(elbv2Mock.commandCalls(ModifyListenerCommand)).toHaveLength(0);
    expect(result.weights).toEqual({ a: 50, b: 50 });
  });

  it('refuses, writing nothing, when the weights are not what this deployment last wrote', async () => {
    // Prepare: someone set 70/30 by hand after this deployment's 90/10.
    listenerAt(70, 30);

    // Act
    const run = shiftAfterFirstStep();

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'TrafficDrift',
      message: expect.stringContaining('a=70 b=30, not what this deployment last wrote'),
    });
    expect(elbv2Mock.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });

  it('refuses, writing nothing, when someone writes the listener between its check and its write', async () => {
    // Prepare: the check reads this deployment's 90/10; the read right before the write, 70/30.
    listenerAt(90, 10);
    elbv2Mock
      .on(DescribeListenersCommand)
      .resolvesOnce({ Listeners: [{ ListenerArn: LISTENER, DefaultActions: forward(90, 10) }] })
      .resolves({ Listeners: [{ ListenerArn: LISTENER, DefaultActions: forward(70, 30) }] });

    // Act
    const run = shiftAfterFirstStep();

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'TrafficDrift',
      message: expect.stringContaining('holds a=70 b=30, not the a=90 b=10 read before this write'),
    });
    expect(elbv2Mock.commandCalls(DescribeListenersCommand)).toHaveLength(2);
    expect(elbv2Mock.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });

  it('refuses, writing nothing, when someone lengthened the stickiness the waits were planned on', async () => {
    // Prepare: the weights are this deployment's 90/10, the stickiness an hour instead of 600 s.
    const longer = forward(90, 10).map((action) => ({
      ...action,
      ForwardConfig: {
        ...action.ForwardConfig,
        TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 },
      },
    }));
    listenerAt(90, 10, longer);

    // Act
    const run = shiftAfterFirstStep();

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'TrafficDrift',
      message: expect.stringContaining('for 3600 s (target group stickiness), not the 600 s'),
    });
    expect(elbv2Mock.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });

  it('refuses, writing nothing, when someone lengthens the stickiness between its check and its write', async () => {
    // Prepare: the check reads this deployment's 90/10 with 600 s; the read right before the
    // write, the same weights with an hour of stickiness (which the write would carry on).
    listenerAt(90, 10);
    const longer = forward(90, 10).map((action) => ({
      ...action,
      ForwardConfig: {
        ...action.ForwardConfig,
        TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 },
      },
    }));
    elbv2Mock
      .on(DescribeListenersCommand)
      .resolvesOnce({ Listeners: [{ ListenerArn: LISTENER, DefaultActions: forward(90, 10) }] })
      .resolves({ Listeners: [{ ListenerArn: LISTENER, DefaultActions: longer }] });

    // Act
    const run = shiftAfterFirstStep();

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'TrafficDrift',
      message: expect.stringContaining('for 3600 s (target group stickiness), not the 600 s'),
    });
    expect(elbv2Mock.commandCalls(DescribeListenersCommand)).toHaveLength(2);
    expect(elbv2Mock.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });

  it('goes on when the stickiness was shortened (the planned waits still cover it)', async () => {
    // Prepare
    const shorter = forward(90, 10).map((action) => ({
      ...action,
      ForwardConfig: { ...action.ForwardConfig, TargetGroupStickinessConfig: { Enabled: false } },
    }));
    listenerAt(90, 10, shorter);

    // Act
    const result = await shiftAfterFirstStep();

    // Assess
    expect(result.weights).toEqual({ a: 50, b: 50 });
    expect(elbv2Mock.commandCalls(ModifyListenerCommand)).toHaveLength(1);
  });

  it('refuses, writing nothing, a listener whose actions hold more than the forward it would rewrite', async () => {
    // Prepare
    listenerAt(100, 0, [
      { Type: 'authenticate-cognito', Order: 1 },
      ...forward(100, 0).map((action) => ({ ...action, Order: 2 })),
    ]);

    // Act
    const run = shiftTraffic(
      { ...deployment, plan: albPlan(), green: greenFleet },
      lambdaContext('shiftTraffic'),
    );

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      message: expect.stringContaining('(found: authenticate-cognito, forward)'),
    });
    expect(elbv2Mock.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });
});

describe('rollback-traffic in traffic.mode alb', () => {
  it('puts 100 on blue in one ModifyListener call', async () => {
    // Prepare
    listenerAt(50, 50);

    // Act
    const result = await rollbackTraffic(
      {
        ...deployment,
        plan: albPlan(),
        green: greenFleet,
        shift: step(1, 50, { a: 50, b: 50 }),
        failure: { Error: 'AlarmTriggered', Cause: 'alarm in ALARM: web-prod-5xx' },
      },
      lambdaContext('rollbackTraffic'),
    );

    // Assess
    expect(elbv2Mock.commandCalls(ModifyListenerCommand).map((c) => c.args[0].input)).toEqual([
      { ListenerArn: LISTENER, DefaultActions: forward(100, 0) },
    ]);
    expect(result).toMatchObject({ changed: true, weights: { a: 100, b: 0 }, dns: { status: 'INSYNC' } });
    // Green is left alone for the stickiness the plan read before it is drained.
    expect(result.leaveSeconds).toBe(STICKY.DurationSeconds);
  });

  it('waits out a stickiness someone lengthened since Plan before green is drained', async () => {
    // Prepare
    const longer = forward(50, 50).map((action) => ({
      ...action,
      ForwardConfig: {
        ...action.ForwardConfig,
        TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 },
      },
    }));
    listenerAt(50, 50, longer);

    // Act
    const result = await rollbackTraffic(
      {
        ...deployment,
        plan: albPlan(),
        green: greenFleet,
        shift: step(1, 50, { a: 50, b: 50 }),
        failure: { Error: 'TrafficDrift', Cause: 'someone else changed the listener' },
      },
      lambdaContext('rollbackTraffic'),
    );

    // Assess: the rollback still puts 100 on blue (the stickiness kept), and green waits an hour.
    const written = elbv2Mock.commandCalls(ModifyListenerCommand).map((c) => c.args[0].input.DefaultActions);
    expect(written).toHaveLength(1);
    expect(written[0]?.[0]?.ForwardConfig?.TargetGroupStickinessConfig).toEqual({
      Enabled: true,
      DurationSeconds: 3600,
    });
    expect(result).toMatchObject({ changed: true, weights: { a: 100, b: 0 }, leaveSeconds: 3600 });
  });
});

describe('check-dns-change in traffic.mode alb', () => {
  it('passes a listener change through as it is, asking AWS nothing', async () => {
    // Act
    const change = step(0, 10, { a: 90, b: 10 }).dns;
    const result = await checkDnsChange({ change }, lambdaContext('checkDnsChange'));

    // Assess
    expect(result).toEqual(change);
    expect(route53Mock.commandCalls(GetChangeCommand)).toHaveLength(0);
  });
});

describe('watch-alarms in traffic.mode alb', () => {
  it('lets a step be promoted from its write on: no resolver has to move', async () => {
    // Prepare
    dynamodbMock.on(PutItemCommand).resolves({});
    const shift = step(0, 10, { a: 90, b: 10 });

    // Act
    await watchAlarms(
      {
        token: 'AQCEAAAAKgAAAAMAAAAAAAAAAZ2x9cQ1uYp3WkbvOc1yRNbqZWbLdvrU7KkMa0Sc1Y3/EXAMPLE+alb==',
        deployment: { ...deployment, plan: albPlan(), green: greenFleet, shift },
        executionArn: `arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-sim-deploy:${deployment.deploymentId}`,
        seconds: 300,
      },
      lambdaContext('watchAlarms'),
    );

    // Assess
    const item = unmarshall(dynamodbMock.commandCalls(PutItemCommand)[0]?.args[0].input.Item ?? {});
    expect(item.promotableAt).toBe(shift.dns.syncedAt);
  });
});
