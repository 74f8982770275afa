import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetImageCommand, type GetImageCommandOutput } from '@aws-sdk/client-imagebuilder';
import { InvalidToken, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/redrive-waits.ts';
import { REDRIVE_PAUSE_SECONDS, redriveWaits } from '../../shared/tasks/redrive-waits.ts';
import { freezeClock, mockAws } from './aws-mocks.ts';
import { AMI_ID, awsError, DEPLOYMENT_ID, lambdaContext } from './fixtures.ts';

const { cloudwatchMock, dynamodbMock, imagebuilderMock, sfnMock } = mockAws();

// A minute of the schedule, in the middle of a deployment.
const NOW = freezeClock(new Date('2026-03-02T09:30:00.000Z'));
const NOW_S = NOW.getTime() / 1000;
beforeEach(() => {
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  sfnMock.on(SendTaskFailureCommand).resolves({});
});

const context = lambdaContext('redriveWaits');
const TABLE = process.env.LOCKS_TABLE ?? '';
const BUILD_ARN = 'arn:aws:imagebuilder:us-east-1:123456789012:image/bluegreen-web-prod-5d1c0b2f9a8e/1.0.0/1';
const OTHER_BUILD_ARN =
  'arn:aws:imagebuilder:us-east-1:123456789012:image/bluegreen-api-prod-9e8d7c6b5a41/1.0.0/1';
const BAKE_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAV8u4dBDqAfpWkbvOc1yRNbqZWbLdvrU7KkMa0Sc1Y3/EXAMPLE+bake==';
const OTHER_BAKE_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAV8u4dBDqAfpWkbvOc1yRNbqZWbLdvrU7KkMa0Sc1Y3/EXAMPLE+api==';
const WATCH_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAZ2x9cQ1uYp3WkbvOc1yRNbqZWbLdvrU7KkMa0Sc1Y3/EXAMPLE+web==';
const QUIET_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAc7d1e2f3a4b5WkbvOc1yRNbqZWbLdvrU7KkMa0Sc1Y3/EXAMPLE+quiet==';
const ERRORS = 'web-prod-5xx';
const LATENCY = 'web-prod-p99';
const QUIET_DEPLOYMENT_ID = 'api-prod-2_4_0-7f3e2d1c0b';

function bakeWait(arn = BUILD_ARN, token = BAKE_TOKEN) {
  return marshall({ id: `bake#${arn}`, token, ttl: NOW_S + 300 + 86_400 });
}

function alarmWatch(deploymentId: string, token: string, alarms: string[]) {
  return marshall({
    id: `watch#${deploymentId}`,
    token,
    alarms,
    ttl: NOW_S + 200 + 86_400,
    endsAt: new Date(NOW.getTime() + 200_000).toISOString(),
  });
}

type ImageState = NonNullable<NonNullable<GetImageCommandOutput['image']>['state']>['status'];

function image(status: ImageState): GetImageCommandOutput {
  return {
    $metadata: {},
    image: {
      arn: BUILD_ARN,
      state: { status },
      ...(status === 'AVAILABLE'
        ? { outputResources: { amis: [{ region: 'us-east-1', image: AMI_ID, accountId: '123456789012' }] } }
        : {}),
    },
  };
}

const ALARM_SINCE = new Date('2026-03-02T09:29:41.000Z');

describe('redrive-waits: the scheduled fallback for lost AWS events', () => {
  it('reads the live waits, every page, skipping what is not a wait', async () => {
    // Prepare
    dynamodbMock
      .on(ScanCommand)
      .resolvesOnce({
        Items: [marshall({ id: 'lock#web#prod', owner: 'x', ttl: NOW_S + 90_000 })],
        LastEvaluatedKey: marshall({ id: 'lock#web#prod' }),
      })
      .resolvesOnce({ Items: [bakeWait()] });
    imagebuilderMock.on(GetImageCommand).resolves(image('BUILDING'));

    // Act
    const report = await redriveWaits(TABLE, 1);

    // Assess
    const scans = dynamodbMock.commandCalls(ScanCommand).map((c) => c.args[0].input);
    expect(scans).toHaveLength(2);
    expect(scans[0]).toMatchObject({
      TableName: TABLE,
      FilterExpression: '#ttl > :ttl',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
    });
    // A wait stored now with no time left would expire a day from now: live ones expire later.
    expect(unmarshall(scans[0]?.ExpressionAttributeValues ?? {})).toEqual({ ':ttl': NOW_S + 86_400 });
    expect(scans[1]?.ExclusiveStartKey).toEqual(marshall({ id: 'lock#web#prod' }));
    expect(imagebuilderMock.commandCalls(GetImageCommand)).toHaveLength(1);
    expect(sfnMock.calls()).toHaveLength(0);
    expect(report).toEqual({ checked: 1, resumed: 0, failed: 0 });
  });

  it('resumes a bake wait whose build ended, with its status, and leaves a running build alone', async () => {
    // Prepare
    dynamodbMock
      .on(ScanCommand)
      .resolves({ Items: [bakeWait(), bakeWait(OTHER_BUILD_ARN, OTHER_BAKE_TOKEN)] });
    imagebuilderMock
      .on(GetImageCommand, { imageBuildVersionArn: BUILD_ARN })
      .resolves(image('AVAILABLE'))
      .on(GetImageCommand, { imageBuildVersionArn: OTHER_BUILD_ARN })
      .resolves(image('TESTING'));

    // Act
    const report = await redriveWaits(TABLE, 1);

    // Assess
    expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: BAKE_TOKEN, output: JSON.stringify({ status: 'AVAILABLE' }) },
    ]);
    expect(report).toEqual({ checked: 2, resumed: 1, failed: 0 });
  });

  it('fails each watch with a watched alarm in ALARM, reading every alarm once', async () => {
    // Prepare
    dynamodbMock.on(ScanCommand).resolves({
      Items: [
        alarmWatch(DEPLOYMENT_ID, WATCH_TOKEN, [ERRORS, LATENCY]),
        alarmWatch(QUIET_DEPLOYMENT_ID, QUIET_TOKEN, [LATENCY]),
        // A wait with no alarm to watch: nothing to read for it.
        alarmWatch('web-staging-1_0_9-0a9b8c7d6e', 'unused', []),
      ],
    });
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: ERRORS,
          StateValue: 'ALARM',
          StateReason: 'Threshold Crossed: 5xx 4.2 %',
          StateTransitionedTimestamp: ALARM_SINCE,
        },
        { AlarmName: LATENCY, StateValue: 'OK', StateReason: 'fine' },
      ],
    });

    // Act
    const report = await redriveWaits(TABLE, 1);

    // Assess
    const reads = cloudwatchMock.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
    expect(reads).toHaveLength(1);
    expect(reads[0]?.AlarmNames).toEqual([ERRORS, LATENCY]);
    const failures = sfnMock.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ taskToken: WATCH_TOKEN, error: 'AlarmTriggered' });
    expect(failures[0]?.cause).toContain(`"${ERRORS}"`);
    expect(failures[0]?.cause).toContain('Threshold Crossed: 5xx 4.2 %');
    expect(failures[0]?.cause).not.toContain(LATENCY);
    expect(report).toEqual({ checked: 1, resumed: 1, failed: 0 });
  });

  it('counts a wait that already ended (its token gone) as not resumed, without failing', async () => {
    // Prepare: the event did arrive, or the wait timed out and the state machine went on.
    dynamodbMock.on(ScanCommand).resolves({ Items: [bakeWait()] });
    imagebuilderMock.on(GetImageCommand).resolves(image('FAILED'));
    sfnMock.on(SendTaskSuccessCommand).rejects(new InvalidToken({ message: 'Invalid Token', $metadata: {} }));

    // Act
    const report = await redriveWaits(TABLE, 1);

    // Assess
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect(report).toEqual({ checked: 1, resumed: 0, failed: 0 });
  });

  it('goes on with the other waits when one cannot be checked', async () => {
    // Prepare
    dynamodbMock
      .on(ScanCommand)
      .resolves({ Items: [bakeWait(), bakeWait(OTHER_BUILD_ARN, OTHER_BAKE_TOKEN)] });
    imagebuilderMock
      .on(GetImageCommand, { imageBuildVersionArn: BUILD_ARN })
      .rejects(awsError('ServiceUnavailable', 'Service Unavailable', 503))
      .on(GetImageCommand, { imageBuildVersionArn: OTHER_BUILD_ARN })
      .resolves(image('AVAILABLE'));

    // Act
    const report = await redriveWaits(TABLE, 1);

    // Assess
    expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken)).toEqual([
      OTHER_BAKE_TOKEN,
    ]);
    expect(report).toEqual({ checked: 2, resumed: 1, failed: 1 });
  });

  it('looks once and returns when nothing is parked', async () => {
    // Prepare
    dynamodbMock.on(ScanCommand).resolves({ Items: [] });

    // Act (real timers for the pause: it would take 30 s if it were made)
    const report = await handler({}, context);

    // Assess
    expect(dynamodbMock.commandCalls(ScanCommand)).toHaveLength(1);
    expect(report).toEqual({ checked: 0, resumed: 0, failed: 0 });
  });

  it('looks again half a minute later while a wait is parked, resuming what ended since', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout'] });
    vi.setSystemTime(NOW);
    dynamodbMock.on(ScanCommand).resolves({ Items: [bakeWait()] });
    imagebuilderMock.on(GetImageCommand).resolvesOnce(image('DISTRIBUTING')).resolves(image('AVAILABLE'));

    // Act
    const run = handler({}, context);
    await vi.advanceTimersByTimeAsync(REDRIVE_PAUSE_SECONDS * 1000);
    const report = await run;

    // Assess
    expect(dynamodbMock.commandCalls(ScanCommand)).toHaveLength(2);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: BAKE_TOKEN, output: JSON.stringify({ status: 'AVAILABLE' }) },
    ]);
    expect(report).toEqual({ checked: 2, resumed: 1, failed: 0 });
  });
});

describe('the scan of the live waits', () => {
  it('reads every page, and gives up past 100 pages (DynamoDB misbehaving, not a larger table)', async () => {
    // Prepare: every page says there is another.
    dynamodbMock.on(ScanCommand).resolves({ Items: [], LastEvaluatedKey: marshall({ id: 'lock#web/prod' }) });

    // Act
    const run = redriveWaits(TABLE, 1);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'LoopBoundExceeded' });
    expect(dynamodbMock.commandCalls(ScanCommand)).toHaveLength(100);
  });
});
