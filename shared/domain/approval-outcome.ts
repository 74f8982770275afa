import * as v from 'valibot';
import { APPROVAL_REJECTED, APPROVAL_STAGES, type ApprovalStage, type DecisionRecord } from './approval.ts';
import { STATE, type StateName } from './states.ts';

/**
 * What became of an approver's answer. The page records the answer (state DECIDING, with who,
 * what and when) before it calls Step Functions, and only a confirmed delivery moves it on at once.
 * When the call's outcome is not known (a lost response, a 5xx, the SDK's retry meeting a token
 * the first attempt already used), the execution settles it: its status (DescribeExecution) and the
 * approval state's events in its history (GetExecutionHistory) say whether the wait ended with an
 * answer, a timeout or the end of the execution, or still waits.
 */

/** The approval state of each stage (the history names states). */
export const APPROVAL_STATE_NAMES: Record<ApprovalStage, StateName> = {
  'traffic-shift': STATE.askShiftApproval,
  'blue-termination': STATE.askTerminationApproval,
};

/**
 * An unconfirmed answer counts as not delivered once the wait is still open this long after it
 * was sent: longer than the page function runs (10 s timeout, SDK retries included), so no call
 * of it can still be on its way.
 */
export const SETTLE_AFTER_MS = 60_000;

/** How the newest entry of a `.waitForTaskToken` state has gone, as its execution's history says. */
export type CallbackOutcome =
  | { kind: 'succeeded'; output: string }
  | { kind: 'failed'; error: string; cause: string }
  | { kind: 'timed-out' }
  /** Submitted, and no answer, failure or timeout since. */
  | { kind: 'waiting' }
  /** The state is not among the events read (the newest 5,000), or the execution does not exist. */
  | { kind: 'not-entered' };

export type Settlement =
  /** The wait ended with this answer (the record comes from the history, whoever gave it). */
  | { kind: 'decided'; record: DecisionRecord }
  /** The wait ended without an answer: `ending` completes "web/prod 1.1.0 …". */
  | { kind: 'ended'; ending: string }
  /** The execution runs and the approval state still waits: no answer has arrived. */
  | { kind: 'waiting' }
  /** The history could not be read, or does not show the state. */
  | { kind: 'unknown' };

/** How an execution that no longer runs ended, completing "web/prod 1.1.0 …"; undefined while it runs. */
export function executionEnding(execution: { status?: string } | undefined): string | undefined {
  if (!execution) return 'no longer exists';
  switch (execution.status) {
    case 'RUNNING':
      return undefined;
    case 'ABORTED':
      return 'was stopped';
    case 'TIMED_OUT':
      return 'timed out';
    case 'FAILED':
    case 'PENDING_REDRIVE':
      return 'failed';
    case 'SUCCEEDED':
      return 'has ended';
    default:
      return `ended (${execution.status ?? 'status unknown'})`;
  }
}

const recordSchema = v.object({
  stage: v.picklist(APPROVAL_STAGES),
  decision: v.picklist(['approved', 'rejected']),
  approver: v.string(),
  comment: v.string(),
  at: v.string(),
});

/** Who approved, from the output SendTaskSuccess carried (the page sends the DecisionRecord). */
function approvedRecord(output: string, stage: ApprovalStage, attempt?: DecisionRecord): DecisionRecord {
  try {
    const parsed = v.safeParse(recordSchema, JSON.parse(output));
    if (parsed.success && parsed.output.decision === 'approved') return parsed.output;
  } catch {
    // Not the page's own output: say what is known.
  }
  return attempt?.decision === 'approved'
    ? attempt
    : { stage, decision: 'approved', approver: 'an unknown approver', comment: '', at: 'an unknown time' };
}

// rejectionCause's format: the approver and the comment are JSON string literals (quoted()).
const LITERAL = String.raw`"(?:[^"\\]|\\.)*"`;
const REJECTION = new RegExp(
  String.raw`^rejected by (${LITERAL}) at (\S+)(?:: (${LITERAL})| \(no comment\))$`,
);

/** A quoted() literal read back, or undefined when it is not one. */
function unquote(literal: string | undefined): string | undefined {
  if (literal === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(literal);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Who rejected, from the cause SendTaskFailure carried (rejectionCause's format). */
function rejectedRecord(cause: string, stage: ApprovalStage, attempt?: DecisionRecord): DecisionRecord {
  const match = cause.match(REJECTION);
  const approver = unquote(match?.[1]);
  if (match && approver !== undefined) {
    return {
      stage,
      decision: 'rejected',
      approver,
      at: match[2] ?? '',
      comment: unquote(match[3]) ?? '',
    };
  }
  return attempt?.decision === 'rejected'
    ? attempt
    : { stage, decision: 'rejected', approver: 'an unknown approver', comment: '', at: 'an unknown time' };
}

/**
 * Settles an approval from what Step Functions says: the execution's status (undefined when it
 * does not exist) and how the approval state's wait went.
 */
export function settle(
  execution: { status?: string } | undefined,
  outcome: CallbackOutcome,
  stage: ApprovalStage,
  attempt?: DecisionRecord,
): Settlement {
  switch (outcome.kind) {
    case 'succeeded':
      return { kind: 'decided', record: approvedRecord(outcome.output, stage, attempt) };
    case 'failed':
      return outcome.error === APPROVAL_REJECTED
        ? { kind: 'decided', record: rejectedRecord(outcome.cause, stage, attempt) }
        : {
            kind: 'ended',
            ending: `stopped waiting for approval (${outcome.error || 'the request failed'})`,
          };
    case 'timed-out':
      return { kind: 'ended', ending: 'timed out waiting for approval' };
    case 'waiting': {
      // The wait was open when the execution ended: no answer reached it.
      const ending = executionEnding(execution);
      return ending ? { kind: 'ended', ending } : { kind: 'waiting' };
    }
    case 'not-entered':
      // Nothing read says how the wait went: an answer may have arrived, so nothing is settled.
      return { kind: 'unknown' };
  }
}

/** The same answer (who, what, when): an attempt and what the history says was received. */
export function sameAnswer(a: DecisionRecord, b: DecisionRecord): boolean {
  return a.approver === b.approver && a.decision === b.decision && a.at === b.at;
}

/** "approve" or "reject": the button the approver pressed. */
export function verb(record: DecisionRecord): string {
  return record.decision === 'approved' ? 'approve' : 'reject';
}
