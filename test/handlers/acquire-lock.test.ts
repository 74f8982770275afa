import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { handler } from '../../functions/acquire-lock.ts';
import { mockAws } from './aws-mocks.ts';
import { DEPLOYMENT_ID, deployment, lambdaContext } from './fixtures.ts';

const { dynamodbMock, sfnMock } = mockAws();

const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:bluegreen-deploy:${DEPLOYMENT_ID}`;

describe('acquire-lock', () => {
  it('orders an execution started by hand by its start time, the same on every ask', async () => {
    dynamodbMock.on(GetItemCommand).resolves({});
    dynamodbMock.on(PutItemCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const { uploadedAt: _none, ...byHand } = deployment;
    const request = {
      token: 'token-1',
      executionArn: EXECUTION_ARN,
      startedAt: '2026-03-02T09:00:00.000Z',
      deployment: byHand,
    };

    await handler(request, lambdaContext('acquireLock'));

    const put = dynamodbMock.commandCalls(PutItemCommand)[0]?.args[0].input.Item;
    expect(put && unmarshall(put).owner).toMatchObject({
      name: DEPLOYMENT_ID,
      uploadedAt: '2026-03-02T09:00:00.000Z',
    });
  });

  it('counts an upload time later than the execution’s start as its start', async () => {
    dynamodbMock.on(GetItemCommand).resolves({});
    dynamodbMock.on(PutItemCommand).resolves({});
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const request = {
      token: 'token-1',
      executionArn: EXECUTION_ARN,
      startedAt: '2026-03-02T09:00:00.000Z',
      // Typed by hand (or a replayed event): three hours after the execution even started.
      deployment: { ...deployment, uploadedAt: '2026-03-02T12:00:00.000Z' },
    };

    await handler(request, lambdaContext('acquireLock'));

    const put = dynamodbMock.commandCalls(PutItemCommand)[0]?.args[0].input.Item;
    expect(put && unmarshall(put).owner).toMatchObject({ uploadedAt: '2026-03-02T09:00:00.000Z' });
  });
});
