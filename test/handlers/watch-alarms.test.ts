import { DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { alarmedAtOf } from '#shared/domain/text.ts';
import type { DeploymentState, ShiftState, WindowState } from '#shared/domain/workflow.ts';
import { handler } from '../../functions/watch-alarms.ts';
import { freezeClock, mockAws } from './aws-mocks.ts';
import {
  awsError,
  config,
  DEPLOYMENT_ID,
  exampleConfigText,
  lambdaContext,
  mockPinnedConfig,
  planFor,
  STATE_MACHINE_ARN,
  stateWith,
  syncedChange,
} from './fixtures.ts';

const { cloudwatchMock, dynamodbMock, s3Mock, sfnMock } = mockAws();

// When the settle wait after the 10 % step starts.
freezeClock(new Date('2026-03-02T09:30:00.000Z'));
beforeEach(() => {
  dynamodbMock.on(PutItemCommand).resolves({});
  sfnMock.on(SendTaskFailureCommand).resolves({});
});

const context = lambdaContext('watchAlarms');
const TABLE = process.env.LOCKS_TABLE ?? '';
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAZ2x9cQ1uYp3WkbvOc1yRNbqZWbLdvrU7KkMa0Sc1Y3/EXAMPLE+watchalarms==';
const [ERRORS_ALARM = '', LATENCY_ALARM = ''] = config.alarms;

const EXECUTION_ARN = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${DEPLOYMENT_ID}`;

/** The first of three steps, 10 % on green, written at 09:29:00. */
const FIRST_STEP: ShiftState = {
  index: 0,
  percent: 10,
  weights: { a: 90, b: 10 },
  isLast: false,
  settleSeconds: 300,
  dns: syncedChange('2026-03-02T09:29:00.000Z'),
};

/**
 * The payload the state machine sends: the execution state the wait starts from (its plan says
 * where the pinned config is, whose alarms are watched, read from S3 by its version, and how many),
 * the execution, and how long the state waits.
 */
function watching(alarms: string[] = config.alarms, seconds = 300, extra: Partial<DeploymentState> = {}) {
  mockPinnedConfig(s3Mock, JSON.stringify({ ...JSON.parse(exampleConfigText), alarms }));
  const plan = { ...planFor(), alarmCount: alarms.length };
  return {
    token: TOKEN,
    deployment: stateWith({ plan, shift: FIRST_STEP, ...extra }),
    executionArn: EXECUTION_ARN,
    seconds,
  };
}

function metricAlarm(name: string, state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA', reason = ''): MetricAlarm {
  return {
    AlarmName: name,
    AlarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`,
    StateValue: state,
    StateReason: reason,
    Namespace: 'AWS/ApplicationELB',
    MetricName: name.endsWith('5xx') ? 'HTTPCode_Target_5XX_Count' : 'TargetResponseTime',
  };
}

const THRESHOLD_CROSSED =
  'Threshold Crossed: 1 out of the last 1 datapoints [42.0 (02/03/26 09:29:00)] was greater than the threshold (10.0).';

describe('watch-alarms', () => {
  it('stores the watch, for a promote to end, and reads no alarm when the deployment watches none', async () => {
    // Act
    const result = await handler(watching([]), context);

    // Assess
    expect(result).toEqual({ watching: 0 });
    const puts = dynamodbMock.commandCalls(PutItemCommand);
    expect(puts.map((c) => unmarshall(c.args[0].input.Item ?? {}))).toEqual([
      expect.objectContaining({ id: `watch#${DEPLOYMENT_ID}`, token: TOKEN, alarms: [] }),
    ]);
    expect(s3Mock.calls()).toHaveLength(0);
    expect(cloudwatchMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('stores the watch under watch#<deployment id> with its task token, the alarm names and the wait it is', async () => {
    // Prepare
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [metricAlarm(ERRORS_ALARM, 'OK'), metricAlarm(LATENCY_ALARM, 'OK')],
    });

    // Act
    await handler(watching(), context);

    // Assess
    const puts = dynamodbMock.commandCalls(PutItemCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]?.args[0].input.TableName).toBe(TABLE);
    expect(unmarshall(puts[0]?.args[0].input.Item ?? {})).toEqual({
      id: `watch#${DEPLOYMENT_ID}`,
      token: TOKEN,
      alarms: [ERRORS_ALARM, LATENCY_ALARM],
      wait: { kind: 'step', step: 1, of: 3, percent: 10 },
      executionArn: EXECUTION_ARN,
      endsAt: '2026-03-02T09:35:00.000Z',
      // The change records no INSYNC time: the wait (09:30:00) follows the DNS check, then the TTL.
      promotableAt: new Date(
        Date.parse('2026-03-02T09:30:00.000Z') + planFor().dns.ttlSeconds * 1000,
      ).toISOString(),
      // 09:30:00 + the 300 s settle time + one day, in seconds since the epoch.
      ttl: Date.parse('2026-03-03T09:35:00.000Z') / 1000,
    });
  });

  it('names the termination window as the wait once the window has begun', async () => {
    // Prepare
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [metricAlarm(ERRORS_ALARM, 'OK'), metricAlarm(LATENCY_ALARM, 'OK')],
    });
    const window: WindowState = {
      startedAt: '2026-03-02T09:25:00.000Z',
      endsAt: '2026-03-02T10:25:00.000Z',
      checks: 1,
      done: false,
      nextCheckSeconds: 300,
      checkedAt: '2026-03-02T09:30:00.000Z',
      summary: '3 of 3 green targets healthy',
    };

    // Act
    await handler(watching(config.alarms, 300, { window }), context);

    // Assess
    const item = unmarshall(dynamodbMock.commandCalls(PutItemCommand)[0]?.args[0].input.Item ?? {});
    expect(item.wait).toEqual({ kind: 'termination-window' });
  });

  it('stores the watch before it reads the alarms, so an alarm firing in between is not missed', async () => {
    // Prepare
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [metricAlarm(ERRORS_ALARM, 'OK'), metricAlarm(LATENCY_ALARM, 'OK')],
    });

    // Act
    await handler(watching(), context);

    // Assess
    const [put, read] = [
      dynamodbMock.commandCalls(PutItemCommand)[0],
      cloudwatchMock.commandCalls(DescribeAlarmsCommand)[0],
    ];
    if (!put || !read) throw new Error('expected one PutItem and one DescribeAlarms');
    expect(put.calledBefore(read)).toBe(true);
    expect(read.args[0].input).toEqual({
      AlarmNames: [ERRORS_ALARM, LATENCY_ALARM],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
  });

  it.each(['OK', 'INSUFFICIENT_DATA'] as const)(
    'keeps watching, failing nothing, while the watched alarms are %s',
    async (state) => {
      // Prepare
      cloudwatchMock.on(DescribeAlarmsCommand).resolves({
        MetricAlarms: [metricAlarm(ERRORS_ALARM, state), metricAlarm(LATENCY_ALARM, state)],
      });

      // Act
      const result = await handler(watching(), context);

      // Assess
      expect(result).toEqual({ watching: 2 });
      expect(sfnMock.calls()).toHaveLength(0);
    },
  );

  it('fails the wait at once with AlarmTriggered when a watched alarm is already in ALARM', async () => {
    // Prepare
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [metricAlarm(ERRORS_ALARM, 'ALARM', THRESHOLD_CROSSED), metricAlarm(LATENCY_ALARM, 'OK')],
    });

    // Act
    const result = await handler(watching(), context);

    // Assess
    expect(result).toEqual({ watching: 0 });
    expect(sfnMock.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
      {
        taskToken: TOKEN,
        error: 'AlarmTriggered',
        cause: `alarm in ALARM: "${ERRORS_ALARM}" ("${THRESHOLD_CROSSED}")`,
      },
    ]);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('names every alarm in ALARM, composite ones too, in the one failure it sends', async () => {
    // Prepare
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [metricAlarm(ERRORS_ALARM, 'ALARM', THRESHOLD_CROSSED)],
      CompositeAlarms: [{ AlarmName: LATENCY_ALARM, StateValue: 'ALARM', StateReason: '' }],
    });

    // Act
    await handler(watching(), context);

    // Assess
    const failures = sfnMock.commandCalls(SendTaskFailureCommand);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.args[0].input).toMatchObject({
      error: 'AlarmTriggered',
      cause: `alarm in ALARM: "${ERRORS_ALARM}" ("${THRESHOLD_CROSSED}"), "${LATENCY_ALARM}" (no reason)`,
    });
  });

  it('keeps the cause within the 32,768 characters Step Functions accepts', async () => {
    // Prepare
    const names = Array.from({ length: 40 }, (_, i) => `web-prod-check-${String(i).padStart(2, '0')}`);
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: names.map((name) => metricAlarm(name, 'ALARM', `${THRESHOLD_CROSSED} `.repeat(9))),
    });

    // Act
    await handler(watching(names), context);

    // Assess
    const cause = sfnMock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.cause ?? '';
    expect(cause).toHaveLength(32_768);
    expect(cause.startsWith(`alarm in ALARM: "${names[0]}" (`)).toBe(true);
  });

  it('keeps the earliest alarm and its time in a cause cut to 32,768 characters', async () => {
    // Prepare: 40 alarms in ALARM, listed by name; the last one listed went into ALARM first.
    const names = Array.from({ length: 40 }, (_, i) => `web-prod-check-${String(i).padStart(2, '0')}`);
    const since = (i: number) =>
      new Date(Date.parse('2026-03-02T09:29:50.000Z') - (i === 39 ? 600_000 : i * 1000));
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: names.map((name, i) => ({
        ...metricAlarm(name, 'ALARM', `${THRESHOLD_CROSSED} `.repeat(9)),
        StateTransitionedTimestamp: since(i),
      })),
    });

    // Act
    await handler(watching(names), context);

    // Assess
    const cause = sfnMock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.cause ?? '';
    expect(cause).toHaveLength(32_768);
    expect(alarmedAtOf(cause)).toBe('2026-03-02T09:19:50.000Z');
    expect(
      cause.startsWith(`alarm in ALARM: "${names[39]}" (in ALARM since 2026-03-02T09:19:50.000Z: `),
    ).toBe(true);
  });

  it('reads no alarm and fails no wait when the watch cannot be stored', async () => {
    // Prepare
    dynamodbMock
      .on(PutItemCommand)
      .rejects(awsError('ThrottlingException', 'Rate of requests exceeds the allowed throughput.', 400));
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [metricAlarm(ERRORS_ALARM, 'ALARM', THRESHOLD_CROSSED)],
    });

    // Act
    const run = handler(watching(), context);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'AwsThrottled' });
    expect(cloudwatchMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});
