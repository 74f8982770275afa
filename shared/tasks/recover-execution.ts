import { ExecutionHistory } from '../aws/sfn.ts';
import { withinRecoveryGrace } from '../domain/lock.ts';
import type { Recovery, RecoveryReport, RecoverySettings, StatusChangeEvent } from '../domain/recovery.ts';
import { freshReport, lockEnd } from '../domain/recovery.ts';
import { STATE } from '../domain/states.ts';
import {
  type DeploymentInput,
  deploymentFieldsSchema,
  endedOnItsOwnPath,
  type Plan,
} from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { settleStoppedBake } from '../operations/bake-cleanup.ts';
import { type RecoveryStanding, recoveryStanding } from '../operations/locking.ts';
import { patiently } from '../operations/patience.ts';
import * as notice from '../operations/recovery-notice.ts';
import { rollBackOrRestore } from '../operations/rollback-execution.ts';
import { parseWith } from '../validation.ts';

/** What an invocation has learnt, kept across its attempts; the report is its last attempt's. */
interface Known {
  report: RecoveryReport;
  plan?: Plan;
  standing?: RecoveryStanding;
  /** The rollback execution it started, which then tells and releases the lock. */
  rollback?: string;
}

/**
 * One try at deciding and starting: idempotent, so it is tried again whole after any failure.
 * Nothing to put back before the plan; recovered already when another holds the lock within the
 * grace; past it, left to a person; else its bake is settled and the rollback states started in
 * an execution of their own, or what is left put back here (rollBackOrRestore).
 */
async function recoverOnce(
  event: StatusChangeEvent,
  deployment: DeploymentInput,
  settings: RecoverySettings,
  known: Known,
): Promise<Recovery> {
  const { detail } = event;
  const report = freshReport(detail);
  known.report = report;
  const history = new ExecutionHistory(detail.executionArn);
  const plan = ((await history.firstOutput(STATE.plan)) as { plan?: Plan } | undefined)?.plan;
  if (!plan) return 'recovered';
  known.plan = plan;
  known.standing ??= await recoveryStanding(settings.locksTable, deployment);
  const { lock, found } = known.standing;
  const endedAt = detail.stopDate ?? Date.parse(event.time);
  const inGrace = withinRecoveryGrace(endedAt, Date.now() + settings.remainingMs());
  if (lock.kind === 'another' && inGrace) {
    logger.info('recovered already: this deployment no longer holds the lock', { holder: lock.holder });
    return 'recovered-already';
  }
  report.found.push(...found);
  if (!inGrace) {
    await notice.leaveToAPerson({ ...deployment, plan }, endedAt, report);
    return 'recovered';
  }
  const { launched } = await settleStoppedBake(history, { ...deployment, plan }, report);
  const stopped = { ...deployment, plan, history, status: detail.status, lockHeld: lock.kind === 'held' };
  return rollBackOrRestore(stopped, launched, deployment, detail, settings, report, known);
}

/**
 * Every execution's end reaches this handler. Step Functions runs no Catch when an execution is
 * stopped, times out, or dies on a runtime error: on its status change this starts the rollback
 * states in an execution of their own, or puts back what is left itself. Each try is repeated
 * with backoff while the invocation has time (every step is idempotent: EventBridge delivers at
 * least once and Lambda retries). One that still cannot finish names what is left for a person,
 * and frees the app anyway: told first, released last, so a retry finds the story told.
 */
export async function recoverExecution(
  event: StatusChangeEvent,
  settings: RecoverySettings,
): Promise<RecoveryReport> {
  const { detail } = event;
  const input = parseWith(deploymentFieldsSchema, JSON.parse(detail.input ?? '{}'));
  if (!input.ok) {
    logger.warn('not a deployment execution; nothing to do', { execution: detail.name });
    return freshReport(detail);
  }
  const deployment = input.value;
  const ownPath = endedOnItsOwnPath(detail.status, detail.error);
  const known: Known = { report: freshReport(detail) };
  if (detail.stateMachineArn === settings.rollbackStateMachineArn) {
    // A rollback execution ended: its final notification released the lock, unless it could not.
    // One that ended off its own paths is not rolled back again: a person is told what is left.
    if (!ownPath) await notice.tellRollbackEnded(deployment, detail, known.report, settings);
    await notice.releasePatiently(deployment, settings);
    return known.report;
  }
  // Ended through its own paths (only its release may have failed), told already by an earlier
  // attempt, or its final notification is out (stopped after its path ended): only release.
  if (ownPath || (await notice.toldAlready(deployment, settings))) {
    await notice.releasePatiently(deployment, settings);
    return known.report;
  }
  let recovery: Recovery;
  try {
    const once = () => recoverOnce(event, deployment, settings, known);
    recovery = await patiently('recovering', once, settings.remainingMs);
  } catch (error) {
    recovery = known.rollback ? 'rolling-back' : 'recovered';
    if (recovery === 'recovered') await notice.gaveUp(deployment, known.plan, known.report, error);
    else logger.error('the rollback execution started, but handing it the lock failed', { error });
  }
  const { report } = known;
  // Recovered by an earlier delivery; or the rollback execution tells (once) and releases the lock.
  if (recovery === 'rolling-back') logger.warn('started the rollback of a stopped execution', { ...report });
  if (recovery !== 'recovered') return report;
  const lockText = lockEnd(known.standing?.lock);
  await notice.tellOnce(deployment, detail.status, known.plan, report, settings, lockText);
  await notice.releasePatiently(deployment, settings);
  report.actions.push(lockText);
  logger.warn('recovered a stopped execution', { ...report });
  return report;
}
