import { findManagedInstances } from '../aws/ec2.ts';
import { slotTargets } from '../aws/elbv2.ts';
import { readWeights } from '../aws/route53.ts';
import { idList, leftForAPerson, type Read } from '../domain/leftovers.ts';
import { publicationId } from '../domain/publication.ts';
import {
  approvalTimedOut,
  buildReport,
  consoleUrl,
  describeFailure,
  type Outcome,
} from '../domain/report.ts';
import { failedOnGreen } from '../domain/return-to-blue.ts';
import { TAG } from '../domain/tags.ts';
import { sameWeights } from '../domain/traffic.ts';
import type { DeploymentState, Notification } from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { settleBake } from '../operations/bake-cleanup.ts';
import { blueInstances } from '../operations/blue-fleet.ts';
import { healLeftovers } from '../operations/healing.ts';
import { releaseLock } from '../operations/locking.ts';
import { publishOnce } from '../operations/publish-once.ts';
import { greenHeldByAnother } from '../operations/slot-tags.ts';

export interface NotifyInput {
  outcome: Outcome;
  executionArn?: string;
  deployment: DeploymentState;
}

/** A read that says why it failed instead of throwing. */
async function read<T>(what: () => Promise<T>): Promise<Read<T>> {
  try {
    return { ok: true, value: await what() };
  } catch (error) {
    return { ok: false, error: (error as Error).name };
  }
}

/** How the deployment ended where its state does not say, as the caller knows it. */
export interface LeftContext {
  /** The status its execution ended with (the recovery's): a Stop is a verdict on green. */
  status?: string;
  /**
   * Why green's slot is another deployment's, or undefined when it is not (operations/slot-tags.ts
   * greenHeldByAnother): for a caller whose role may read the slot's tags.
   */
  greenHeldByAnother?: () => Promise<string | undefined>;
}

/**
 * What a person must fix after a failed rollback, read from AWS now rather than from the
 * execution state (which may be stale). Each read is best effort: an outage that broke the
 * rollback may break these too, and that is said instead.
 */
export async function whatIsLeft(state: DeploymentState, end: LeftContext = {}): Promise<string[]> {
  const { plan } = state;
  if (!plan) return [];
  const blue = plan.blue;
  const heldBy = end.greenHeldByAnother;
  const [weights, blueTargets, greenTargets, greenInstances, greenHeldBy] = await Promise.all([
    read(() => readWeights(plan)),
    blue ? read(() => slotTargets(plan.slots[blue].targetGroupArn)) : Promise.resolve(undefined),
    read(() => slotTargets(plan.slots[plan.green].targetGroupArn)),
    read(async () =>
      (await findManagedInstances({ [TAG.deploymentId]: state.deploymentId })).map((i) => i.id),
    ),
    heldBy ? read(heldBy) : Promise.resolve(undefined),
  ]);
  return leftForAPerson({
    blue,
    green: plan.green,
    recordName: plan.dns.recordName,
    weights,
    ...(blueTargets ? { blueTargets } : {}),
    greenTargets,
    minHealthyPercent: plan.health.minHealthyPercent,
    greenFailed: failedOnGreen({
      error: state.failure?.Error,
      status: end.status,
      unapproved: approvalTimedOut(state) !== null,
    }),
    greenInstances,
    deploymentTag: `${TAG.deploymentId}=${state.deploymentId}`,
    ...(greenHeldBy ? { greenHeldBy } : {}),
  });
}

/** After a failed blue termination: which blue instances still run. */
export async function blueLeft(state: DeploymentState): Promise<string[]> {
  const blue = state.plan?.blue;
  if (!blue) return [];
  try {
    const running = await blueInstances(state, blue);
    return running.length > 0
      ? [
          `blue instances still running in slot ${blue}: ${idList(running.map((i) => i.id))}; deregister them if still registered, then terminate them`,
        ]
      : [];
  } catch (error) {
    return [
      `instances: could not list blue slot ${blue} instances (${(error as Error).name}); check them by hand`,
    ];
  }
}

/**
 * After a deploy that healed a traffic split failed: whatever of the slot that lost its traffic is
 * still there. The heal may have written and failed before it could say so (no `healing` in the
 * state): the records, changed from the split the plan saw, tell.
 */
export async function healLeft(state: DeploymentState): Promise<string[]> {
  const heal = state.plan?.heal;
  if (!state.plan || !heal) return [];
  const weights = await readWeights(state.plan).catch(() => undefined);
  if (!state.healing && weights && sameWeights(weights, heal.weights)) return [];
  // The heal claims the slot before it writes: refused there, it changed nothing, and whatever the
  // records and the slot hold now is the claiming deployment's, not left by this one.
  if (!state.healing && (await greenHeldByAnother(state.plan, state.deploymentId).catch(() => undefined)))
    return [];
  return healLeftovers(state.plan, state.app, state.env, heal, weights);
}

async function leftOverFor(outcome: Outcome, state: DeploymentState): Promise<string[]> {
  switch (outcome) {
    case 'rollback-failed':
      // Green's slot may have been taken by another deployment since (a lost lock item).
      return whatIsLeft(state, {
        greenHeldByAnother: async () =>
          state.plan ? greenHeldByAnother(state.plan, state.deploymentId) : undefined,
      });
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
  if (!told.repeat)
    logger.info('notification sent', { outcome: input.outcome, messageId: told.value.messageId });
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
