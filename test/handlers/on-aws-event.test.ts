import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler } from '../../functions/on-aws-event.ts';
import { expectFailure } from '../support/failures.ts';
import { mockAws } from './aws-mocks.ts';
import { awsError, config, DEPLOYMENT_ID, lambdaContext } from './fixtures.ts';

const { dynamodbMock, sfnMock } = mockAws();

const context = lambdaContext('onAwsEvent');
const TABLE = process.env.LOCKS_TABLE ?? '';
const BUILD_ARN = 'arn:aws:imagebuilder:us-east-1:123456789012:image/bluegreen-web-prod-5d1c0b2f9a8e/1.0.0/1';
const OTHER_BUILD_ARN =
  'arn:aws:imagebuilder:us-east-1:123456789012:image/bluegreen-api-prod-9e8d7c6b5a41/1.0.0/1';
const [ERRORS_ALARM = ''] = config.alarms;
const THRESHOLD_CROSSED =
  'Threshold Crossed: 1 out of the last 1 datapoints [42.0 (02/03/26 09:29:00)] was greater than the threshold (10.0).';

/** Task tokens of the executions parked on a wait (opaque to the service). */
const BAKE_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAV8u4dBDqAfpWkbvOc1yRNbqZWbLdvrU7KkMa0Sc1Y3/EXAMPLE+bake==';
const WEB_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAZ2x9cQ1uYp3WkbvOc1yRNbqZWbLdvrU7KkMa0Sc1Y3/EXAMPLE+web==';
const API_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAc7d1e2f3a4b5WkbvOc1yRNbqZWbLdvrU7KkMa0Sc1Y3/EXAMPLE+api==';
const STALE_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAd9e8f7a6b5c4WkbvOc1yRNbqZWbLdvrU7KkMa0Sc1Y3/EXAMPLE+old==';
const API_DEPLOYMENT_ID = 'api-prod-2_4_0-7f3e2d1c0b';
const OLD_DEPLOYMENT_ID = 'web-staging-1_0_9-0a9b8c7d6e';

type AwsEvent = Parameters<typeof handler>[0];

function deliver(event: EventBridgeEvent<string, unknown>) {
  return handler(event as AwsEvent, context);
}

/** Image Builder's event as EventBridge delivers it. */
function imageStateChange(status: string, arn = BUILD_ARN): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': 'EC2 Image Builder Image State Change',
    source: 'aws.imagebuilder',
    account: '123456789012',
    time: '2026-03-02T09:21:44Z',
    region: 'us-east-1',
    resources: [arn],
    detail: { 'previous-state': { status: 'DISTRIBUTING' }, state: { status } },
  };
}

/** CloudWatch's event for an alarm changing state, as EventBridge delivers it. */
function alarmStateChange(value: string, alarmName = ERRORS_ALARM): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: '2026-03-02T09:33:05Z',
    region: 'us-east-1',
    resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: { value, reason: THRESHOLD_CROSSED, timestamp: '2026-03-02T09:33:05.123+0000' },
      previousState: { value: 'OK', reason: 'Threshold Crossed: no datapoints were greater than 10.0.' },
      configuration: { metrics: [] },
    },
  };
}

function bakeWait() {
  return marshall({ id: `bake#${BUILD_ARN}`, token: BAKE_TOKEN, ttl: 1_772_529_320 });
}

function alarmWatch(deploymentId: string, token: string, alarms: string[]) {
  return marshall({ id: `watch#${deploymentId}`, token, alarms, ttl: 1_772_529_600 });
}

const gone = {
  TaskTimedOut: () => new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }),
  InvalidToken: () => new InvalidToken({ message: 'Invalid Token', $metadata: {} }),
};

describe('on-aws-event: Image Builder image state changes', () => {
  it.each(['AVAILABLE', 'FAILED', 'CANCELLED'])(
    'resumes the bake wait of the build with its final status %s',
    async (status) => {
      // Prepare
      dynamodbMock.on(GetItemCommand).resolves({ Item: bakeWait() });
      sfnMock.on(SendTaskSuccessCommand).resolves({});

      // Act
      const result = await deliver(imageStateChange(status));

      // Assess
      const reads = dynamodbMock.commandCalls(GetItemCommand).map((c) => c.args[0].input);
      expect(reads).toHaveLength(1);
      expect(reads[0]?.TableName).toBe(TABLE);
      expect(reads[0]?.ConsistentRead).toBe(true);
      expect(unmarshall(reads[0]?.Key ?? {})).toEqual({ id: `bake#${BUILD_ARN}` });
      expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
        { taskToken: BAKE_TOKEN, output: JSON.stringify({ status }) },
      ]);
      expect(sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
      expect(result).toEqual({ resumed: 1 });
    },
  );

  it('does nothing for an image nobody waits for', async () => {
    // Prepare
    dynamodbMock.on(GetItemCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).resolves({});

    // Act
    const result = await deliver(imageStateChange('AVAILABLE', OTHER_BUILD_ARN));

    // Assess
    expect(unmarshall(dynamodbMock.commandCalls(GetItemCommand)[0]?.args[0].input.Key ?? {})).toEqual({
      id: `bake#${OTHER_BUILD_ARN}`,
    });
    expect(sfnMock.calls()).toHaveLength(0);
    expect(result).toEqual({ resumed: 0 });
  });

  it.each(['PENDING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING'])(
    'does nothing, not even looking for a wait, when the build is only %s',
    async (status) => {
      // Prepare
      dynamodbMock.on(GetItemCommand).resolves({ Item: bakeWait() });
      sfnMock.on(SendTaskSuccessCommand).resolves({});

      // Act
      const result = await deliver(imageStateChange(status));

      // Assess
      expect(dynamodbMock.calls()).toHaveLength(0);
      expect(sfnMock.calls()).toHaveLength(0);
      expect(result).toEqual({ resumed: 0 });
    },
  );

  it.each(Object.keys(gone) as (keyof typeof gone)[])(
    'ignores a bake wait Step Functions no longer knows (%s) instead of failing',
    async (name) => {
      // Prepare: the wait timed out and the state machine polled on, or the task resumed itself.
      dynamodbMock.on(GetItemCommand).resolves({ Item: bakeWait() });
      sfnMock.on(SendTaskSuccessCommand).rejects(gone[name]());

      // Act
      const result = await deliver(imageStateChange('AVAILABLE'));

      // Assess
      expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
      expect(result).toEqual({ resumed: 0 });
    },
  );

  it('resumes the wait once when EventBridge delivers the same event twice', async () => {
    // Prepare
    dynamodbMock.on(GetItemCommand).resolves({ Item: bakeWait() });
    sfnMock.on(SendTaskSuccessCommand).resolvesOnce({}).rejects(gone.InvalidToken());

    // Act
    const first = await deliver(imageStateChange('AVAILABLE'));
    const second = await deliver(imageStateChange('AVAILABLE'));

    // Assess
    expect(first).toEqual({ resumed: 1 });
    expect(second).toEqual({ resumed: 0 });
  });

  it('fails, so that the event is delivered again, when Step Functions cannot be reached', async () => {
    // Prepare
    dynamodbMock.on(GetItemCommand).resolves({ Item: bakeWait() });
    sfnMock.on(SendTaskSuccessCommand).rejects(awsError('ServiceUnavailable', 'Service Unavailable', 503));

    // Act
    const run = deliver(imageStateChange('AVAILABLE'));

    // Assess
    await expectFailure(run, 'AwsTransient', 'ServiceUnavailable');
  });
});

describe('on-aws-event: CloudWatch alarm state changes', () => {
  it('fails the watch of every deployment watching the alarm with AlarmTriggered', async () => {
    // Prepare: two deployments watch the alarm, the second one on the scan's second page.
    dynamodbMock
      .on(ScanCommand)
      .resolvesOnce({
        Items: [alarmWatch(DEPLOYMENT_ID, WEB_TOKEN, config.alarms)],
        LastEvaluatedKey: marshall({ id: `watch#${DEPLOYMENT_ID}` }),
      })
      .resolvesOnce({ Items: [alarmWatch(API_DEPLOYMENT_ID, API_TOKEN, [ERRORS_ALARM])] });
    sfnMock.on(SendTaskFailureCommand).resolves({});

    // Act
    const result = await deliver(alarmStateChange('ALARM'));

    // Assess
    // With when it went into ALARM (the event's state timestamp), which the rollback records.
    const cause = `alarm in ALARM: "${ERRORS_ALARM}" (in ALARM since 2026-03-02T09:33:05.123Z: "${THRESHOLD_CROSSED}")`;
    expect(sfnMock.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: WEB_TOKEN, error: 'AlarmTriggered', cause },
      { taskToken: API_TOKEN, error: 'AlarmTriggered', cause },
    ]);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(result).toEqual({ resumed: 2 });
  });

  it("names the event's time as when the alarm went into ALARM when its state has no timestamp", async () => {
    // Prepare
    dynamodbMock.on(ScanCommand).resolves({ Items: [alarmWatch(DEPLOYMENT_ID, WEB_TOKEN, [ERRORS_ALARM])] });
    sfnMock.on(SendTaskFailureCommand).resolves({});
    const event = alarmStateChange('ALARM') as EventBridgeEvent<string, { state: Record<string, unknown> }>;
    delete event.detail.state.timestamp;

    // Act
    await deliver(event);

    // Assess
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.cause).toBe(
      `alarm in ALARM: "${ERRORS_ALARM}" (in ALARM since 2026-03-02T09:33:05.000Z: "${THRESHOLD_CROSSED}")`,
    );
  });

  it('looks only for watches that name the alarm, page after page', async () => {
    // Prepare
    const next = marshall({ id: `watch#${DEPLOYMENT_ID}` });
    dynamodbMock
      .on(ScanCommand)
      .resolvesOnce({ Items: [], LastEvaluatedKey: next })
      .resolvesOnce({ Items: [] });

    // Act
    const result = await deliver(alarmStateChange('ALARM'));

    // Assess
    const scans = dynamodbMock.commandCalls(ScanCommand).map((c) => c.args[0].input);
    expect(scans).toHaveLength(2);
    for (const scan of scans) {
      expect(scan.TableName).toBe(TABLE);
      expect(scan.FilterExpression).toBe('begins_with(id, :prefix) AND contains(alarms, :alarm)');
      expect(unmarshall(scan.ExpressionAttributeValues ?? {})).toEqual({
        ':prefix': 'watch#',
        ':alarm': ERRORS_ALARM,
      });
    }
    expect(scans[0]?.ExclusiveStartKey).toBeUndefined();
    expect(scans[1]?.ExclusiveStartKey).toEqual(next);
    expect(sfnMock.calls()).toHaveLength(0);
    expect(result).toEqual({ resumed: 0 });
  });

  it('ignores the watches Step Functions no longer knows and still fails the others', async () => {
    // Prepare: an old watch whose wait timed out long ago, and one whose execution ended.
    dynamodbMock.on(ScanCommand).resolves({
      Items: [
        alarmWatch(OLD_DEPLOYMENT_ID, STALE_TOKEN, [ERRORS_ALARM]),
        alarmWatch(API_DEPLOYMENT_ID, API_TOKEN, [ERRORS_ALARM]),
        alarmWatch(DEPLOYMENT_ID, WEB_TOKEN, config.alarms),
      ],
    });
    sfnMock.on(SendTaskFailureCommand).resolves({});
    sfnMock.on(SendTaskFailureCommand, { taskToken: STALE_TOKEN }).rejects(gone.TaskTimedOut());
    sfnMock.on(SendTaskFailureCommand, { taskToken: API_TOKEN }).rejects(gone.InvalidToken());

    // Act
    const result = await deliver(alarmStateChange('ALARM'));

    // Assess
    expect(sfnMock.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input.taskToken)).toEqual([
      STALE_TOKEN,
      API_TOKEN,
      WEB_TOKEN,
    ]);
    expect(result).toEqual({ resumed: 1 });
  });

  it.each(['OK', 'INSUFFICIENT_DATA'])('does nothing when the alarm goes to %s', async (value) => {
    // Prepare
    dynamodbMock.on(ScanCommand).resolves({ Items: [alarmWatch(DEPLOYMENT_ID, WEB_TOKEN, config.alarms)] });
    sfnMock.on(SendTaskFailureCommand).resolves({});

    // Act
    const result = await deliver(alarmStateChange(value));

    // Assess
    expect(dynamodbMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
    expect(result).toEqual({ resumed: 0 });
  });

  it('fails, so that the event is delivered again, when Step Functions cannot be reached', async () => {
    // Prepare
    dynamodbMock.on(ScanCommand).resolves({ Items: [alarmWatch(DEPLOYMENT_ID, WEB_TOKEN, config.alarms)] });
    sfnMock.on(SendTaskFailureCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));

    // Act
    const run = deliver(alarmStateChange('ALARM'));

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'AwsThrottled' });
  });
});

describe('on-aws-event: other events', () => {
  it('does nothing with an event from another source', async () => {
    // Prepare
    dynamodbMock.on(GetItemCommand).resolves({ Item: bakeWait() });
    dynamodbMock.on(ScanCommand).resolves({ Items: [alarmWatch(DEPLOYMENT_ID, WEB_TOKEN, config.alarms)] });
    const event = {
      ...imageStateChange('AVAILABLE'),
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
    };

    // Act
    const result = await deliver(event);

    // Assess
    expect(dynamodbMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
    expect(result).toEqual({ resumed: 0 });
  });
});
