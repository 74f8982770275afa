import { GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { callbackOutcome } from '#shared/aws/sfn.ts';
import { type DecisionRecord, rejectionCause } from '#shared/domain/approval.ts';
import { APPROVAL_STATE_NAMES, settle } from '#shared/domain/approval-outcome.ts';
import { loadDefinition } from '../../sim/definition.ts';

// How an unconfirmed approval is settled: the approval state's events in the execution's history
// (as Step Functions writes them, every event type included, newest first) and its status.

const sfnMock = mockClient(SFNClient);
afterEach(() => sfnMock.reset());

const ARN = 'arn:aws:states:us-east-1:123456789012:execution:bluegreen-deploy:web-prod-1_1_0-0123456789';
const SHIFT = APPROVAL_STATE_NAMES['traffic-shift'];
const TERMINATE = APPROVAL_STATE_NAMES['blue-termination'];
const WINDOW = 'Wait out the termination window';

const alice: DecisionRecord = {
  stage: 'blue-termination',
  decision: 'approved',
  approver: 'alice@example.com',
  comment: 'fine',
  at: '2026-03-02T10:00:00.000Z',
};

type Spec = [type: string, details?: Record<string, unknown>];
const entered = (name: string, type = 'TaskStateEntered'): Spec => [
  type,
  { stateEnteredEventDetails: { name } },
];
const exited = (name: string): Spec => [
  'TaskStateExited',
  { stateExitedEventDetails: { name, output: '{}' } },
];
const task = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' };
const submitted: Spec = ['TaskSubmitted', { taskSubmittedEventDetails: task }];
const succeeded = (output: unknown): Spec => [
  'TaskSucceeded',
  { taskSucceededEventDetails: { ...task, output: JSON.stringify(output) } },
];
const failed = (error: string, cause = ''): Spec => [
  'TaskFailed',
  { taskFailedEventDetails: { ...task, error, cause } },
];

/** A callback state as Step Functions writes it: entered, scheduled, started, submitted, then `end`. */
function callbackState(name: string, ...end: Spec[]): Spec[] {
  return [entered(name), ['TaskScheduled'], ['TaskStarted'], submitted, ...end];
}

/** Serves `specs` (oldest first) as GetExecutionHistory pages of `pageSize`, honouring reverseOrder. */
function history(specs: Spec[], pageSize = 1000): void {
  const events: HistoryEvent[] = specs.map(([type, details], i) => ({
    id: i + 1,
    previousEventId: i,
    timestamp: new Date(Date.UTC(2026, 2, 2, 9, 0, i)),
    type: type as HistoryEvent['type'],
    ...details,
  }));
  sfnMock.on(GetExecutionHistoryCommand).callsFake((input) => {
    const ordered = input.reverseOrder ? [...events].reverse() : events;
    const start = Number(input.nextToken ?? 0);
    const size = Math.min(input.maxResults ?? 1000, pageSize);
    return {
      events: ordered.slice(start, start + size),
      ...(start + size < ordered.length ? { nextToken: String(start + size) } : {}),
    };
  });
}

const before: Spec[] = [
  ['ExecutionStarted'],
  ...callbackState(SHIFT, succeeded({ ...alice, stage: 'traffic-shift' })),
  exited(SHIFT),
  entered('Shift traffic to the next step'),
  exited('Shift traffic to the next step'),
  entered('Wait for the DNS change', 'WaitStateEntered'),
  ['WaitStateExited'],
];

describe('how the approval state has gone, from the history', () => {
  it('still waiting: the newest TaskSubmitted of the state has no answer after it', async () => {
    history([...before, ...callbackState(TERMINATE)]);
    await expect(callbackOutcome(ARN, TERMINATE)).resolves.toEqual({ kind: 'waiting' });
  });

  it('answered: the TaskSucceeded carries the record, even with later states (another wait loop) after it', async () => {
    const later = Array.from({ length: 30 }, () => [
      ...callbackState(WINDOW, [
        'TaskTimedOut',
        { taskTimedOutEventDetails: { ...task, error: 'States.Timeout' } },
      ]),
      entered('Watch green during the termination window'),
      exited('Watch green during the termination window'),
    ]).flat();
    history([...before, ...callbackState(TERMINATE, succeeded(alice)), exited(TERMINATE), ...later], 20);
    await expect(callbackOutcome(ARN, TERMINATE)).resolves.toEqual({
      kind: 'succeeded',
      output: JSON.stringify(alice),
    });
    // The earlier approval state is found too, past the later one's events.
    await expect(callbackOutcome(ARN, SHIFT)).resolves.toMatchObject({ kind: 'succeeded' });
  });

  it('a retried request task: the failed first attempt does not count, the newest attempt waits', async () => {
    history([
      ...before,
      entered(TERMINATE),
      ['TaskScheduled'],
      ['TaskStarted'],
      failed('Lambda.ServiceException'),
      ['TaskScheduled'],
      ['TaskStarted'],
      submitted,
    ]);
    await expect(callbackOutcome(ARN, TERMINATE)).resolves.toEqual({ kind: 'waiting' });
  });

  it('rejected, timed out, or never entered', async () => {
    const rejection = rejectionCause({ ...alice, decision: 'rejected' });
    history([...before, ...callbackState(TERMINATE, failed('ApprovalRejected', rejection))]);
    await expect(callbackOutcome(ARN, TERMINATE)).resolves.toEqual({
      kind: 'failed',
      error: 'ApprovalRejected',
      cause: rejection,
    });
    history([
      ...before,
      ...callbackState(TERMINATE, [
        'TaskTimedOut',
        { taskTimedOutEventDetails: { ...task, error: 'States.Timeout' } },
      ]),
      entered('Return traffic to blue'),
    ]);
    await expect(callbackOutcome(ARN, TERMINATE)).resolves.toEqual({ kind: 'timed-out' });
    history(before);
    await expect(callbackOutcome(ARN, TERMINATE)).resolves.toEqual({ kind: 'not-entered' });
  });

  it('reads at most the newest 5,000 events (25 pages of 200), more than any deployment writes', async () => {
    history([
      ...callbackState(TERMINATE, succeeded(alice)),
      ...Array.from({ length: 5000 }, () => entered('Wait for the DNS change', 'WaitStateEntered')),
    ]);
    await expect(callbackOutcome(ARN, TERMINATE)).resolves.toEqual({ kind: 'not-entered' });
    const calls = sfnMock.commandCalls(GetExecutionHistoryCommand);
    expect(calls).toHaveLength(25);
    expect(calls.every((c) => c.args[0].input.maxResults === 200 && c.args[0].input.reverseOrder)).toBe(true);
  });
});

describe('settling an approval', () => {
  const running = { status: 'RUNNING' };

  it('the history decides: an answer received is decided, whoever sent it', () => {
    expect(settle(running, { kind: 'succeeded', output: JSON.stringify(alice) }, 'blue-termination')).toEqual(
      {
        kind: 'decided',
        record: alice,
      },
    );
    const bob = { ...alice, approver: 'bob@example.com', decision: 'rejected' as const, comment: 'a "b": c' };
    expect(
      settle(
        { status: 'ABORTED' },
        { kind: 'failed', error: 'ApprovalRejected', cause: rejectionCause(bob) },
        'blue-termination',
        alice,
      ),
    ).toEqual({ kind: 'decided', record: bob });
  });

  it('a wait that ended without an answer, or an execution that no longer runs, is ended', () => {
    expect(settle(running, { kind: 'timed-out' }, 'traffic-shift')).toEqual({
      kind: 'ended',
      ending: 'timed out waiting for approval',
    });
    expect(settle({ status: 'ABORTED' }, { kind: 'waiting' }, 'traffic-shift')).toEqual({
      kind: 'ended',
      ending: 'was stopped',
    });
  });

  it('an open wait in a running execution is waiting', () => {
    expect(settle(running, { kind: 'waiting' }, 'traffic-shift')).toEqual({ kind: 'waiting' });
  });

  it('a history that does not show the state settles nothing, whatever the execution did: the answer may have arrived', () => {
    for (const execution of [running, { status: 'SUCCEEDED' }, { status: 'ABORTED' }, undefined]) {
      expect(settle(execution, { kind: 'not-entered' }, 'blue-termination', alice)).toEqual({
        kind: 'unknown',
      });
    }
  });

  it('names the approval states as the state machine does', () => {
    const states = loadDefinition().definition.States as Record<
      string,
      { Parameters?: { Payload?: { stage?: string } } }
    >;
    const byStage = Object.fromEntries(
      Object.entries(states)
        .filter(([, state]) => state.Parameters?.Payload?.stage)
        .map(([name, state]) => [state.Parameters?.Payload?.stage, name]),
    );
    expect(byStage).toEqual(APPROVAL_STATE_NAMES);
  });
});
