import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/start-deployment.ts';
import { mockAws } from './aws-mocks.ts';
import {
  awsError,
  BUCKET,
  ETAG,
  KEY,
  lambdaContext,
  s3Record as record,
  SIZE,
  STATE_MACHINE_ARN,
  VERSION_ID,
} from './fixtures.ts';

const { sfnMock, s3Mock, snsMock, dynamodbMock } = mockAws();

beforeEach(() => {
  // The app/env has a config; an ignored upload is told (its record written, its message sent).
  s3Mock.on(HeadObjectCommand).resolves({ VersionId: 'config-version-1' });
  snsMock.on(PublishCommand).resolves({ MessageId: 'message-1' });
  dynamodbMock.on(PutItemCommand).resolves({});
});

const context = lambdaContext('startDeployment');
const EXECUTION_NAME = /^web-prod-1_1_0-[0-9a-f]{10}$/;

function s3Event(...records: S3EventRecord[]): S3Event {
  return { Records: records };
}

function notStarted(executionArn: string) {
  return new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: {} });
}

/** The delivery started nothing and counted one duplicate: the execution of this release. */
function expectOneDuplicate(result: Awaited<ReturnType<typeof handler>>): void {
  expect(result.started).toEqual([]);
  expect(result.duplicates).toHaveLength(1);
  expect(result.duplicates[0]).toMatch(EXECUTION_NAME);
}

describe('start-deployment', () => {
  it('starts one execution named after the release, with the artifact as its input', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).rejects(notStarted('arn'));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });

    // Act
    const result = await handler(s3Event(record(KEY)), context);

    // Assess
    const starts = sfnMock.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    const sent = starts[0]?.args[0].input;
    expect(sent?.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(sent?.name).toMatch(EXECUTION_NAME);
    expect(JSON.parse(sent?.input ?? '{}')).toEqual({
      deploymentId: sent?.name,
      app: 'web',
      env: 'prod',
      version: '1.1.0',
      format: 'zip',
      uploadedAt: '2026-03-02T09:00:00.000Z',
      deliveryId: context.awsRequestId,
      uploadedBy: 'AWS:AIDAEXAMPLECI',
      artifact: { bucket: BUCKET, key: KEY, versionId: VERSION_ID, eTag: ETAG, size: SIZE },
    });
    expect(result).toEqual({ started: [sent?.name], duplicates: [], ignored: [] });
  });

  it('leaves out an uploader that is no principal S3 would name, and starts the deployment all the same', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).rejects(notStarted('arn'));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
    const hostile = { ...record(KEY), userIdentity: { principalId: 'AWS:AIDA\nApproved by <b>ops</b>' } };

    // Act
    const result = await handler(s3Event(hostile), context);

    // Assess
    const sent = JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(result.started).toHaveLength(1);
    expect(sent).not.toHaveProperty('uploadedBy');
  });

  it('orders an upload whose event time is ahead of its receipt by when it was received', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).rejects(notStarted('arn'));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-02T09:00:05.000Z'));
    const ahead = { ...record(KEY), eventTime: '2026-03-02T12:00:00.000Z' };

    // Act
    try {
      await handler(s3Event(ahead), context);
    } finally {
      vi.useRealTimers();
    }

    // Assess
    const sent = JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(sent.uploadedAt).toBe('2026-03-02T09:00:05.000Z');
  });

  it('gives a different object version of the same key its own execution name', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).rejects(notStarted('arn'));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });

    // Act
    const first = await handler(s3Event(record(KEY)), context);
    const second = await handler(s3Event(record(KEY, { versionId: 'UIORUnfndfhnw89493jJFJ.Ihn2' })), context);

    // Assess
    expect(first.started[0]).toMatch(EXECUTION_NAME);
    expect(second.started[0]).toMatch(EXECUTION_NAME);
    expect(second.started[0]).not.toBe(first.started[0]);
  });

  it('starts nothing for a duplicate delivery whose execution already exists', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate: new Date() });

    // Act
    const result = await handler(s3Event(record(KEY)), context);

    // Assess
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expectOneDuplicate(result);
  });

  it('looks the execution up by its ARN and starts it when Step Functions says it does not exist', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).rejects(notStarted('arn'));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });

    // Act
    const result = await handler(s3Event(record(KEY)), context);

    // Assess
    const name = result.started[0] ?? '';
    expect(name).toMatch(EXECUTION_NAME);
    const lookups = sfnMock.commandCalls(DescribeExecutionCommand);
    expect(lookups).toHaveLength(1);
    expect(lookups[0]?.args[0].input).toEqual({
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-sim-deploy:${name}`,
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('counts a delivery that lost the race to start the same execution as a duplicate, not an error', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).rejects(notStarted('arn'));
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));

    // Act
    const result = await handler(s3Event(record(KEY)), context);

    // Assess
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expectOneDuplicate(result);
  });

  it('fails the invocation when Step Functions refuses the lookup for another reason', async () => {
    // Prepare
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized to perform states:DescribeExecution', 400));

    // Act
    const run = handler(s3Event(record(KEY)), context);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it.each([
    ['an app name with a space', 'releases/Web+App/prod/1.zip', /app "Web App"/],
    ['broken percent-encoding', 'releases/web/prod/%E0%A4%A.zip', /not valid URL encoding/],
    ['a key outside releases/', 'uploads/web/prod/1.1.0.zip', /is not under releases\//],
    ['a path that climbs out of the app folder', 'releases/web/prod/../../config/web/prod.zip', /segments/],
    ['an unsupported file type', 'releases/web/prod/1.1.0.zip.exe', /must end in \.zip or \.tar\.gz/],
  ])(
    'ignores an upload with %s, says why, and calls Step Functions not at all',
    async (_what, key, reason) => {
      // Prepare
      sfnMock.on(DescribeExecutionCommand).rejects(notStarted('arn'));

      // Act
      const result = await handler(s3Event(record(key)), context);

      // Assess
      expect(result.started).toEqual([]);
      expect(result.duplicates).toEqual([]);
      expect(result.ignored).toEqual([{ key, reason: expect.stringMatching(reason) }]);
      expect(sfnMock.calls()).toHaveLength(0);
    },
  );

  it('starts the good release of a batch and ignores the bad key next to it', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).rejects(notStarted('arn'));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });

    // Act
    const result = await handler(s3Event(record('releases/Web+App/prod/1.zip'), record(KEY)), context);

    // Assess
    expect(result.started).toHaveLength(1);
    expect(result.ignored.map((i) => i.key)).toEqual(['releases/Web+App/prod/1.zip']);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('does nothing for the s3:TestEvent S3 sends when notifications are configured', async () => {
    // Prepare
    const testEvent = {
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '2026-03-02T08:59:00.000Z',
      Bucket: BUCKET,
      RequestId: 'A47D0F7B8DFB8A5B',
      HostId: 'xmfAsTeMZ8Z9iDcP2oHoi0ZQeh3dUEvMgVK6bGnLIUZvuvV6TbEOtMSBWAUtMc3LakLMiKL0TXg=',
    } as unknown as S3Event;

    // Act
    const result = await handler(testEvent, context);

    // Assess
    expect(result).toEqual({ started: [], duplicates: [], ignored: [] });
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('does nothing for an event with an empty Records list', async () => {
    // Act
    const result = await handler({ Records: [] }, context);

    // Assess
    expect(result).toEqual({ started: [], duplicates: [], ignored: [] });
    expect(sfnMock.calls()).toHaveLength(0);
  });
});
