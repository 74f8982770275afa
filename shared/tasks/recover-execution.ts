import type { EventBridgeEvent } from 'aws-lambda';
import { changeStatus, readWeights } from '../aws/route53.ts';
import { ExecutionHistory } from '../aws/sfn.ts';
import { settleBake, settleUnrecordedBuilds } from '../bake-cleanup.ts';
import { RECOVERY_GRACE_SECONDS } from '../domain/lock.ts';
import { publicationId } from '../domain/publication.ts';
import { TAG } from '../domain/tags.ts';
import { formatWeights, sameWeights } from '../domain/traffic.ts';
import {
  type BakeState,
  type DeploymentInput,
  deploymentFieldsSchema,
  endedOnItsOwnPath,
  type Plan,
} from '../domain/workflow.ts';
import { retireInstances } from '../fleet.ts';
import { healLeftovers } from '../healing.ts';
import { lockHolder, releaseLock } from '../locking.ts';
import { logger } from '../logger.ts';
import { publishOnce } from '../publish-once.ts';
import { greenHeldByAnother } from '../slot-tags.ts';
import { moveAllTrafficTo } from '../traffic-moves.ts';
import { parseWith } from '../validation.ts';

export interface ExecutionStatusChange {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: string;
  /** When it ended (epoch milliseconds), as the status-change event carries it. */
  stopDate?: number | null;
  input?: string | null;
  error?: string | null;
  cause?: string | null;
}

export const PLAN_STATE = 'Plan the deployment';

export interface RecoverySettings {
  locksTable: string;
  defaultTopicArn: string;
  /** Pause between GetChange polls. */
  pollMs?: number;
  /** Time left before the function times out (the Lambda context's); waits never outlast it. */
  remainingMs: () => number;
}

/** Kept for the lock release and the notification after the last wait. */
const RESERVE_MS = 20_000;

export interface RecoveryReport {
  execution: string;
  status: string;
  actions: string[];
  leftOver: string[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** States whose first output says this deployment moved traffic (the history keeps it). */
const HEAL_STATE = 'Move all traffic to the healthier slot';
const SHIFT_STATE = 'Shift traffic to the next step';
const BAKE_STATE = 'Find or start the AMI bake';
const LAUNCH_STATE = 'Launch the green fleet';

interface Stopped {
  plan: Plan;
  history: ExecutionHistory;
  deploymentId: string;
  app: string;
  env: string;
  status: string;
}

/** Whether the deployment moved traffic: the records say so, or else its history does. */
async function moved(history: ExecutionHistory, state: string, weightsSay: boolean): Promise<boolean> {
  return weightsSay || (await history.firstOutput(state)) !== undefined;
}

/**
 * All traffic back to blue and this deployment's instances gone, as the rollback would have done.
 * Once any traffic step was written, green goes only after a change putting everything on blue is
 * in sync and resolvers have had the TTL, even when the records already point at blue (a Stop
 * during the rollback's own wait, or this event delivered twice). Unless blue can no longer serve
 * (stopped while blue was being retired, or blue died meanwhile): then green stays live and whole,
 * and what is left of blue is for a person. A heal that ran leaves what it had not cleared listed.
 */
async function restoreTraffic(
  stopped: Stopped,
  settings: RecoverySettings,
  report: RecoveryReport,
): Promise<void> {
  const { plan, history, deploymentId, status } = stopped;
  const weights = await readWeights(plan);
  // The heal comes before anything is launched. Whether it ran is in the history: the weights
  // alone cannot tell, since a traffic step may recreate the very split the deploy found.
  const { heal } = plan;
  const healed =
    heal !== undefined && (await moved(history, HEAL_STATE, !sameWeights(weights, heal.weights)));
  if (heal && !healed) return;
  // Green's slot held by another deployment: its traffic is that one's; only ours go.
  const another = await greenHeldByAnother(plan, deploymentId);
  const shifted = !another && (await moved(history, SHIFT_STATE, (weights[plan.green] ?? 0) > 0));
  if (another) report.actions.push(`${another}, so its traffic was left as it is`);
  if (shifted && plan.blue) {
    const dns = await moveAllTrafficTo(
      plan,
      plan.blue,
      `${deploymentId} ${status.toLowerCase()}: all traffic back to slot ${plan.blue}`,
      weights,
    );
    if (!dns) {
      report.leftOver.push(
        `blue slot ${plan.blue} has no healthy target, so traffic stays on green slot ${plan.green} (${formatWeights(weights)}) and its instances were kept; once green is checked, terminate what remains of blue (instances tagged ${TAG.slot}=${plan.blue} without ${TAG.deploymentId}=${deploymentId})`,
      );
      return;
    }
    const { changeId } = dns;
    report.actions.push(`traffic returned to slot ${plan.blue}`);
    const pollMs = settings.pollMs ?? 5000;
    let synced = false;
    while (!synced && settings.remainingMs() > pollMs + RESERVE_MS) {
      synced = (await changeStatus(changeId)) === 'INSYNC';
      if (!synced) await sleep(pollMs);
    }
    // Resolvers may keep the old answer for a TTL; green must outlive it.
    const ttlMs = plan.dns.ttlSeconds * 1000;
    if (!synced || settings.remainingMs() < ttlMs + RESERVE_MS) {
      report.leftOver.push(
        `green instances in slot ${plan.green} were kept: Route 53 change ${changeId} ${synced ? `is in sync, but the record TTL (${plan.dns.ttlSeconds} s) is longer than this recovery can wait` : 'was not in sync before this recovery had to stop'}; terminate the instances tagged ${TAG.deploymentId}=${deploymentId} once it is in sync and ${plan.dns.ttlSeconds} s have passed`,
      );
      return;
    }
    await sleep(ttlMs);
  }
  const after = await readWeights(plan);
  if (!another && (after[plan.green] ?? 0) > 0) {
    report.leftOver.push(
      `green slot ${plan.green} carries traffic (${formatWeights(after)}) and there is no previous fleet to return it to; its instances were kept`,
    );
    return;
  }
  const removed = await retireInstances(plan.slots[plan.green].targetGroupArn, {
    [TAG.deploymentId]: deploymentId,
  });
  if (removed.terminated.length > 0)
    report.actions.push(`green instances terminated: ${removed.terminated.join(', ')}`);
  if (heal) report.leftOver.push(...(await healLeftovers(plan, stopped.app, stopped.env, heal)));
}

/**
 * Every execution's end reaches this handler. Step Functions runs no Catch when an execution is stopped, times out, or dies on a runtime
 * error. This handler, on the execution's status change, does what the rollback would have: all
 * traffic back to the slot that was live before, this deployment's instances terminated, the lock
 * released, everyone told. Every step is idempotent (EventBridge delivers at least once).
 */
/** Tells what was done and what is left, then hands the lock on (after: a retry tells again). */
async function tell(
  deployment: DeploymentInput,
  status: string,
  plan: Plan | undefined,
  report: RecoveryReport,
  settings: RecoverySettings,
): Promise<void> {
  report.actions.push('lock released');
  const who = `${deployment.app}/${deployment.env} ${deployment.version}`;
  const summary = `${who} was ${status.toLowerCase().replace('_', ' ')}${plan ? '' : ' before it changed anything'}; ${report.actions.join('; ')}${report.leftOver.length > 0 ? `. Left for a person: ${report.leftOver.join('; ')}` : ''}.`;
  // Told once: the status change delivered twice, or this function retried, finds the
  // publication recorded and publishes nothing (see publishOnce).
  await publishOnce(
    settings.locksTable,
    publicationId(deployment.deploymentId, 'recovery'),
    settings.remainingMs,
    async () => ({
      topicArn: plan?.topicArn ?? settings.defaultTopicArn,
      subject: `Stopped: ${who}`,
      message: summary,
      attributes: {
        outcome: 'stopped',
        app: deployment.app,
        env: deployment.env,
        version: deployment.version,
        deployment: deployment.deploymentId,
      },
      result: (messageId) => messageId,
    }),
  );
  // Told first, released last: a retry after a failed release recovers (idempotently), rather
  // than hold a lock whose story nobody heard.
  await releaseLock(settings.locksTable, deployment.app, deployment.env, deployment.deploymentId);
}

export async function recoverExecution(
  event: EventBridgeEvent<string, ExecutionStatusChange>,
  settings: RecoverySettings,
): Promise<RecoveryReport> {
  const detail = event.detail;
  const report: RecoveryReport = { execution: detail.name, status: detail.status, actions: [], leftOver: [] };
  const input = parseWith(deploymentFieldsSchema, JSON.parse(detail.input ?? '{}'));
  if (!input.ok) {
    logger.warn('status change of an execution without a deployment input; nothing to do', {
      execution: detail.name,
    });
    return report;
  }
  const deployment = input.value;
  if (endedOnItsOwnPath(detail.status, detail.error)) {
    // The workflow ended through its own paths; only make sure the lock is free (the release in
    // the final notification may have failed with it).
    await releaseLock(settings.locksTable, deployment.app, deployment.env, deployment.deploymentId);
    return report;
  }
  const history = new ExecutionHistory(detail.executionArn);
  const planned = (await history.firstOutput(PLAN_STATE)) as { plan?: Plan } | undefined;
  const plan = planned?.plan;
  if (plan) {
    // Recovered only while this deployment still holds the lock (it took it before planning): if
    // it does not, an earlier delivery of this event, or a retry, has recovered it and handed the
    // lock on, and the next deployment may be changing the same records by now.
    const holder = await lockHolder(settings.locksTable, deployment.app, deployment.env);
    if (holder !== deployment.deploymentId) {
      logger.info('recovered already: this deployment no longer holds the lock', { holder });
      return report;
    }
    // Too late to act safely: a recovery still running when the lock's grace is over would
    // change things beside the deployment that takes the lock over. A person finishes instead.
    const endedAt = detail.stopDate ?? Date.parse(event.time);
    if (Date.now() + settings.remainingMs() > endedAt + RECOVERY_GRACE_SECONDS * 1000) {
      report.leftOver.push(
        `this recovery started ${Math.round((Date.now() - endedAt) / 60_000)} minutes after the execution ended, too near the ${RECOVERY_GRACE_SECONDS / 60} minutes after which its lock is taken over, so it changed nothing: put all traffic on slot ${plan.blue ?? plan.green} if it is not there, then terminate the instances tagged ${TAG.deploymentId}=${deployment.deploymentId} once resolvers have left them`,
      );
      await tell(deployment, detail.status, plan, report, settings);
      return report;
    }
    // A build this deployment started runs on when the execution stops before green is launched
    // from its AMI: settle it.
    const baking = (await history.firstOutput(BAKE_STATE)) as { bake?: BakeState } | undefined;
    const arn = baking?.bake?.imageBuildVersionArn;
    const launched = (await history.firstOutput(LAUNCH_STATE)) !== undefined;
    if (arn && !launched) {
      const settled = await settleBake({ ...deployment, plan }, arn);
      if (settled.action) report.actions.push(settled.action);
      if (settled.left) report.leftOver.push(settled.left);
    } else if (!baking) {
      // Stopped while the bake task ran: a build it started is in no state yet.
      const settled = await settleUnrecordedBuilds(
        { ...deployment, plan },
        plan.bake.infrastructureConfigurationArn,
      );
      report.actions.push(...settled.actions);
      report.leftOver.push(...settled.left);
    }
  }
  if (plan?.green) {
    const { deploymentId, app, env } = deployment;
    const stopped = {
      plan,
      history,
      deploymentId,
      app,
      env,
      status: detail.status,
    };
    await restoreTraffic(stopped, settings, report);
  }
  await tell(deployment, detail.status, plan, report, settings);
  logger.warn('recovered a stopped execution', { ...report });
  return report;
}
