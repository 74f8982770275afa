import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SendTaskSuccessCommand,
} from '@aws-sdk/client-sfn';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Promotion, promoteText } from '#shared/domain/promotion.ts';
import { STATE } from '#shared/domain/states.ts';
import { promoteDeployment } from '#shared/operations/promote.ts';
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
