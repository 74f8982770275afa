import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetImageCommand, type GetImageCommandOutput } from '@aws-sdk/client-imagebuilder';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/await-bake.ts';
import { expectFailure } from '../support/failures.ts';
import { freezeClock, mockAws } from './aws-mocks.ts';
import { AMI_ID, awsError, lambdaContext } from './fixtures.ts';

const { dynamodbMock, imagebuilderMock, sfnMock } = mockAws();

// When the "Wait for the AMI bake" state invokes the task.
freezeClock(new Date('2026-03-02T09:00:20.000Z'));
beforeEach(() => {
  dynamodbMock.on(PutItemCommand).resolves({});
  sfnMock.on(SendTaskSuccessCommand).resolves({});
});

const context = lambdaContext('awaitBake');
const TABLE = process.env.LOCKS_TABLE ?? '';
const BUILD_ARN = 'arn:aws:imagebuilder:us-east-1:123456789012:image/bluegreen-web-prod-5d1c0b2f9a8e/1.0.0/1';
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAV8u4dBDqAfpWkbvOc1yRNbqZWbLdvrU7KkMa0Sc1Y3/EXAMPLE+awaitbake==';

/** The payload the state machine sends (it also passes its fallback timeout, which the task ignores). */
const request = { token: TOKEN, imageBuildVersionArn: BUILD_ARN, seconds: 900 };

type ImageState = NonNullable<NonNullable<GetImageCommandOutput['image']>['state']>['status'];

function image(status: ImageState): GetImageCommandOutput {
  return {
    $metadata: {},
    requestId: 'b3a1c2d4-0000-4000-8000-000000000002',
    image: {
      arn: BUILD_ARN,
      name: 'bluegreen-web-prod-5d1c0b2f9a8e',
      version: '1.0.0/1',
      state: { status },
      ...(status === 'AVAILABLE'
        ? {
            outputResources: {
              amis: [{ region: 'us-east-1', image: AMI_ID, accountId: '123456789012', name: 'web 1.1.0' }],
            },
          }
        : {}),
    },
  };
}

describe('await-bake', () => {
  it('stores the wait under bake#<build ARN> with its task token, expiring a day after the fallback', async () => {
    // Prepare
    imagebuilderMock.on(GetImageCommand).resolves(image('BUILDING'));

    // Act
    await handler(request, context);

    // Assess
    const puts = dynamodbMock.commandCalls(PutItemCommand);
    expect(puts).toHaveLength(1);
    const put = puts[0]?.args[0].input;
    expect(put?.TableName).toBe(TABLE);
    expect(put?.ConditionExpression).toBeUndefined();
    expect(unmarshall(put?.Item ?? {})).toEqual({
      id: `bake#${BUILD_ARN}`,
      token: TOKEN,
      // 09:00:20 + the 900 s fallback + one day, in seconds since the epoch.
      ttl: Date.parse('2026-03-03T09:15:20.000Z') / 1000,
    });
  });

  it('stores the wait before it reads the status of the build, so no state change is missed', async () => {
    // Prepare
    imagebuilderMock.on(GetImageCommand).resolves(image('BUILDING'));

    // Act
    await handler(request, context);

    // Assess
    const [put, read] = [
      dynamodbMock.commandCalls(PutItemCommand)[0],
      imagebuilderMock.commandCalls(GetImageCommand)[0],
    ];
    if (!put || !read) throw new Error('expected one PutItem and one GetImage');
    expect(put.calledBefore(read)).toBe(true);
    expect(read.args[0].input).toEqual({ imageBuildVersionArn: BUILD_ARN });
  });

  it.each<ImageState>(['PENDING', 'CREATING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING'])(
    'keeps the execution parked while the build is %s, resuming nothing',
    async (status) => {
      // Prepare
      imagebuilderMock.on(GetImageCommand).resolves(image(status));

      // Act
      const result = await handler(request, context);

      // Assess
      expect(result).toEqual({ waiting: true });
      expect(sfnMock.calls()).toHaveLength(0);
    },
  );

  it.each<ImageState>(['AVAILABLE', 'FAILED', 'CANCELLED'])(
    'resumes its own task at once with the status when the build already ended %s before the wait was stored',
    async (status) => {
      // Prepare: Image Builder's event came and went while nobody waited for it.
      imagebuilderMock.on(GetImageCommand).resolves(image(status));

      // Act
      const result = await handler(request, context);

      // Assess
      expect(result).toEqual({ waiting: false });
      expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
        { taskToken: TOKEN, output: JSON.stringify({ status }) },
      ]);
      expect(sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    },
  );

  it('reads no build status and resumes nothing when the wait cannot be stored', async () => {
    // Prepare
    dynamodbMock.on(PutItemCommand).rejects(awsError('InternalServerError', 'Internal server error', 500));
    imagebuilderMock.on(GetImageCommand).resolves(image('AVAILABLE'));

    // Act
    const run = handler(request, context);

    // Assess
    await expectFailure(run, 'AwsTransient', 'InternalServerError');
    expect(imagebuilderMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('only puts the wait item, the one table action its role allows', async () => {
    // Prepare
    imagebuilderMock.on(GetImageCommand).resolves(image('BUILDING'));

    // Act
    await handler(request, context);

    // Assess
    expect(dynamodbMock.commandCalls(GetItemCommand)).toHaveLength(0);
    expect(dynamodbMock.calls()).toHaveLength(1);
  });
});
