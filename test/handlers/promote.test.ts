import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SendTaskSuccessCommand,
} from '@aws-sdk/client-sfn';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Promotion, promoteText } from '#shared/domain/promotion.ts';
import { STATE } from '#shared/domain/states.ts';
import { promoteDeployment } from '#shared/operations/promote.ts';
import { servePromotion } from '#shared/tasks/promote.ts';
import { decisionEvent } from '../../sim/http.ts';
import { mockAws } from './aws-mocks.ts';
import { awsError, DEPLOYMENT_ID, STATE_MACHINE_ARN } from './fixtures.ts';

const { dynamodbMock, sfnMock } = mockAws();

const SETTINGS = { locksTable: 'bluegreen-ec2-prod-locks' };
const NOW = new Date('2026-03-02T09:31:30.000Z');
const OPERATOR = 'arn:aws:sts::123456789012:assumed-role/platform-oncall/alice';
const EXECUTION_ARN = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${DEPLOYMENT_ID}`;
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAZ2x9cQ1uYp3WkbvOc1yRNbqZWbLdvrU7KkMa0Sc1Y3/EXAMPLE+settle==';
const FIRST_STEP = { kind: 'step', step: 1, of: 3, percent: 10 } as const;
/** A Lambda callback task's event details name what it invoked. */
const TASK = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' };

/** The lock of web/prod, held by the deployment (or by `executionArn`, its rollback's). */
function lockHeld(executionArn = EXECUTION_ARN) {
  const owner = { name: DEPLOYMENT_ID, executionArn, uploadedAt: '2026-03-02T09:00:00.000Z', since: '' };
  dynamodbMock
    .on(GetItemCommand, { Key: marshall({ id: 'web/prod' }) })
    .resolves({ Item: marshall({ id: 'web/prod', version: 3, owner, waiters: [] }) });
}

/** The watch the settle wait of the first step stored. */
function watchStored(wait: object = FIRST_STEP) {
  dynamodbMock.on(GetItemCommand, { Key: marshall({ id: `watch#${DEPLOYMENT_ID}` }) }).resolves({
    Item: marshall({
      id: `watch#${DEPLOYMENT_ID}`,
      token: TOKEN,
      alarms: ['web-prod-5xx'],
      wait,
      executionArn: EXECUTION_ARN,
      endsAt: '2026-03-02T09:34:40.000Z',
      ttl: 1_772_530_000,
    }),
  });
}

const entered = (name: string): HistoryEvent => ({
  id: 1,
  timestamp: NOW,
  type: 'TaskStateEntered',
  stateEnteredEventDetails: { name },
});

/** The execution's history, newest event first, as GetExecutionHistory with reverseOrder answers. */
function historyNewestFirst(...events: HistoryEvent[]) {
  sfnMock.on(GetExecutionHistoryCommand).resolves({ events });
}

beforeEach(() => {
  dynamodbMock.on(GetItemCommand).resolves({});
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', executionArn: EXECUTION_ARN } as never);
  sfnMock.on(SendTaskSuccessCommand).resolves({});
});

describe('promoteDeployment', () => {
  it("ends the running step's settle wait with who promoted and when", async () => {
    // Prepare
    lockHeld();
    watchStored();
    historyNewestFirst({ id: 2, timestamp: NOW, type: 'TaskSubmitted' }, entered(STATE.settle));

    // Act
    const result = await promoteDeployment(SETTINGS, 'web', 'prod', OPERATOR, NOW);

    // Assess
    const promotion: Promotion = {
      by: OPERATOR,
      at: '2026-03-02T09:31:30.000Z',
      wait: FIRST_STEP,
      waitEndsAt: '2026-03-02T09:34:40.000Z',
    };
    expect(result).toEqual({
      outcome: 'promoted',
      deployment: DEPLOYMENT_ID,
      executionArn: EXECUTION_ARN,
      promotion,
    });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: TOKEN, output: JSON.stringify({ promoted: promotion }) },
    ]);
    expect(sfnMock.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input).toMatchObject({
      executionArn: EXECUTION_ARN,
      reverseOrder: true,
      includeExecutionData: false,
    });
    expect(promoteText(result, 'web', 'prod')).toBe(
      `${DEPLOYMENT_ID}: traffic step 1 of 3 (10 %) promoted by "${OPERATOR}" at 2026-03-02T09:31:30.000Z; its checks run now, then the deployment goes on`,
    );
  });

  it('refuses, reading nothing, a caller identity that is empty or too long, and a bad app or env', async () => {
    // Act
    const empty = await promoteDeployment(SETTINGS, 'web', 'prod', ' ', NOW);
    const long = await promoteDeployment(SETTINGS, 'Web', 'prod', 'a'.repeat(1025), NOW);

    // Assess
    expect(empty).toEqual({
      outcome: 'invalid',
      problems: ['the caller identity (by) must be a non-empty string'],
    });
    expect(long).toEqual({
      outcome: 'invalid',
      problems: [
        'app must be 1-32 lowercase letters, digits or inner hyphens',
        'the caller identity (by) has 1025 characters, more than the 1024 allowed',
      ],
    });
    expect(dynamodbMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('says nothing runs when nobody holds the lock, or its holder has ended', async () => {
    // Act
    const free = await promoteDeployment(SETTINGS, 'web', 'prod', OPERATOR, NOW);
    lockHeld();
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' } as never);
    const ended = await promoteDeployment(SETTINGS, 'web', 'prod', OPERATOR, NOW);

    // Assess
    expect(free).toEqual({ outcome: 'nothing-running', lock: 'web/prod' });
    expect(ended).toEqual({
      outcome: 'nothing-running',
      lock: 'web/prod',
      ended: { deployment: DEPLOYMENT_ID, executionArn: EXECUTION_ARN, status: 'SUCCEEDED' },
    });
    expect(promoteText(ended, 'web', 'prod')).toBe(
      `nothing to promote: ${DEPLOYMENT_ID}, the last deployment of web/prod, has ended (SUCCEEDED)`,
    );
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it.each([
    [STATE.awaitBake, 'it is at "Wait for the AMI bake"'],
    [STATE.checkDns, 'it is at "Check the DNS change"'],
    [
      STATE.askShiftApproval,
      'it waits for an approval ("Ask for approval to shift traffic"): approve or reject it instead',
    ],
    [STATE.returnTraffic, 'it is at "Return traffic to blue"'],
  ])('refuses while the deployment is at "%s", sending nothing', async (state, says) => {
    // Prepare
    lockHeld();
    historyNewestFirst(entered(state));

    // Act
    const result = await promoteDeployment(SETTINGS, 'web', 'prod', OPERATOR, NOW);

    // Assess
    expect(result).toEqual({
      outcome: 'not-promotable',
      deployment: DEPLOYMENT_ID,
      executionArn: EXECUTION_ARN,
      state,
    });
    expect(promoteText(result, 'web', 'prod')).toBe(
      `nothing promoted: ${DEPLOYMENT_ID} is not waiting out a traffic step or the termination window; ${says}`,
    );
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it("refuses a stopped deployment's rollback, which waits on no watch of its own", async () => {
    // Prepare
    const rollbackArn = `${EXECUTION_ARN.replace(':execution:bluegreen-ec2-sim-deploy:', ':execution:bluegreen-ec2-sim-deploy-rollback:')}-rollback`;
    lockHeld(rollbackArn);
    watchStored();
    historyNewestFirst(entered(STATE.waitRollbackDns));

    // Act
    const result = await promoteDeployment(SETTINGS, 'web', 'prod', OPERATOR, NOW);

    // Assess
    expect(result).toMatchObject({ outcome: 'not-promotable', state: STATE.waitRollbackDns });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('asks to try again when the wait has just begun and stored no watch yet', async () => {
    // Prepare: the termination window's wait has begun; the watch still is the last step's.
    lockHeld();
    watchStored();
    historyNewestFirst(entered(STATE.waitWindow));

    // Act
    const result = await promoteDeployment(SETTINGS, 'web', 'prod', OPERATOR, NOW);

    // Assess
    expect(result).toMatchObject({ outcome: 'not-ready', state: STATE.waitWindow });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  describe('when the token no longer works', () => {
    beforeEach(() => {
      lockHeld();
      watchStored();
      sfnMock.on(SendTaskSuccessCommand).rejects(awsError('TaskTimedOut', 'Task Timed Out', 400));
    });

    /** The history while the settle state is current (first read), then with how its wait went. */
    function waitWent(outcome: HistoryEvent) {
      sfnMock
        .on(GetExecutionHistoryCommand, { includeExecutionData: false })
        .resolves({ events: [entered(STATE.settle)] })
        .on(GetExecutionHistoryCommand, { includeExecutionData: true })
        .resolves({
          events: [outcome, { id: 2, timestamp: NOW, type: 'TaskSubmitted' }, entered(STATE.settle)],
        });
    }

    it('says so when an alarm failed the wait first: a failed wait cannot succeed', async () => {
      // Prepare
      waitWent({
        id: 3,
        timestamp: NOW,
        type: 'TaskFailed',
        taskFailedEventDetails: { ...TASK, error: 'AlarmTriggered', cause: 'alarm in ALARM: "web-prod-5xx"' },
      });

      // Act
      const result = await promoteDeployment(SETTINGS, 'web', 'prod', OPERATOR, NOW);

      // Assess
      expect(result).toEqual({
        outcome: 'wait-ended',
        deployment: DEPLOYMENT_ID,
        executionArn: EXECUTION_ARN,
        wait: FIRST_STEP,
        how: 'failed',
        error: 'AlarmTriggered',
      });
      expect(promoteText(result, 'web', 'prod')).toBe(
        `nothing promoted: the wait of traffic step 1 of 3 (10 %) of ${DEPLOYMENT_ID} was ended meanwhile by "AlarmTriggered", which rolls back`,
      );
    });

    it('says so when the wait ran out by itself', async () => {
      // Prepare
      waitWent({ id: 3, timestamp: NOW, type: 'TaskTimedOut', taskTimedOutEventDetails: TASK });

      // Act
      const result = await promoteDeployment(SETTINGS, 'web', 'prod', OPERATOR, NOW);

      // Assess
      expect(result).toMatchObject({ outcome: 'wait-ended', how: 'timed-out' });
    });

    it('finds the promote that ended it, when another came first: asking twice promotes once', async () => {
      // Prepare
      const first: Promotion = {
        by: 'arn:aws:iam::123456789012:user/bob',
        at: '2026-03-02T09:31:29.000Z',
        wait: FIRST_STEP,
      };
      waitWent({
        id: 3,
        timestamp: NOW,
        type: 'TaskSucceeded',
        taskSucceededEventDetails: { ...TASK, output: JSON.stringify({ promoted: first }) },
      });

      // Act
      const result = await promoteDeployment(SETTINGS, 'web', 'prod', OPERATOR, NOW);

      // Assess
      expect(result).toMatchObject({ outcome: 'already-promoted', promotion: first });
      expect(promoteText(result, 'web', 'prod')).toBe(
        `${DEPLOYMENT_ID}: traffic step 1 of 3 (10 %) was already promoted by "arn:aws:iam::123456789012:user/bob" at 2026-03-02T09:31:29.000Z; nothing more to do`,
      );
    });

    it('asks to try again when the token was the last wait of the state and a new one has begun', async () => {
      // Prepare
      waitWent({ id: 3, timestamp: NOW, type: 'TaskSubmitted' });

      // Act
      const result = await promoteDeployment(SETTINGS, 'web', 'prod', OPERATOR, NOW);

      // Assess
      expect(result).toMatchObject({ outcome: 'not-ready', state: STATE.settle });
    });
  });
});

describe('servePromotion (POST /promotions)', () => {
  const IAM = {
    accessKey: 'ASIAOPERATOR',
    accountId: '123456789012',
    callerId: 'AROAPLATFORM:alice',
    cognitoIdentity: null,
    principalOrgId: '',
    userArn: OPERATOR,
    userId: 'AROAPLATFORM:alice',
  };

  /** The event API Gateway hands the function after verifying the caller (`iam`). */
  function event(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
    return decisionEvent({ method: 'POST', url: 'https://simapi.example/promotions', headers, body }, IAM);
  }

  async function served(e: APIGatewayProxyEventV2WithIAMAuthorizer) {
    const response = await servePromotion(e, SETTINGS, NOW);
    return { status: response.statusCode, body: JSON.parse(response.body ?? '') as unknown };
  }

  it('promotes as the verified caller, whoever the body might claim to be', async () => {
    // Prepare
    lockHeld();
    watchStored();
    historyNewestFirst(entered(STATE.settle));

    // Act
    const response = await served(event(JSON.stringify({ app: 'web', env: 'prod' })));

    // Assess
    expect(response).toMatchObject({
      status: 200,
      body: { outcome: 'promoted', promotion: { by: OPERATOR } },
    });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it.each([
    [
      'a body naming the caller',
      { app: 'web', env: 'prod', by: 'arn:aws:iam::123456789012:user/mallory' },
      /by/,
    ],
    ['a missing env', { app: 'web' }, /env/],
    ['a bad app', { app: 'Web', env: 'prod' }, /app.*must be an app name/],
    ['an env that is not a string', { app: 'web', env: 7 }, /env/],
    ['a body that is not an object', ['web', 'prod'], /object/],
  ])('refuses %s, naming the field, touching nothing', async (_what, body, problem) => {
    const response = await served(event(JSON.stringify(body)));
    expect(response).toEqual({
      status: 400,
      body: { outcome: 'invalid', problems: [expect.stringMatching(problem)] },
    });
    expect(dynamodbMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it.each([
    ['a body that is not JSON', event('app=web'), 'the body is not valid JSON'],
    [
      'a body that is not application/json',
      event('{}', { 'content-type': 'text/plain' }),
      'the body must be application/json',
    ],
    [
      'a body over 1 KiB',
      event(JSON.stringify({ app: 'web', env: 'prod', pad: 'x'.repeat(2000) })),
      'the body may be at most 1024 bytes',
    ],
  ])('refuses %s', async (_what, e, problem) => {
    expect(await served(e)).toEqual({ status: 400, body: { outcome: 'invalid', problems: [problem] } });
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('promotes nothing for an event without a verified identity (the function invoked some other way)', async () => {
    // Prepare
    lockHeld();
    watchStored();
    historyNewestFirst(entered(STATE.settle));
    const direct = event(JSON.stringify({ app: 'web', env: 'prod' }));
    (direct.requestContext as { authorizer?: unknown }).authorizer = undefined;

    // Act
    const response = await served(direct);

    // Assess
    expect(response).toEqual({
      status: 400,
      body: {
        outcome: 'invalid',
        problems: ['the request carries no IAM identity verified by AWS; sign it with SigV4'],
      },
    });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('answers not-ready, sending nothing, before resolvers have had the TTL since INSYNC', async () => {
    // Prepare: the step's change was INSYNC at 09:31:00; the TTL is 60 s.
    lockHeld();
    dynamodbMock.on(GetItemCommand, { Key: marshall({ id: `watch#${DEPLOYMENT_ID}` }) }).resolves({
      Item: marshall({
        id: `watch#${DEPLOYMENT_ID}`,
        token: TOKEN,
        wait: FIRST_STEP,
        executionArn: EXECUTION_ARN,
        endsAt: '2026-03-02T09:36:00.000Z',
        promotableAt: '2026-03-02T09:32:00.000Z',
        ttl: 1_772_530_000,
      }),
    });
    historyNewestFirst(entered(STATE.settle));

    // Act
    const result = await promoteDeployment(SETTINGS, 'web', 'prod', OPERATOR, NOW);

    // Assess
    expect(result).toMatchObject({ outcome: 'not-ready', readyAt: '2026-03-02T09:32:00.000Z' });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(promoteText(result, 'web', 'prod')).toContain('try again at 2026-03-02T09:32:00.000Z');
  });
});
