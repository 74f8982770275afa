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

/** The promote the newest run of the wait's state ended with, if a promote ended it. */
async function promotedAlready(executionArn: string, watch: Required<Pick<WaitItem, 'wait'>>) {
  const outcome = await callbackOutcome(executionArn, waitStateOf(watch.wait));
  if (outcome.kind !== 'succeeded') return { outcome };
  try {
    return { outcome, promotion: promotionIn(JSON.parse(outcome.output) as PromotedWatch) };
  } catch {
    return { outcome };
  }
}

/**
 * `bluegreen promote APP ENV`: ends the wait the running deployment of the app/env is in, the
 * settle wait of its current traffic step or the termination window's, as if it had run out, with
 * who promoted and when as the wait's result (SendTaskSuccess on the wait's token, stored by the
 * watch task). Only the wait ends: the step's alarm and health check runs next all the same, and so
 * does the window's before blue goes. Anything else the deployment is doing (baking, asking for an
 * approval, a DNS change, a rollback) is refused, and so is a wait that ended as the promote came.
 * Idempotent: a promote asked for again finds the first and says so. `by` is the caller's identity
 * (an IAM ARN): untrusted text, recorded as written and quoted wherever told.
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
  const lock = lockId(app, env);
  const owner = (await getLock(settings.locksTable, lock))?.owner;
  if (!owner) return { outcome: 'nothing-running', lock };
  const running = { deployment: owner.name, executionArn: owner.executionArn };
  const status = (await executionState(owner.executionArn))?.status ?? 'unknown';
  if (status !== 'RUNNING') return { outcome: 'nothing-running', lock, ended: { ...running, status } };
  const state = await currentStateName(owner.executionArn);
  const found = await getWait(settings.locksTable, alarmWatchId(owner.name));
  // The watch of this execution (after a Stop, the lock names the rollback's, which has none).
  const watch =
    found?.wait && found.executionArn === owner.executionArn ? { ...found, wait: found.wait } : undefined;
  if (state === undefined || !PROMOTABLE_STATES.includes(state)) {
    const earlier = watch ? await promotedAlready(owner.executionArn, watch) : undefined;
    if (earlier?.promotion)
      return { ...running, outcome: 'already-promoted', promotion: earlier.promotion, state };
    return { ...running, outcome: 'not-promotable', state };
  }
  if (!watch || waitStateOf(watch.wait) !== state) return { ...running, outcome: 'not-ready', state };
  const promotion: Promotion = {
    by,
    at: now.toISOString(),
    wait: watch.wait,
    ...(watch.endsAt ? { waitEndsAt: watch.endsAt } : {}),
  };
  if (await sendTaskSuccess(watch.token, { promoted: promotion } satisfies PromotedWatch))
    return { ...running, outcome: 'promoted', promotion };
  // The token no longer works: the wait ended meanwhile (by a promote, its timeout or an alarm),
  // or it was the last wait's and the new one has not stored its own yet.
  const { outcome, promotion: earlier } = await promotedAlready(owner.executionArn, watch);
  if (earlier) return { ...running, outcome: 'already-promoted', promotion: earlier, state };
  if (outcome.kind === 'timed-out')
    return { ...running, outcome: 'wait-ended', wait: watch.wait, how: 'timed-out' };
  if (outcome.kind === 'failed')
    return { ...running, outcome: 'wait-ended', wait: watch.wait, how: 'failed', error: outcome.error };
  return { ...running, outcome: 'not-ready', state };
}
