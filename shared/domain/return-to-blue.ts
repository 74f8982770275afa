import { CALLBACK_ERRORS } from '../errors.ts';
import { requiredHealthy } from './health.ts';
import type { Slot } from './traffic.ts';

/** A slot's targets as ELB reports them: registered (not draining) and, of those, healthy. */
export interface SlotTargets {
  registered: number;
  healthy: number;
}

/** What the rule below decides on, read at the moment traffic would move. */
export interface ReturnFacts {
  /** Which slot is which, for the reason's words. */
  slots: { blue: Slot; green: Slot };
  blue: SlotTargets;
  green: SlotTargets;
  /** The config's health.minHealthyPercent: what green needs to count as healthy. */
  minHealthyPercent: number;
  /** The deployment failed on a verdict about green (see failedOnGreen). */
  greenFailed: boolean;
}

export interface ReturnDecision {
  toBlue: boolean;
  /** Why, with both slots' counts: for the cause, or for what is left for a person. */
  why: string;
}

/**
 * The ends that are a verdict on green itself: an alarm fired, green's targets fell below their
 * healthy minimum, an approver rejected the release or none approved it in time, or a person
 * stopped the execution (its status ABORTED). Anything else (an AWS fault, a task or the execution
 * timing out, a runtime error) says nothing about the release.
 */
export const VERDICTS_ON_GREEN: readonly string[] = [
  CALLBACK_ERRORS.alarm,
  'GreenUnhealthy',
  CALLBACK_ERRORS.approvalRejected,
];

/**
 * Whether the deployment failed on a verdict about green: the rollback passes the error it was
 * caught with, the recovery the status the execution ended with.
 */
export function failedOnGreen(end: {
  error?: string | undefined;
  status?: string | undefined;
  /** No approver answered in time (domain/report.ts approvalTimedOut): the release was not accepted. */
  unapproved?: boolean | undefined;
}): boolean {
  return (
    (end.error !== undefined && VERDICTS_ON_GREEN.includes(end.error)) ||
    end.status === 'ABORTED' ||
    end.error === 'ABORTED' ||
    end.unapproved === true
  );
}

function share(t: SlotTargets): number {
  return t.registered === 0 ? 0 : t.healthy / t.registered;
}

function count(t: SlotTargets): string {
  return `${t.healthy} of ${t.registered} targets healthy`;
}

/**
 * The rollback rule: invariant 1 ("traffic only goes to a slot whose targets are registered and
 * healthy") as it applies when a deployment is undone, where blue may be only partly healthy. All
 * traffic goes back to blue when, at that moment,
 *   1. blue has at least one healthy target, and
 *   2. blue is fit to take it back: green is failing (the deployment failed on a verdict about
 *      green, or green is below its healthy minimum now), or blue meets the same healthy minimum
 *      green had to meet, or most of blue's registered targets are healthy (a fleet that lost a
 *      minority of its instances still serves the version that was known to work, where keeping
 *      a green whose release failed leaves both fleets for a person), or blue's healthy share is
 *      at least green's.
 * Otherwise the traffic stays where it is (a blue with no healthy target cannot serve at all; a
 * blue less healthy than a green nothing is wrong with is a person's call), and what is left says
 * so. The rollback, the recovery after a Stop, what is left for a person, and the simulator's
 * safety monitor all decide with this one function (README, Safety).
 */
export function returnToBlue(f: ReturnFacts): ReturnDecision {
  const blue = `blue slot ${f.slots.blue}: ${count(f.blue)}`;
  const green = `green slot ${f.slots.green}: ${count(f.green)}`;
  if (f.blue.healthy === 0) {
    return { toBlue: false, why: `blue slot ${f.slots.blue} has no healthy target (${count(f.blue)})` };
  }
  const greenBelowMinimum =
    f.green.registered === 0 || f.green.healthy < requiredHealthy(f.green.registered, f.minHealthyPercent);
  if (f.greenFailed) return { toBlue: true, why: `green failed (${blue}; ${green})` };
  if (greenBelowMinimum) {
    return {
      toBlue: true,
      why: `green is below its ${f.minHealthyPercent} % healthy minimum (${blue}; ${green})`,
    };
  }
  if (f.blue.registered > 0 && f.blue.healthy >= requiredHealthy(f.blue.registered, f.minHealthyPercent)) {
    return {
      toBlue: true,
      why: `blue meets the ${f.minHealthyPercent} % healthy minimum green had to meet (${blue}; ${green})`,
    };
  }
  if (f.blue.healthy * 2 > f.blue.registered) {
    return { toBlue: true, why: `most of blue's targets are healthy (${blue}; ${green})` };
  }
  if (share(f.blue) >= share(f.green)) {
    return { toBlue: true, why: `blue is at least as healthy as green (${blue}; ${green})` };
  }
  return {
    toBlue: false,
    why: `blue is below its healthy minimum, less healthy than green, has at most half of its targets healthy, and nothing says green failed (${blue}; ${green})`,
  };
}
