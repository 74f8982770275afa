import { changeStatus, readWeights, writeWeights } from '../aws/route53.ts';
import { describeHealth } from '../domain/health.ts';
import { windowProgress } from '../domain/plan.ts';
import { formatWeights, type Slot, type Weights, weightsForStep } from '../domain/traffic.ts';
import type {
  DeploymentState,
  DnsChange,
  Plan,
  ShiftState,
  StepCheck,
  WindowState,
} from '../domain/workflow.ts';
import { DnsChangeTimedOut, GreenUnhealthy, LoopBoundExceeded, TrafficDrift } from '../errors.ts';
import { logger } from '../logger.ts';
import { assertGreenGood, greenVerdict } from './green.ts';
import { need, nowIso } from './state.ts';

function same(current: Weights, expected: Record<Slot, number>): boolean {
  return (current.a ?? 0) === expected.a && (current.b ?? 0) === expected.b;
}

/** What the records must hold before step `index`: what the previous step wrote, or the start. */
function expectedBefore(plan: Plan, previous: ShiftState | undefined, current: Weights): boolean {
  if (previous) return same(current, previous.weights);
  if (plan.blue === null) return (current.a ?? 0) === 0 && (current.b ?? 0) === 0;
  return (current[plan.green] ?? 0) === 0 && (current[plan.blue] ?? 0) > 0;
}

/**
 * Moves traffic to the next step: one change batch holding both weighted records. Green's health
 * is checked right before the write (traffic only goes to healthy targets), and the records must
 * still hold what this deployment last wrote (nobody else is moving traffic).
 */
export async function shiftTraffic(input: DeploymentState): Promise<ShiftState> {
  const state = need(input, 'plan', 'green');
  const { plan, green } = state;
  const index = state.shift ? state.shift.index + 1 : 0;
  const step = plan.steps[index];
  if (!step) throw new LoopBoundExceeded(`no traffic step ${index + 1}: the plan has ${plan.steps.length}`);
  const weights = weightsForStep(plan.green, step.percent);

  const verdict = await greenVerdict(plan, green);
  if (!verdict.healthy)
    throw new GreenUnhealthy(`not shifting to ${step.percent} %: ${describeHealth(verdict)}`);

  const current = await readWeights(plan);
  // A retry after a write that succeeded finds the target weights already in place: fine.
  if (!same(current, weights) && !expectedBefore(plan, state.shift, current)) {
    throw new TrafficDrift(
      `the records hold ${formatWeights(current)}, not what this deployment last wrote; someone else is moving traffic`,
    );
  }
  const comment = `${state.deploymentId} step ${index + 1}/${plan.steps.length}: ${step.percent}% to slot ${plan.green}`;
  const { changeId, submittedAt } = await writeWeights(plan, weights, comment);
  logger.info('traffic step written', { index, percent: step.percent, weights, changeId });
  return {
    index,
    percent: step.percent,
    weights,
    isLast: index === plan.steps.length - 1,
    settleSeconds: step.settleSeconds,
    dns: { changeId, status: 'PENDING', polls: 0, maxPolls: plan.dns.maxPolls, submittedAt },
  };
}

/** One bounded poll of a Route 53 change. */
export async function checkDnsChange(input: { change: DnsChange }): Promise<DnsChange> {
  const { change } = input;
  if (change.status === 'INSYNC') return change;
  const status = await changeStatus(change.changeId);
  const polls = change.polls + 1;
  if (status === 'INSYNC') return { ...change, status, polls, syncedAt: nowIso() };
  if (polls >= change.maxPolls) {
    throw new DnsChangeTimedOut(`Route 53 change ${change.changeId} still PENDING after ${polls} checks`);
  }
  return { ...change, polls };
}

/** After a step has settled: alarms and green health. */
export async function checkStep(input: DeploymentState): Promise<StepCheck> {
  const state = need(input, 'plan', 'green');
  const summary = await assertGreenGood(state.plan, state.green);
  return { checkedAt: nowIso(), summary };
}

/**
 * One check of the termination window. The window starts once the 100 % change is INSYNC and
 * resolvers have had a TTL to pick it up; the next check is scheduled no later than its end.
 */
export async function watchWindow(input: DeploymentState): Promise<WindowState> {
  const state = need(input, 'plan', 'green', 'shift');
  const { plan, shift } = state;
  const syncedAt = shift.dns.syncedAt ?? shift.dns.submittedAt;
  const startedAt =
    state.window?.startedAt ?? new Date(Date.parse(syncedAt) + plan.dns.ttlSeconds * 1000).toISOString();
  const checks = (state.window?.checks ?? 0) + 1;
  const summary = await assertGreenGood(plan, state.green);
  const { waitSeconds, checkIntervalSeconds, maxChecks } = plan.termination;
  const progress = windowProgress(new Date(startedAt), waitSeconds, checkIntervalSeconds, new Date());
  if (!progress.done && checks >= maxChecks) {
    throw new LoopBoundExceeded(
      `termination window not over after ${checks} checks (ends ${progress.endsAt.toISOString()})`,
    );
  }
  return {
    startedAt,
    endsAt: progress.endsAt.toISOString(),
    checks,
    done: progress.done,
    nextCheckSeconds: progress.nextCheckSeconds,
    summary,
  };
}
