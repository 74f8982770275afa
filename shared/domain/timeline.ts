import { formatWeights } from './traffic.ts';
import type { Plan } from './workflow.ts';

/**
 * One step of a deployment as a plan lays it out: what happens, when at the latest it starts
 * (seconds after the deployment starts, every earlier wait taken to its limit), and how long it
 * waits: `exact` for a wait the config fixes (a step's settle time, the termination window),
 * `up-to` for one that ends as soon as its condition holds (a build, health checks, a person).
 */
export interface TimelineStep {
  atSeconds: number;
  step: string;
  waitSeconds: number;
  wait: 'exact' | 'up-to';
}

/** The steps a deployment of `plan` goes through, in order, from its config's waits and approvals. */
export function deployTimeline(plan: Plan): TimelineStep[] {
  const steps: TimelineStep[] = [];
  let at = 0;
  const add = (step: string, waitSeconds: number, wait: TimelineStep['wait']) => {
    steps.push({ atSeconds: at, step, waitSeconds, wait });
    at += waitSeconds;
  };
  if (plan.heal)
    add(
      `heal the split (${formatWeights(plan.heal.weights)}): all traffic to slot ${plan.heal.to}, slot ${plan.heal.from} taken out of service`,
      0,
      'up-to',
    );
  add('bake the AMI, or reuse the one baked from the same artifact', plan.bake.timeoutMinutes * 60, 'up-to');
  add(
    `launch ${plan.instanceCount} instance${plan.instanceCount === 1 ? '' : 's'} in slot ${plan.green} and wait for them to pass health checks`,
    plan.health.timeoutSeconds,
    'up-to',
  );
  if (plan.approval.beforeShift)
    add('wait for approval to shift traffic', plan.approval.timeoutSeconds, 'up-to');
  for (const { percent, settleSeconds } of plan.steps)
    add(
      `shift ${percent} % of traffic to slot ${plan.green}, then let it settle (alarms watched)`,
      settleSeconds,
      'exact',
    );
  if (plan.blue === null) return steps;
  // Behind a listener a sticky client stays on blue for the stickiness duration after the last
  // write, and the window begins once they have left: beyond the last step's settle, that is a
  // wait of its own (a record TTL never is: the settle is at least the TTL).
  const stuck = plan.leaveSeconds - (plan.steps.at(-1)?.settleSeconds ?? 0);
  if (plan.listener && stuck > 0)
    add(`let clients stuck to slot ${plan.blue} (blue) leave it (target group stickiness)`, stuck, 'exact');
  add(
    `termination window: slot ${plan.blue} (blue) kept ready for a rollback`,
    plan.termination.waitSeconds,
    'exact',
  );
  if (plan.approval.beforeTermination)
    add('wait for approval to terminate blue', plan.approval.timeoutSeconds, 'up-to');
  add(`deregister and terminate blue (slot ${plan.blue})`, 0, 'up-to');
  return steps;
}

/** A duration as a person reads it: 45 s, 5 min, 1 h 30 min. */
export function durationText(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const rest = minutes % 60;
  return `${Math.floor(minutes / 60)} h${rest ? ` ${rest} min` : ''}`;
}

/** One line per step: `+1 h 5 min  shift 10 % ... (5 min)`. */
export function timelineText(steps: TimelineStep[]): string[] {
  return steps.map(
    (s) =>
      `+${s.atSeconds === 0 ? '0' : durationText(s.atSeconds)}  ${s.step}${s.waitSeconds > 0 ? ` (${s.wait === 'up-to' ? 'up to ' : ''}${durationText(s.waitSeconds)})` : ''}`,
  );
}
