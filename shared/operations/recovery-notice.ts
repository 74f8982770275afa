import { getPublication } from '../aws/dynamodb.ts';
import { recoveryUnfinished } from '../domain/leftovers.ts';
import { tooLateToRecoverText } from '../domain/lock.ts';
import type { MessageAttributes } from '../domain/notifications.ts';
import { publicationId } from '../domain/publication.ts';
import {
  type ExecutionStatusChange,
  type RecoveryReport,
  type RecoverySettings,
  recoveryMessage,
} from '../domain/recovery.ts';
import type { DeploymentInput, DeploymentState, Plan } from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { releaseLock } from './locking.ts';
import { patiently, RELEASE_KEEP_MS, TELL_KEEP_MS } from './patience.ts';
import { publishOnce } from './publish-once.ts';
import { whatIsLeft } from './survey.ts';

/** What the record of a recovery's message keeps (`published` of its publication record). */
export interface RecoveryTold {
  messageId: string;
  /** How many things the message left for a person: none after a clean recovery. */
  leftOver: number;
}

/**
 * Tells what was done and what is left, once (a retry, or the event again, publishes nothing),
 * trying again with backoff while the invocation has time.
 */
export async function tellOnce(
  deployment: DeploymentInput,
  status: string,
  plan: Plan | undefined,
  report: RecoveryReport,
  settings: RecoverySettings,
  lockText: string,
  /** Which message of this deployment's this is: the recovery's, or the one after its rollback's end. */
  kind: 'recovery' | 'rollback-ended' = 'recovery',
): Promise<void> {
  // Without a plan it changed nothing, unless its history could not be read to know.
  const { subject, message } = recoveryMessage(deployment, status, report, lockText, !plan && !report.blind);
  const attributes: MessageAttributes = {
    kind: 'outcome',
    outcome: 'stopped',
    app: deployment.app,
    env: deployment.env,
    version: deployment.version,
    deployment: deployment.deploymentId,
  };
  const id = publicationId(deployment.deploymentId, kind);
  const topicArn = plan?.topicArn ?? settings.defaultTopicArn;
  const publish = () =>
    publishOnce(settings.locksTable, id, settings.remainingMs, async () => ({
      topicArn,
      subject,
      message,
      attributes,
      // The count of what was left for a person is kept with the record: the command line reads it
      // to tell a clean recovery from one a person must finish.
      result: (messageId): RecoveryTold => ({ messageId, leftOver: report.leftOver.length }),
    }));
  await patiently('telling', publish, settings.remainingMs, TELL_KEEP_MS);
}

/**
 * Whether a message of this deployment's is out: an earlier attempt of this recovery told
 * already, or its final notification did (the last task of every path, so it was stopped after
 * its own path had ended: the notifier had told, and handed the lock on). Either way only the
 * lock release is left. A failed read counts as not told.
 */
export async function toldAlready(deployment: DeploymentInput, settings: RecoverySettings): Promise<boolean> {
  for (const kind of ['recovery', undefined] as const) {
    const id = publicationId(deployment.deploymentId, kind);
    const record = await getPublication(settings.locksTable, id).catch(() => undefined);
    if (record?.state === 'published') {
      logger.info('told already: only the lock release is left', { by: kind ?? 'final notification' });
      return true;
    }
  }
  return false;
}

/**
 * A recovery that could not finish: what it names for a person, read now (each read best effort),
 * is added to its report; without a plan it could not read what the deployment had done.
 */
export async function gaveUp(
  deployment: DeploymentInput,
  plan: Plan | undefined,
  report: RecoveryReport,
  error: unknown,
): Promise<void> {
  logger.error('the recovery could not finish: telling what is left and freeing the app', { error });
  if (!plan) {
    report.leftOver.push(recoveryUnfinished(error as Error, deployment));
    report.blind = true;
    return;
  }
  const left = await whatIsLeft({ ...deployment, plan }, { status: report.status });
  report.leftOver.push(recoveryUnfinished(error as Error), ...left);
}

/**
 * A rollback execution that was itself stopped, timed out or crashed is rolled back by nobody: a
 * person is told, once, what is left (read now).
 */
export async function tellRollbackEnded(
  deployment: DeploymentInput,
  detail: Pick<ExecutionStatusChange, 'input'>,
  report: RecoveryReport,
  settings: RecoverySettings,
): Promise<void> {
  logger.error('a rollback execution ended before it finished', { execution: report.execution });
  const state = JSON.parse(detail.input ?? '{}') as DeploymentState;
  report.leftOver.push(
    `its rollback execution ${report.execution} ended ${report.status} before it finished`,
    ...(await whatIsLeft(state, { status: report.status })),
  );
  await tellOnce(deployment, report.status, state.plan, report, settings, 'lock released', 'rollback-ended');
}

/** Releases the deployment's lock, trying again with backoff while the invocation has time. */
export async function releasePatiently(
  deployment: DeploymentInput,
  settings: RecoverySettings,
): Promise<void> {
  const free = () =>
    releaseLock(settings.locksTable, deployment.app, deployment.env, deployment.deploymentId);
  await patiently('releasing the lock', free, settings.remainingMs, RELEASE_KEEP_MS);
}

/**
 * Too late to act safely: a recovery still running when the lock's grace is over would change
 * things beside the deployment that takes the lock over. A person finishes instead, told what is
 * left as the rollback rule sees it now (reads only).
 */
export async function leaveToAPerson(
  state: DeploymentState,
  endedAtMs: number,
  report: RecoveryReport,
): Promise<void> {
  const late = tooLateToRecoverText(endedAtMs, Date.now());
  report.leftOver.push(late, ...(await whatIsLeft(state, { status: report.status })));
}
