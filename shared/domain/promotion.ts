import { STATE } from './states.ts';
import { quoted } from './text.ts';
import type { DeploymentState } from './workflow.ts';

/**
 * An operator's promote: the rest of the current traffic step's settle wait, or of the termination
 * window, skipped (as `argo rollouts promote` or CodeDeploy's continue-deployment do). Only a wait
 * is skipped, never a check: the step's alarm and health check still runs when its wait ends, and
 * so does the window's, before blue goes. Pure: the engine records promotions in the state, the
 * notification names them, and the promote operation (shared/operations/promote.ts) says why it
 * refused.
 */

/** Which wait a deployment is in while it can be promoted. */
export type PromotableWait =
  /** The settle wait of traffic step `step` (1-based) of `of`, at `percent` % on green. */
  { kind: 'step'; step: number; of: number; percent: number } | { kind: 'termination-window' };

/** The states that wait on an alarm watch, the only waits a promote ends. */
export const PROMOTABLE_STATES: readonly string[] = [STATE.settle, STATE.waitWindow];

export interface Promotion {
  /** Who promoted: the caller's identity (an IAM ARN), text from a person, quoted wherever told. */
  by: string;
  /** When the promote was sent (ISO). */
  at: string;
  wait: PromotableWait;
  /** When the promoted wait would have ended on its own (for the window, its next check). */
  waitEndsAt?: string;
}

/** What a promoted wait ends with (its result under $.watch): the promote, as sent. */
export interface PromotedWatch {
  promoted: Promotion;
}

/** The longest caller identity a promote takes (an IAM ARN with its path is far shorter). */
export const MAX_PROMOTER_LENGTH = 1024;

/** Why a caller identity is refused, or undefined when it may promote. */
export function promoterProblem(by: unknown): string | undefined {
  if (typeof by !== 'string' || by.trim() === '')
    return 'the caller identity (by) must be a non-empty string';
  if (by.length > MAX_PROMOTER_LENGTH)
    return `the caller identity (by) has ${by.length} characters, more than the ${MAX_PROMOTER_LENGTH} allowed`;
  return undefined;
}

/** The wait the deployment is in, judged from the state it entered the wait with. */
export function waitOf(state: Pick<DeploymentState, 'shift' | 'window' | 'plan'>): PromotableWait {
  if (state.window) return { kind: 'termination-window' };
  const index = state.shift?.index ?? 0;
  return {
    kind: 'step',
    step: index + 1,
    of: state.plan?.steps.length ?? index + 1,
    percent: state.shift?.percent ?? 0,
  };
}

/** The wait as people read it: "traffic step 1 of 3 (10 %)" or "the termination window". */
export function waitText(wait: PromotableWait): string {
  return wait.kind === 'termination-window'
    ? 'the termination window'
    : `traffic step ${wait.step} of ${wait.of} (${wait.percent} %)`;
}

/** The promotion a wait's result carries, if the wait was promoted (a timeout carries none). */
export function promotionIn(watch: DeploymentState['watch']): Promotion | undefined {
  const promoted = (watch as Partial<PromotedWatch> | undefined)?.promoted;
  return promoted && typeof promoted.by === 'string' && typeof promoted.at === 'string'
    ? promoted
    : undefined;
}

/** Whether two waits are the same wait (the same kind, and for a step the same step). */
export function sameWait(x: PromotableWait, y: PromotableWait): boolean {
  return waitText(x) === waitText(y);
}

const same = (x: Promotion, y: Promotion) => x.at === y.at && x.by === y.by && sameWait(x.wait, y.wait);

type WaitedState = Pick<DeploymentState, 'check' | 'window' | 'watch' | 'shift' | 'plan'>;

/**
 * The promote the last wait ended with, taken only when it names the wait this execution was in
 * (`waitOf` the state it entered the wait with, which its result leaves unchanged): a result sent
 * to one wait's token that names another (a window promote sent to a step's settle wait) ends
 * that wait, and promotes nothing. `ignored` is such a result, for the log.
 */
export function lastWaitPromotion(state: WaitedState): { promotion?: Promotion; ignored?: Promotion } {
  const promotion = promotionIn(state.watch);
  if (!promotion) return {};
  return sameWait(promotion.wait, waitOf(state)) ? { promotion } : { ignored: promotion };
}

/**
 * Every promotion of the deployment so far, oldest first, each once: those the step checks and the
 * window recorded, and the one the last wait ended with (not recorded yet when the check after it
 * failed, or is running now), if it names that wait.
 */
export function promotionsOf(state: WaitedState): Promotion[] {
  const all = [
    ...(state.check?.promotions ?? []),
    ...(state.window?.promotions ?? []),
    ...[lastWaitPromotion(state).promotion].filter((p): p is Promotion => p !== undefined),
  ];
  return all.filter((p, i) => all.findIndex((q) => same(p, q)) === i);
}

/** The promotions that skipped steps, as the step check records them (nothing when there are none). */
export function stepPromotions(state: WaitedState): {
  promotions?: Promotion[];
} {
  const steps = promotionsOf(state).filter((p) => p.wait.kind === 'step');
  return steps.length > 0 ? { promotions: steps } : {};
}

/** The promote of the termination window, once its wait was promoted. */
export function windowPromotion(state: WaitedState): Promotion | undefined {
  return promotionsOf(state).find((p) => p.wait.kind === 'termination-window');
}

/**
 * How much of the wait a promote skipped, in seconds: of a step, the rest of its settle wait; of
 * the window, the rest of the window (`windowEndsAt`). Undefined when not known.
 */
export function skippedSeconds(promotion: Promotion, windowEndsAt?: string): number | undefined {
  const end = promotion.wait.kind === 'termination-window' ? windowEndsAt : promotion.waitEndsAt;
  if (!end) return undefined;
  return Math.max(0, (Date.parse(end) - Date.parse(promotion.at)) / 1000);
}

/**
 * The line a notification gives a promote: who skipped the rest of which wait, when, and, when
 * known, how much of it (`skipped`, a duration as the report writes it).
 */
export function promotionLine(promotion: Promotion, skipped?: string): string {
  const left = skipped ? ` (${skipped} of it left)` : '';
  return `Promoted ${waitText(promotion.wait)}: the rest of its wait skipped by ${quoted(promotion.by)} at ${promotion.at}${left}; its checks still ran.`;
}

/** The state that waits out a promotable wait (the history names states). */
export function waitStateOf(wait: PromotableWait): string {
  return wait.kind === 'termination-window' ? STATE.waitWindow : STATE.settle;
}

/** Who runs, as a promote names it: the deployment (its execution's name) and its execution. */
export interface Running {
  deployment: string;
  executionArn: string;
}

/**
 * What a promote did, or why it did nothing. Only `promoted` changed anything; `already-promoted`
 * is the same promote asked for again (or another operator's, a moment earlier): nothing more to
 * do, so a retried command is harmless.
 */
export type PromoteResult =
  | { outcome: 'invalid'; problems: string[] }
  /** No deployment holds the app/env's lock, or the one holding it has ended (`ended`: how). */
  | { outcome: 'nothing-running'; lock: string; ended?: Running & { status: string } }
  | (Running & { outcome: 'promoted' | 'already-promoted'; promotion: Promotion; state?: string | undefined })
  /** The deployment is elsewhere (baking, asking for approval, a DNS change, a rollback...). */
  | (Running & { outcome: 'not-promotable'; state: string | undefined })
  /**
   * The wait has only just begun and is not ready to be ended yet: ask again in a moment, or at
   * `readyAt`, once resolvers have had the record TTL to pick up the step's change.
   */
  | (Running & { outcome: 'not-ready'; state: string; readyAt?: string })
  /** The wait ended by itself (`timed-out`) or by an alarm (`failed`, the error) as the promote came. */
  | (Running & { outcome: 'wait-ended'; wait: PromotableWait; how: 'timed-out' | 'failed'; error?: string });

/** What the states a promote cannot end wait for, and what the operator may do instead. */
function elsewhere(state: string | undefined): string {
  if (state === STATE.askShiftApproval || state === STATE.askTerminationApproval)
    return `it waits for an approval (${quoted(state)}): approve or reject it instead`;
  if (state === undefined) return 'its history names no state yet';
  return `it is at ${quoted(state)}`;
}

/** The promote's result as the command line tells it (one line; the caller identity quoted). */
export function promoteText(result: PromoteResult, app: string, env: string): string {
  const id = `${app}/${env}`;
  switch (result.outcome) {
    case 'invalid':
      return `nothing promoted: ${result.problems.join('; ')}`;
    case 'nothing-running':
      return result.ended
        ? `nothing to promote: ${result.ended.deployment}, the last deployment of ${id}, has ended (${result.ended.status})`
        : `nothing to promote: no deployment of ${id} is running`;
    case 'promoted':
      return `${result.deployment}: ${waitText(result.promotion.wait)} promoted by ${quoted(result.promotion.by)} at ${result.promotion.at}; its checks run now, then the deployment goes on`;
    case 'already-promoted':
      return `${result.deployment}: ${waitText(result.promotion.wait)} was already promoted by ${quoted(result.promotion.by)} at ${result.promotion.at}; nothing more to do`;
    case 'not-promotable':
      return `nothing promoted: ${result.deployment} is not waiting out a traffic step or the termination window; ${elsewhere(result.state)}`;
    case 'not-ready':
      return result.readyAt
        ? `nothing promoted: resolvers may still be picking up the traffic change of ${result.deployment} (the record TTL since it was INSYNC); try again at ${result.readyAt}`
        : `nothing promoted: ${result.deployment} has just entered ${quoted(result.state)} and its wait is not ready yet; try again in a few seconds`;
    case 'wait-ended':
      return result.how === 'timed-out'
        ? `nothing promoted: the wait of ${waitText(result.wait)} of ${result.deployment} ended by itself meanwhile`
        : `nothing promoted: the wait of ${waitText(result.wait)} of ${result.deployment} was ended meanwhile by ${result.error ? quoted(result.error) : 'an error'}, which rolls back`;
  }
}
