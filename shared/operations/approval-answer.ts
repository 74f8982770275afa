import { randomUUID } from 'node:crypto';
import {
  type ApprovalItem,
  claimDecision,
  getApproval,
  type Settled,
  settleDecision,
} from '../aws/dynamodb.ts';
import { callbackOutcome, deliverAnswer, executionState } from '../aws/sfn.ts';
import { APPROVAL_REJECTED, type DecisionRecord, rejectionCause } from '../domain/approval.ts';
import {
  APPROVAL_STATE_NAMES,
  SETTLE_AFTER_MS,
  type Settlement,
  sameAnswer,
  settle,
  verb,
} from '../domain/approval-outcome.ts';
import { logger } from '../logger.ts';

/**
 * An approver's answer, the same whichever way it came (the link's page, or a terminal through the
 * API's IAM authorization): written down before Step Functions hears it (a conditional write on a
 * PENDING approval, which makes the approval single-use), then delivered with SendTaskSuccess or
 * SendTaskFailure, and its outcome settled by the execution when the delivery's is not known.
 */

/** Where an answer ended, for the page or the terminal to say. */
export type Answered =
  /** The deployment received the answer given here. */
  | { kind: 'yours'; record: DecisionRecord }
  /** An earlier answer decided (another approver's, or one that came before this one). */
  | { kind: 'decided'; record: DecisionRecord }
  /**
   * The deployment no longer waits (`ending` completes "web/prod 1.1.0 …"). `yours`: the answer
   * given here came too late; `unused`: an earlier answer that never arrived.
   */
  | { kind: 'ended'; ending: string; yours: boolean; unused?: DecisionRecord }
  /** The approval is over and says nothing more (`record`), or its time is up (`time`). */
  | { kind: 'expired'; by: 'record' | 'time' }
  /** An answer was sent and its outcome is not known yet; `yours`: the answer given here. */
  | { kind: 'unknown'; attempt: DecisionRecord; yours: boolean }
  /** Step Functions refused the answer given here: nothing was decided, it may be given again. */
  | { kind: 'refused' };

/** Whether an approval takes an answer now. */
export type Opening =
  | Answered
  /** It does; `replacing` names an earlier attempt that never arrived, which `note` tells of. */
  | { kind: 'open'; replacing?: string; note?: string };

/**
 * What the execution says became of the approval: its status, then the approval state's events in
 * its history. Read-only. A failing read is `unknown`, never a guess.
 */
async function settlementOf(item: ApprovalItem, attempt?: DecisionRecord): Promise<Settlement> {
  try {
    const execution = await executionState(item.executionArn);
    const outcome = execution
      ? await callbackOutcome(item.executionArn, APPROVAL_STATE_NAMES[item.summary.stage])
      : ({ kind: 'not-entered' } as const);
    return settle(execution, outcome, item.summary.stage, attempt);
  } catch (error) {
    logger.warn('could not read how the approval went', { approvalId: item.id, error });
    return { kind: 'unknown' };
  }
}

/** Where a settlement takes a DECIDING record (undefined: it stays DECIDING). */
function settledState(settlement: Settlement, attempt: DecisionRecord): Settled | undefined {
  switch (settlement.kind) {
    case 'decided':
      return {
        state: settlement.record.decision === 'approved' ? 'APPROVED' : 'REJECTED',
        decision: settlement.record,
      };
    case 'ended':
      return { state: 'EXPIRED', ended: settlement.ending, unused: attempt };
    default:
      return undefined;
  }
}

/** Whether an unconfirmed attempt is old enough that a wait still open means it never arrived. */
function stale(attempt: DecisionRecord, now: number): boolean {
  return Date.parse(attempt.at) + SETTLE_AFTER_MS <= now;
}

/** An approval that is over (neither PENDING nor DECIDING): who decided what, or how it ended. */
function closed(item: ApprovalItem): Answered {
  const d = item.decision;
  if (item.state === 'EXPIRED' || !d) {
    return item.ended
      ? {
          kind: 'ended',
          ending: item.ended,
          yours: false,
          ...(item.unusedAnswer ? { unused: item.unusedAnswer } : {}),
        }
      : { kind: 'expired', by: 'record' };
  }
  return { kind: 'decided', record: d };
}

/**
 * Whether `item` takes an answer at `now`. An answer recorded earlier whose outcome was not
 * confirmed is settled by the execution: `write` (an answer is being given, not only a page shown)
 * writes down what it said.
 */
export async function openFor(
  table: string,
  item: ApprovalItem,
  { now, write }: { now: number; write: boolean },
): Promise<Opening> {
  if (item.state === 'DECIDING' && item.decision) {
    const attempt = item.decision;
    const settlement = await settlementOf(item, attempt);
    if (settlement.kind === 'waiting' && stale(attempt, now)) {
      // Still waiting a minute later: that answer never arrived, and the approval is open again.
      if (item.expiresAt * 1000 <= now) return { kind: 'expired', by: 'time' };
      return {
        kind: 'open',
        replacing: item.attempt ?? '',
        note: `An earlier answer from ${attempt.approver} (${verb(attempt)}) did not reach the deployment; it still waits for a decision.`,
      };
    }
    const next = settledState(settlement, attempt);
    if (write && next) await settleDecision(table, item.id, item.attempt ?? '', next);
    if (settlement.kind === 'decided') return { kind: 'decided', record: settlement.record };
    if (settlement.kind === 'ended')
      return { kind: 'ended', ending: settlement.ending, yours: write, unused: attempt };
    return { kind: 'unknown', attempt, yours: false };
  }
  if (item.state !== 'PENDING') return closed(item);
  if (item.expiresAt * 1000 <= now) return { kind: 'expired', by: 'time' };
  return { kind: 'open' };
}

/**
 * Gives `record` as the answer to `item`, which openFor found open (`replacing` as it said): claims
 * the approval, delivers the answer, and settles the record by what Step Functions (or, when its
 * answer is lost, the execution) says.
 */
export async function giveAnswer(
  table: string,
  item: ApprovalItem,
  record: DecisionRecord,
  { now, replacing }: { now: number; replacing?: string },
): Promise<Answered> {
  const attempt = randomUUID();
  const claimed = await claimDecision(table, item.id, {
    record,
    attempt,
    nowSeconds: Math.floor(now / 1000),
    ...(replacing !== undefined ? { replacing } : {}),
  });
  const latest = claimed ? undefined : await getApproval(table, item.id);
  // Our own attempt when the SDK retried an update that took effect: it is ours to send.
  if (!claimed && latest?.attempt !== attempt) {
    if (latest?.state === 'DECIDING' && latest.decision)
      return { kind: 'unknown', attempt: latest.decision, yours: false };
    return latest && latest.state !== 'PENDING' ? closed(latest) : { kind: 'expired', by: 'time' };
  }
  const delivery = await deliverAnswer(
    item.taskToken,
    record.decision === 'approved'
      ? { output: record }
      : { error: APPROVAL_REJECTED, cause: rejectionCause(record) },
  );
  if (delivery.delivery === 'delivered') {
    await settleDecision(table, item.id, attempt, {
      state: record.decision === 'approved' ? 'APPROVED' : 'REJECTED',
      decision: record,
    });
    logger.info('approval decided', {
      approvalId: item.id,
      decision: record.decision,
      approver: record.approver,
    });
    return { kind: 'yours', record };
  }
  if (delivery.delivery === 'refused') {
    // Step Functions answered the one attempt with a refusal: it did nothing, the approval stays open.
    await settleDecision(table, item.id, attempt, { state: 'PENDING' });
    logger.error('Step Functions refused the answer', { approvalId: item.id, error: delivery.error });
    return { kind: 'refused' };
  }
  // The answer may or may not have arrived: ask the execution, and say only what it says.
  logger.warn('the outcome of an answer is not known', { approvalId: item.id, error: delivery.error });
  const settlement = await settlementOf(item, record);
  const next = settledState(settlement, record);
  if (next) await settleDecision(table, item.id, attempt, next);
  if (settlement.kind === 'decided') {
    return sameAnswer(settlement.record, record)
      ? { kind: 'yours', record }
      : { kind: 'decided', record: settlement.record };
  }
  if (settlement.kind === 'ended') return { kind: 'ended', ending: settlement.ending, yours: true };
  return { kind: 'unknown', attempt: record, yours: true };
}
