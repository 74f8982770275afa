import { getLock, getWait, type WaitItem } from '../aws/dynamodb.ts';
import { callbackOutcome, currentStateName, executionState, sendTaskSuccess } from '../aws/sfn.ts';
import { NAME_PATTERN } from '../domain/artifact-key.ts';
import { lockId } from '../domain/lock.ts';
import {
  PROMOTABLE_STATES,
  type PromotedWatch,
  type PromoteResult,
  type Promotion,
  promoterProblem,
  promotionIn,
  type Running,
  waitStateOf,
} from '../domain/promotion.ts';
import { alarmWatchId } from '../domain/waits.ts';

export interface PromoteSettings {
  /** The service's locks table: the app/env's lock names who runs, the watch holds its wait's token. */
  locksTable: string;
}

/** The bad inputs, each named by its field. */
function inputProblems(app: string, env: string, by: string): string[] {
  const name = 'must be 1-32 lowercase letters, digits or inner hyphens';
  return [
    ...(NAME_PATTERN.test(app) ? [] : [`app ${name}`]),
    ...(NAME_PATTERN.test(env) ? [] : [`env ${name}`]),
    ...[promoterProblem(by)].filter((p): p is string => p !== undefined),
  ];
}

/** A watch this execution stored, with the wait it is. */
type Watch = WaitItem & Required<Pick<WaitItem, 'wait'>>;

/** The promote the newest run of the wait's state ended with, if a promote ended it. */
async function promotedAlready(executionArn: string, watch: Watch) {
  const outcome = await callbackOutcome(executionArn, waitStateOf(watch.wait));
  if (outcome.kind !== 'succeeded') return { outcome };
  try {
    return { outcome, promotion: promotionIn(JSON.parse(outcome.output) as PromotedWatch) };
  } catch {
    return { outcome };
  }
}

/** The running deployment of the app/env (the lock's owner, still running), or why there is none. */
async function runningDeployment(table: string, lock: string): Promise<Running | PromoteResult> {
  const owner = (await getLock(table, lock))?.owner;
  if (!owner) return { outcome: 'nothing-running', lock };
  const running = { deployment: owner.name, executionArn: owner.executionArn };
  const status = (await executionState(owner.executionArn))?.status ?? 'unknown';
  return status === 'RUNNING' ? running : { outcome: 'nothing-running', lock, ended: { ...running, status } };
}

/**
 * Where the deployment is (the state its history names last) and the watch its execution stored
 * (after a Stop, the lock names the rollback's execution, which stores none).
 */
async function whereItIs(table: string, running: Running) {
  const state = await currentStateName(running.executionArn);
  const found = await getWait(table, alarmWatchId(running.deployment));
  const ours = found?.wait && found.executionArn === running.executionArn;
  const watch: Watch | undefined = ours && found.wait ? { ...found, wait: found.wait } : undefined;
  return { state, watch };
}

/**
 * Ends the wait with the promotion as its result. A token that no longer works tells, by the
 * history, how the wait ended meanwhile: by a promote (this one asked for again, or another's),
 * its timeout or an alarm; or that it was the wait before and the new one has not stored its own.
 */
async function endWait(running: Running, watch: Watch, state: string, promotion: Promotion) {
  if (await sendTaskSuccess(watch.token, { promoted: promotion } satisfies PromotedWatch))
    return { ...running, outcome: 'promoted', promotion } as const;
  const { outcome, promotion: earlier } = await promotedAlready(running.executionArn, watch);
  if (earlier) return { ...running, outcome: 'already-promoted', promotion: earlier, state } as const;
  const { wait } = watch;
  if (outcome.kind === 'timed-out')
    return { ...running, outcome: 'wait-ended', wait, how: 'timed-out' } as const;
  if (outcome.kind === 'failed')
    return { ...running, outcome: 'wait-ended', wait, how: 'failed', error: outcome.error } as const;
  return { ...running, outcome: 'not-ready', state } as const;
}

/**
 * `bluegreen promote APP ENV`: ends the wait the running deployment of the app/env is in, the
 * settle wait of its current traffic step or the termination window's, as if it had run out, with
 * who promoted and when as the wait's result (SendTaskSuccess on the wait's token, stored by the
 * watch task). Only the wait ends: the step's alarm and health check runs next all the same, and so
 * does the window's before blue goes. Anything else the deployment is doing (baking, asking for an
 * approval, a DNS change, a rollback) is refused, and so is a wait that ended as the promote came,
 * and a wait whose traffic change resolvers may not have picked up yet (INSYNC + the record TTL).
 * Idempotent: a promote asked for again finds the first and says so. `by` is the caller's identity
 * as AWS verified it (the promotion API's IAM authorization, shared/tasks/promote.ts), recorded as
 * written and quoted wherever told. Runs in the service's promote function, never with an
 * operator's own credentials.
 *
 * Calls: dynamodb:GetItem on the locks table (the lock, the watch); states:DescribeExecution and
 * states:GetExecutionHistory on the deployment's execution; states:SendTaskSuccess ("*").
 */
export async function promoteDeployment(
  settings: PromoteSettings,
  app: string,
  env: string,
  by: string,
  now: Date,
): Promise<PromoteResult> {
  const problems = inputProblems(app, env, by);
  if (problems.length > 0) return { outcome: 'invalid', problems };
  const running = await runningDeployment(settings.locksTable, lockId(app, env));
  if ('outcome' in running) return running;
  const { state, watch } = await whereItIs(settings.locksTable, running);
  if (state === undefined || !PROMOTABLE_STATES.includes(state)) {
    // Asked again once the promoted wait has ended: the first promote is found.
    const earlier = watch ? (await promotedAlready(running.executionArn, watch)).promotion : undefined;
    if (earlier) return { ...running, outcome: 'already-promoted', promotion: earlier, state };
    return { ...running, outcome: 'not-promotable', state };
  }
  if (!watch || waitStateOf(watch.wait) !== state) return { ...running, outcome: 'not-ready', state };
  // A step is never judged before resolvers have moved: until then the wait is not promotable.
  if (watch.promotableAt && now.getTime() < Date.parse(watch.promotableAt))
    return { ...running, outcome: 'not-ready', state, readyAt: watch.promotableAt };
  const endsAt = watch.endsAt ? { waitEndsAt: watch.endsAt } : {};
  return endWait(running, watch, state, { by, at: now.toISOString(), wait: watch.wait, ...endsAt });
}
