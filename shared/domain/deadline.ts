import { DNS_MAX_POLLS, DNS_POLL_SECONDS, DNS_RETURN_MAX_POLLS, DNS_SLOW_POLL_SECONDS } from './plan.ts';
import type { Plan } from './workflow.ts';

/**
 * How long a deployment may run under its pinned config: every bounded wait taken to its limit.
 * Step Functions has no per-config metric for a deployment that runs longer than that (an
 * execution timeout would be one bound for every app/env, and the state machine sets none), so
 * Plan stores the deadline in the plan, and every task invoked after it counts an overrun
 * (shared/metrics.ts countOverrun), which an alarm watches. Counted from Plan: the wait for the
 * lock comes before.
 */

/**
 * The longest a Route 53 change is waited for: every 10 s for three minutes, then every minute up
 * to 30 minutes (plan.ts). A rollback's change, a heal's, and a traffic step's change while the
 * rollback rule would not let blue take the traffic back.
 */
export function longestDnsSeconds(): number {
  // A function, not a constant: plan.ts imports this module, and its constants are not yet set
  // while this one loads.
  return DNS_MAX_POLLS * DNS_POLL_SECONDS + (DNS_RETURN_MAX_POLLS - DNS_MAX_POLLS) * DNS_SLOW_POLL_SECONDS;
}

/**
 * The longest a drain is waited for: ELB's largest deregistration delay (an hour), and the minute
 * more blue's drain allows (deregister-blue.ts).
 */
export const LONGEST_DRAIN_SECONDS = 3600 + 60;

/**
 * What one stretch of the workflow may spend beyond its waits: its tasks' retries at their longest
 * (statemachines/deploy.ts: throttling's 20 tries, 2 s doubling to at most 60 s apart, up to 962 s;
 * transient errors' 6, up to 122 s; Lambda's 3, up to 14 s: about 1,100 s) and their run time.
 */
export const RETRY_MARGIN_SECONDS = 1200;

/** The final notification's retries while another delivery of it publishes (up to about 244 s). */
const NOTIFY_SECONDS = 300;

type Bounds = Pick<
  Plan,
  'heal' | 'bake' | 'health' | 'approval' | 'steps' | 'blue' | 'termination' | 'listener' | 'leaveSeconds'
>;

/** One stretch of the workflow and the longest the plan lets it take, in seconds. */
export interface AllowedStretch {
  what: string;
  seconds: number;
}

/**
 * The stretches a deployment of `plan` goes through at their longest, each with its retry margin:
 * healing a split, the bake, green's health checks, each approval, each traffic step (its change
 * and its settle time), the termination window, and the end: blue retired, or (longer) a rollback
 * from the last moment one can start (its change, the TTL or stickiness and green's drain), then told.
 */
export function allowedStretches(plan: Bounds): AllowedStretch[] {
  // How long clients may still reach a slot it left: the record TTL, or the listener's stickiness.
  const ttl = plan.leaveSeconds;
  // A listener's write is in sync when it returns (traffic.mode alb): nothing to wait for.
  const dns = plan.listener ? 0 : longestDnsSeconds();
  const stretches: AllowedStretch[] = [];
  const add = (what: string, seconds: number) =>
    stretches.push({ what, seconds: seconds + RETRY_MARGIN_SECONDS });
  if (plan.heal) add('heal the split', dns + ttl + LONGEST_DRAIN_SECONDS);
  add('bake', plan.bake.maxPolls * plan.bake.pollSeconds);
  add('launch green and wait for it to be healthy', plan.health.maxPolls * plan.health.pollSeconds);
  if (plan.approval.beforeShift) add('approval to shift traffic', plan.approval.timeoutSeconds);
  for (const [i, step] of plan.steps.entries())
    add(`traffic step ${i + 1} (${step.percent} %)`, dns + step.settleSeconds);
  if (plan.blue !== null) {
    const { waitSeconds, checkIntervalSeconds } = plan.termination;
    add('termination window', ttl + waitSeconds + checkIntervalSeconds);
    if (plan.approval.beforeTermination) add('approval to terminate blue', plan.approval.timeoutSeconds);
  }
  const retire = plan.blue === null ? 0 : LONGEST_DRAIN_SECONDS;
  const rollback = dns + ttl + LONGEST_DRAIN_SECONDS;
  add('retire blue or roll back, then tell', Math.max(retire, rollback) + NOTIFY_SECONDS);
  return stretches;
}

/** The longest a deployment of `plan` may run, from Plan to its final notification. */
export function allowedSeconds(plan: Bounds): number {
  return allowedStretches(plan).reduce((sum, s) => sum + s.seconds, 0);
}

/** When a deployment planned at `startedAt` has run longer than its config allows. */
export function deadlineOf(plan: Bounds, startedAt: Date): string {
  return new Date(startedAt.getTime() + allowedSeconds(plan) * 1000).toISOString();
}

/** Whether `now` is past the plan's deadline (a plan without one, written before it, never is). */
export function overran(deadline: string | undefined, now: Date): boolean {
  if (deadline === undefined) return false;
  const at = Date.parse(deadline);
  return Number.isFinite(at) && now.getTime() > at;
}
