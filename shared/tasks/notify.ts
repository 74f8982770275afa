import { deploymentMetrics } from '../domain/metrics.ts';
import { publicationId } from '../domain/publication.ts';
import { buildReport, consoleUrl, describeFailure, type Outcome } from '../domain/report.ts';
import type { DeploymentState, Notification } from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { emitDeploymentMetrics } from '../metrics.ts';
import { settleBake } from '../operations/bake-cleanup.ts';
import { releaseLock } from '../operations/locking.ts';
import { tellProgress } from '../operations/progress.ts';
import { publishOnce } from '../operations/publish-once.ts';
import { blueLeft, healLeft, whatIsLeft } from '../operations/survey.ts';

export interface NotifyInput {
  outcome: Outcome;
  executionArn?: string;
  deployment: DeploymentState;
}

async function leftOverFor(outcome: Outcome, state: DeploymentState): Promise<string[]> {
  switch (outcome) {
    case 'rollback-failed':
      return whatIsLeft(state);
    case 'cleanup-failed':
      return blueLeft(state);
    case 'failed':
      return healLeft(state);
    default:
      return [];
  }
}

/**
 * The final notification of every end path: tells once, then hands the app/env on. Told first,
 * released last: a lock table that keeps failing can delay the hand-over (the recovery function,
 * run on every execution's end, releases it too, and the next deployment takes over the lock of an
 * execution that ended on its own path at once), but never the message. Told once: the
 * publication is recorded under `notified#<execution>` (see publishOnce), so a retry after a
 * timeout, or the same invocation delivered twice, returns what was sent and publishes nothing.
 */
export async function notify(
  input: NotifyInput,
  defaultTopicArn: string,
  locksTable: string,
  remainingMs: () => number = () => 60_000,
): Promise<Notification> {
  const state = input.deployment;
  // A deploy that failed while its AMI baked leaves the build running: settle it while this
  // deployment still holds the lock (settleBake never throws: what it cannot do, it says).
  const { plan, bake: baking } = state;
  const arn =
    input.outcome === 'failed' && baking?.status === 'BUILDING' ? baking.imageBuildVersionArn : undefined;
  const bake = plan && arn ? await settleBake({ ...state, plan }, arn) : {};
  const told = await publishOnce<Notification>(
    locksTable,
    publicationId(state.deploymentId),
    remainingMs,
    async () => {
      const leftOver = await leftOverFor(input.outcome, state);
      const report = buildReport(state, input.outcome, new Date(), leftOver);
      const lines = [report.summary, ''];
      if (input.outcome === 'rollback-failed' && state.rollbackFailure) {
        lines.push(`Rollback step failed with ${describeFailure(state.rollbackFailure)}`, '');
      }
      lines.push(...report.lines);
      if (bake.action) lines.push(`Bake: ${bake.action}.`);
      if (bake.left) lines.push(`Left for a person: ${bake.left}.`);
      if (input.executionArn) lines.push('', `Execution: ${consoleUrl(input.executionArn)}`);
      return {
        topicArn: state.plan?.topicArn ?? defaultTopicArn,
        subject: report.subject,
        message: lines.join('\n'),
        attributes: {
          kind: 'outcome',
          outcome: input.outcome,
          app: state.app ?? '',
          env: state.env ?? '',
          version: state.version ?? '',
          deployment: state.deploymentId ?? '',
        },
        result: (messageId) => ({
          outcome: input.outcome,
          subject: report.subject,
          summary: report.summary,
          leftOver,
          messageId,
        }),
      };
    },
  );
  if (!told.repeat) {
    logger.info('notification sent', { outcome: input.outcome, messageId: told.value.messageId });
    // Counted with the message, once: a repeat of this task counts nothing again. Metrics that
    // cannot be written are logged, never a reason to fail the end of a deployment.
    try {
      emitDeploymentMetrics(state.app, state.env, deploymentMetrics(state, input.outcome, new Date()));
    } catch (error) {
      logger.error('could not write the deployment metrics', { error });
    }
  }
  // Told on every attempt (a repeat may follow an attempt whose put was lost): consumers dedupe by id.
  await tellProgress(state, 'finished', { outcome: input.outcome });
  // Every end path passes here: hand the app/env to the next deployment (a no-op unless we own it).
  try {
    await releaseLock(locksTable, state.app, state.env, state.deploymentId);
  } catch (error) {
    // Not thrown: the message is out, and a retry must not be what hands the lock on (the
    // recovery on this execution's end releases it, and the next deployment takes it over).
    logger.error('notified, but could not release the lock; it is released when the execution ends', {
      error,
    });
  }
  return told.value;
}
