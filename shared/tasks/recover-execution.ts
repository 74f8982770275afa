import type { EventBridgeEvent } from 'aws-lambda';
import { getPublication } from '../aws/dynamodb.ts';
import { findManagedInstances } from '../aws/ec2.ts';
import { classifyAwsError } from '../aws/errors.ts';
import { readWeights } from '../aws/route53.ts';
import { ExecutionHistory, executionArn, startExecution } from '../aws/sfn.ts';
import { rollbackExecutionName } from '../domain/identity.ts';
import { idList, recoveryUnfinished } from '../domain/leftovers.ts';
import { type LockStanding, lockId, RECOVERY_GRACE_SECONDS, unheldLockText } from '../domain/lock.ts';
import { publicationId } from '../domain/publication.ts';
import { failedOnGreen } from '../domain/return-to-blue.ts';
import { STATE } from '../domain/states.ts';
import { TAG } from '../domain/tags.ts';
import { oneLine } from '../domain/text.ts';
import { formatWeights, sameWeights } from '../domain/traffic.ts';
import {
  type BakeState,
  type DeploymentInput,
  type DeploymentState,
  deploymentFieldsSchema,
  endedOnItsOwnPath,
  type Plan,
} from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { settleBake, settleUnrecordedBuilds } from '../operations/bake-cleanup.ts';
import { retireInstances } from '../operations/fleet.ts';
import { handOverLock, lockStandingOf, releaseLock } from '../operations/locking.ts';
import { publishOnce } from '../operations/publish-once.ts';
import { greenSlotStanding } from '../operations/slot-tags.ts';
import { healLeftovers, whatIsLeft } from '../operations/survey.ts';
import { returnDecision } from '../operations/traffic-moves.ts';
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

export interface RecoverySettings {
  locksTable: string;
  defaultTopicArn: string;
  /** The rollback state machine (statemachines/rollback.asl.yml): the rollback of a stopped execution. */
  rollbackStateMachineArn: string;
  /** Time left before the function times out (the Lambda context's); waits never outlast it. */
  remainingMs: () => number;
}

/**
 * Kept for what comes after the last retry: reading what is left, the notification and the lock
 * release, each of them with room for a few retries of its own.
 */
const RESERVE_MS = 40_000;

/** Kept after the notification's last try for the release, and after the release's for the return. */
const TELL_KEEP_MS = 15_000;
const RELEASE_KEEP_MS = 2_000;

/** The longest pause between two tries of a step that failed (full jitter below it). */
const MAX_BACKOFF_MS = 20_000;

export interface RecoveryReport {
  execution: string;
  status: string;
  /** What it found that a person should know, though it could finish (the lock item gone). */
  found: string[];
  actions: string[];
  leftOver: string[];
  /** It gave up before it could read what the deployment had done. */
  blind?: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Stopped {
  plan: Plan;
  history: ExecutionHistory;
  deploymentId: string;
  app: string;
  env: string;
  status: string;
  /** It still holds the app/env lock; else nobody does (see LockStanding). */
  lockHeld: boolean;
}

/** Whether the deployment moved traffic: the records say so, or else its history does. */
async function moved(history: ExecutionHistory, state: string, weightsSay: boolean): Promise<boolean> {
  return weightsSay || (await history.firstOutput(state)) !== undefined;
}

/**
 * What the recovery puts back itself, where no rollback execution is started for it: instances of
 * a launch that never said what it launched, and nothing of a slot that is not this deployment's.
 * With green's slot another's, its traffic is that one's and only this deployment's instances go
 * (kept, and named, when nobody holds the lock). With nobody holding the lock and green's claim
 * not naming this deployment, a traffic step is not known to be its own to undo: nothing moves,
 * and what a person may do is what the rollback rule says now. A heal that ran leaves what it had
 * not cleared listed.
 */
async function restoreTraffic(stopped: Stopped, report: RecoveryReport): Promise<void> {
  const { plan, history, deploymentId, status } = stopped;
  const weights = await readWeights(plan);
  // The heal comes before anything is launched. Whether it ran is in the history: the weights
  // alone cannot tell, since a traffic step may recreate the very split the deploy found.
  const { heal } = plan;
  const healed =
    heal !== undefined && (await moved(history, STATE.heal, !sameWeights(weights, heal.weights)));
  if (heal && !healed) return;
  const { another, claimedByMe } = await greenSlotStanding(plan, deploymentId);
  if (another) {
    // Green's slot held by another deployment: its traffic is that one's; only ours go. With
    // nobody holding the lock, the claim is all that says whose the slot is, and it names another:
    // this deployment's instances may be registered there, serving that one's traffic.
    report.actions.push(`${another}, so its traffic was left as it is`);
    if (!stopped.lockHeld) {
      const kept = (await findManagedInstances({ [TAG.deploymentId]: deploymentId })).map((i) => i.id);
      if (kept.length > 0)
        report.leftOver.push(
          `this deployment's instances (tagged ${TAG.deploymentId}=${deploymentId}) were kept, since nobody holds the lock and ${another}: ${idList(kept)}; if they are registered in slot ${plan.green}'s target group, deregister them only once it carries no traffic or has healthy targets besides them, then terminate them`,
        );
      if (heal) report.leftOver.push(...(await healLeftovers({ ...stopped, plan: { ...plan, heal } })));
      return;
    }
  } else if (!stopped.lockHeld && !claimedByMe) {
    // Nobody holds the lock and green's claim does not name this deployment: a traffic step it
    // wrote is not known to be its own to undo, and its instances may serve it; both are kept.
    if (await moved(history, STATE.shift, (weights[plan.green] ?? 0) > 0)) {
      const mine = `the instances tagged ${TAG.deploymentId}=${deploymentId}`;
      // What a person may do with blue is what the rollback rule says now, as everywhere else.
      const back = plan.blue ? await returnDecision(plan, plan.blue, failedOnGreen({ status })) : undefined;
      const then = !plan.blue
        ? `slot ${plan.green} is the only slot with a fleet, and they serve its traffic`
        : back?.toBlue
          ? `once no other deployment is found to fill slot ${plan.green}, put all traffic on slot ${plan.blue} if it is not there (the rollback rule allows it now: ${back.why}), then terminate them once resolvers have left them (the record TTL, ${plan.dns.ttlSeconds} s)`
          : `keep the traffic where it is: ${back?.why}; move it to slot ${plan.blue} only once slot ${plan.blue} is at least as healthy as slot ${plan.green}`;
      report.leftOver.push(
        `green slot ${plan.green}'s target group does not name this deployment as the one filling it (${TAG.deploymentId}), and with no lock held nothing else says its traffic is this deployment's to move, so traffic stays as it is (${formatWeights(weights)}) and ${mine} were kept: ${then}`,
      );
      return;
    }
  }
  const after = await readWeights(plan);
  if (!another && (after[plan.green] ?? 0) > 0) {
    report.leftOver.push(
      `green slot ${plan.green} carries traffic (${formatWeights(after)}) and there is no previous fleet to return it to; its instances were kept`,
    );
    return;
  }
  const removed = await retireInstances({
    targetGroupArn: plan.slots[plan.green].targetGroupArn,
    tags: { [TAG.deploymentId]: deploymentId },
  });
  if (removed.terminated > 0)
    report.actions.push(
      `${removed.terminated} green instance(s) terminated (tagged ${TAG.deploymentId}=${deploymentId})`,
    );
  if (heal) report.leftOver.push(...(await healLeftovers({ ...stopped, plan: { ...plan, heal } })));
}

/**
 * Runs `step` until it succeeds, pausing with exponential backoff and full jitter after each
 * failure, for as long as the invocation has time for another try and `keepMs` after it.
 * Every step it runs is idempotent (the recovery was built to be run again by Lambda), and a
 * throttled account (Route 53 allows 5 requests a second across every deployment) needs more
 * patience than Lambda's two retries: the state machine's own tasks retry throttling ten times.
 * Throws the last error once time is out.
 */
async function patiently<T>(
  what: string,
  step: () => Promise<T>,
  settings: RecoverySettings,
  keepMs = RESERVE_MS,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      const pause = Math.random() * Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt);
      if (settings.remainingMs() < pause + keepMs) throw error;
      const failure = classifyAwsError(error) as Error;
      logger.warn(`${what} failed; trying again`, {
        attempt: attempt + 1,
        error: failure.name,
        pauseMs: pause,
      });
      await sleep(pause);
    }
  }
}

/** What a recovery that could not finish names for a person, read now (each read best effort). */
async function leftWhenGivingUp(
  deployment: DeploymentInput,
  plan: Plan | undefined,
  status: string,
  error: unknown,
): Promise<string[]> {
  if (!plan) return [recoveryUnfinished(error as Error, deployment)];
  return [recoveryUnfinished(error as Error), ...(await whatIsLeft({ ...deployment, plan }, { status }))];
}

/** Tells what was done and what is left, once (a retry, or the event again, publishes nothing). */
async function tell(
  deployment: DeploymentInput,
  status: string,
  plan: Plan | undefined,
  report: RecoveryReport,
  settings: RecoverySettings,
  lockText: string,
  /** Which message of this deployment's this is: the recovery's, or the one after its rollback's end. */
  kind = 'recovery',
): Promise<void> {
  const who = `${deployment.app}/${deployment.env} ${deployment.version}`;
  // Without a plan it changed nothing, unless its history could not be read to know.
  const unchanged = !plan && !report.blind;
  const summary = `${who} was ${status.toLowerCase().replace('_', ' ')}${unchanged ? ' before it changed anything' : ''}; ${[...report.found, ...report.actions, lockText].join('; ')}${report.leftOver.length > 0 ? `. Left for a person: ${report.leftOver.join('; ')}` : ''}.`;
  await publishOnce(
    settings.locksTable,
    publicationId(deployment.deploymentId, kind),
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
}

/**
 * Whether a message of this deployment's is out: with `recovery`, an earlier attempt of this
 * recovery told already; without, its final notification did (the last task of every path, so it
 * was stopped after its own path had ended: the notifier had told, and handed the lock on).
 * Either way only the lock release is left.
 */
async function toldAlready(
  deployment: DeploymentInput,
  settings: RecoverySettings,
  kind?: 'recovery',
): Promise<boolean> {
  const record = await getPublication(settings.locksTable, publicationId(deployment.deploymentId, kind));
  return record?.state === 'published';
}

type Recovery =
  | { kind: 'recovered-already' }
  | { kind: 'recovered'; plan: Plan | undefined }
  | { kind: 'rolling-back' };

/**
 * Starts the rollback execution of the stopped one, from its last known state, with how it ended
 * as the failure (a Stop is a verdict on green, as for the rollback rule), and what the recovery
 * found in its cause (so the rollback's one notification says it), and hands it the lock. Named
 * after the stopped execution: the event again starts nothing new.
 */
async function startRollback(
  deployment: DeploymentInput,
  detail: ExecutionStatusChange,
  history: ExecutionHistory,
  settings: RecoverySettings,
  lockHeld: boolean,
  found: string[],
): Promise<string> {
  const last = (await history.lastOutput()) as DeploymentState;
  const name = rollbackExecutionName(detail.name);
  const how: string =
    ({ ABORTED: 'stopped', TIMED_OUT: 'timed out' } as Record<string, string>)[detail.status] ?? 'failed';
  const cause = `the execution ${detail.name} ${how}${detail.error ? ` (${detail.error}${detail.cause ? `: ${oneLine(detail.cause)}` : ''})` : ''}`;
  const failure = { Error: detail.status, Cause: [cause, ...found].join('; ') };
  const input = { ...deployment, ...last, failure };
  let arn: string;
  let started = true;
  try {
    arn = await startExecution(settings.rollbackStateMachineArn, name, input);
  } catch (error) {
    if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
    arn = executionArn(settings.rollbackStateMachineArn, name);
    started = false;
  }
  const { app, env, deploymentId } = deployment;
  if (lockHeld) await handOverLock(settings.locksTable, app, env, deploymentId, arn);
  logger.warn('rollback execution started', { name, started });
  return name;
}

/** What an invocation has learnt, kept across its attempts. */
interface Known {
  plan?: Plan;
  lock?: LockStanding;
}

/** The lock's part of the story: released, unless nobody held it or it was taken over. */
function lockEnd(known: Known): string {
  if (known.lock?.kind === 'unheld') return 'no lock of its to release';
  if (known.lock?.kind === 'another') return `its lock already taken over by ${known.lock.holder}`;
  return 'lock released';
}

/** One try at putting things back: idempotent, so it is tried again whole after any failure. */
async function recoverOnce(
  event: EventBridgeEvent<string, ExecutionStatusChange>,
  deployment: DeploymentInput,
  settings: RecoverySettings,
  report: RecoveryReport,
  known: Known,
): Promise<Recovery> {
  const detail = event.detail;
  const history = new ExecutionHistory(detail.executionArn);
  const planned = (await history.firstOutput(STATE.plan)) as { plan?: Plan } | undefined;
  const plan = planned?.plan;
  if (plan) {
    known.plan = plan;
    // Whether this is still this deployment's to recover, decided once per invocation (it took
    // the lock before planning). Another holds the lock: an earlier delivery of this event, or a
    // retry, recovered it and handed the lock on. Nobody holds it (the item deleted by hand, a
    // table restored from a backup): what this deployment started itself is still put back, its
    // build and its own instances, and traffic only where green's claim names it (restoreTraffic);
    // and a person is told the lock was not there.
    known.lock ??= await lockStandingOf(
      settings.locksTable,
      deployment.app,
      deployment.env,
      deployment.deploymentId,
    );
    const lock = known.lock;
    const endedAt = detail.stopDate ?? Date.parse(event.time);
    const pastGrace = Date.now() + settings.remainingMs() > endedAt + RECOVERY_GRACE_SECONDS * 1000;
    // Another holds it within the grace: an earlier delivery told (the handler checked) and handed
    // it on. Past the grace it may have been taken over with nobody told: then it is told below.
    if (lock.kind === 'another' && !pastGrace) {
      logger.info('recovered already: this deployment no longer holds the lock', { holder: lock.holder });
      return { kind: 'recovered-already' };
    }
    if (lock.kind === 'unheld') {
      logger.warn('nobody holds the lock: recovering what this deployment started', { item: lock.item });
      report.found.push(unheldLockText(lock, lockId(deployment.app, deployment.env), settings.locksTable));
    }
    // Too late to act safely: a recovery still running when the lock's grace is over would
    // change things beside the deployment that takes the lock over. A person finishes instead,
    // told what is left as the rollback rule sees it now (reads only).
    if (pastGrace) {
      report.leftOver.push(
        `this recovery started ${Math.round((Date.now() - endedAt) / 60_000)} minutes after the execution ended, too near the ${RECOVERY_GRACE_SECONDS / 60} minutes after which its lock is taken over, so it changed nothing`,
        ...(await whatIsLeft({ ...deployment, plan }, { status: detail.status })),
      );
      return { kind: 'recovered', plan };
    }
    // A build this deployment started runs on when the execution stops before green is launched
    // from its AMI: settle it.
    const baking = (await history.firstOutput(STATE.bake)) as { bake?: BakeState } | undefined;
    const arn = baking?.bake?.imageBuildVersionArn;
    const launched = (await history.firstOutput(STATE.launch)) !== undefined;
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
    const { deploymentId, app, env } = deployment;
    // Green exists or took traffic: the rollback states put things back, in an execution of their own.
    const greenWeight = async () => ((await readWeights(plan))[plan.green] ?? 0) > 0;
    // (Before the heal moved it, the split is the deploy's starting point, not green's traffic.)
    if (launched || (!plan.heal && (await moved(history, STATE.shift, await greenWeight())))) {
      const { another, claimedByMe } = await greenSlotStanding(plan, deploymentId);
      if (!another && (lock.kind === 'held' || claimedByMe)) {
        const held = lock.kind === 'held';
        const name = await startRollback(deployment, detail, history, settings, held, report.found);
        report.actions.push(`its rollback runs as execution ${name}`);
        return { kind: 'rolling-back' };
      }
    }
    await restoreTraffic(
      { plan, history, deploymentId, app, env, status: detail.status, lockHeld: lock.kind === 'held' },
      report,
    );
  }
  return { kind: 'recovered', plan };
}

/**
 * Every execution's end reaches this handler. Step Functions runs no Catch when an execution is
 * stopped, times out, or dies on a runtime error. This handler, on the execution's status change,
 * does what the rollback would have: all traffic back to the slot that was live before, this
 * deployment's instances terminated, everyone told, the lock released. Each step is tried again
 * with backoff while the invocation has time (every step is idempotent: EventBridge delivers at
 * least once and Lambda retries). One that still cannot finish says so, naming what is left for a
 * person, and frees the app anyway: told first, released last, so a retry after a failed release
 * finds the story told and only releases.
 */
export async function recoverExecution(
  event: EventBridgeEvent<string, ExecutionStatusChange>,
  settings: RecoverySettings,
): Promise<RecoveryReport> {
  const detail = event.detail;
  const input = parseWith(deploymentFieldsSchema, JSON.parse(detail.input ?? '{}'));
  const fresh = (): RecoveryReport => ({
    execution: detail.name,
    status: detail.status,
    found: [],
    actions: [],
    leftOver: [],
  });
  if (!input.ok) {
    logger.warn('status change of an execution without a deployment input; nothing to do', {
      execution: detail.name,
    });
    return fresh();
  }
  const deployment = input.value;
  const release = () =>
    patiently(
      'releasing the lock',
      () => releaseLock(settings.locksTable, deployment.app, deployment.env, deployment.deploymentId),
      settings,
      RELEASE_KEEP_MS,
    );
  if (detail.stateMachineArn === settings.rollbackStateMachineArn) {
    // A rollback execution ended: its final notification releases the lock, unless it could not
    // (the lock is then released here). One that was stopped, timed out or crashed itself is not
    // rolled back again: a person is told, once, what is left (read now), and the app is freed.
    const report = fresh();
    if (!endedOnItsOwnPath(detail.status, detail.error)) {
      logger.error('a rollback execution ended before it finished', { execution: detail.name });
      const state = JSON.parse(detail.input ?? '{}') as DeploymentState;
      report.leftOver.push(
        `its rollback execution ${detail.name} ended ${detail.status} before it finished`,
        ...(await whatIsLeft(state, { status: detail.status })),
      );
      await patiently(
        'telling',
        () =>
          tell(deployment, detail.status, state.plan, report, settings, 'lock released', 'rollback-ended'),
        settings,
        TELL_KEEP_MS,
      );
    }
    await release();
    return report;
  }
  if (endedOnItsOwnPath(detail.status, detail.error)) {
    // The workflow ended through its own paths; only make sure the lock is free (the release in
    // the final notification may have failed with it).
    await release();
    return fresh();
  }
  if (await toldAlready(deployment, settings, 'recovery').catch(() => false)) {
    logger.info('told already by an earlier attempt: only the lock release is left');
    await release();
    return fresh();
  }
  if (await toldAlready(deployment, settings).catch(() => false)) {
    logger.info(
      'its final notification is out: stopped after its own path ended; only the lock release is left',
    );
    await release();
    return fresh();
  }
  const known: Known = {};
  let report = fresh();
  let recovery: Recovery;
  try {
    recovery = await patiently(
      'recovering',
      () => {
        report = fresh();
        return recoverOnce(event, deployment, settings, report, known);
      },
      settings,
    );
  } catch (error) {
    logger.error('the recovery could not finish: telling what is left and freeing the app', { error });
    report = {
      ...report,
      leftOver: [
        ...report.leftOver,
        ...(await leftWhenGivingUp(deployment, known.plan, detail.status, error)),
      ],
      ...(known.plan ? {} : { blind: true }),
    };
    recovery = { kind: 'recovered', plan: known.plan };
  }
  if (recovery.kind === 'recovered-already') return report;
  if (recovery.kind === 'rolling-back') {
    // The rollback execution tells (once) and releases the lock.
    logger.warn('started the rollback of a stopped execution', { ...report });
    return report;
  }
  await patiently(
    'telling',
    () => tell(deployment, detail.status, recovery.plan, report, settings, lockEnd(known)),
    settings,
    TELL_KEEP_MS,
  );
  await release();
  report.actions.push(lockEnd(known));
  logger.warn('recovered a stopped execution', { ...report });
  return report;
}
