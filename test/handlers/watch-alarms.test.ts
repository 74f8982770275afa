import { DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/watch-alarms.ts';
import { freezeClock, mockAws } from './aws-mocks.ts';
import {
  awsError,
  BUCKET,
  CONFIG_KEY,
  CONFIG_VERSION_ID,
  config,
  DEPLOYMENT_ID,
  exampleConfigText,
  lambdaContext,
  mockPinnedConfig,
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

/**
 * The payload the state machine sends: where the pinned config is (whose alarms are watched, read
 * from S3 by its version) and the settle time of the step.
 */
function watching(alarms: string[] = config.alarms, seconds = 300) {
  mockPinnedConfig(s3Mock, JSON.stringify({ ...JSON.parse(exampleConfigText), alarms }));
  return {
    token: TOKEN,
    deploymentId: DEPLOYMENT_ID,
    config: { bucket: BUCKET, key: CONFIG_KEY, versionId: CONFIG_VERSION_ID },
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
  it('does nothing, storing no watch and asking nothing, when the deployment watches no alarm', async () => {
    // Prepare
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });

    // Act
    const result = await handler(watching([]), context);

    // Assess
    expect(result).toEqual({ watching: 0 });
    expect(dynamodbMock.calls()).toHaveLength(0);
    expect(cloudwatchMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('stores the watch under watch#<deployment id> with its task token and the alarm names', async () => {
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
      // 09:30:00 + the 300 s settle time + one day, in seconds since the epoch.
      ttl: Date.parse('2026-03-03T09:35:00.000Z') / 1000,
    });
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
