import { describeHealth } from '../domain/health.ts';
import { formatWeights, sameWeights, type Weights, weightsForStep } from '../domain/traffic.ts';
import type { DeploymentState, Plan, ShiftState } from '../domain/workflow.ts';
import { GreenUnhealthy, LoopBoundExceeded, TrafficDrift } from '../errors.ts';
import { logger } from '../logger.ts';
import { assertAlarmsQuietBeforeTraffic } from '../operations/alarm-guards.ts';
import { findGreen, greenVerdict } from '../operations/green-health.ts';
import { tellProgress } from '../operations/progress.ts';
import { assertGreenStillOurs } from '../operations/slot-instances.ts';
import { writeChange } from '../operations/traffic-moves.ts';
import { assertStickinessAsPlanned, readTraffic } from '../operations/weights.ts';
import { need } from '../state.ts';

/** Whether the records hold what they must before this step: the previous step's, or the start. */
function expectedBefore(plan: Plan, previous: ShiftState | undefined, current: Weights): boolean {
  if (previous) return sameWeights(current, previous.weights);
  if (plan.blue === null) return (current.a ?? 0) === 0 && (current.b ?? 0) === 0;
  return (current[plan.green] ?? 0) === 0 && (current[plan.blue] ?? 0) > 0;
}

/**
 * Moves traffic to the next step: one change batch holding both weighted records. Green's health
 * is checked right before the write (traffic only goes to healthy targets), green's slot must still
 * be this deployment's alone, and the records must still hold what this deployment last wrote
 * (nobody else is moving traffic).
 */
export async function shiftTraffic(input: DeploymentState): Promise<ShiftState> {
  const state = need(input, 'plan', 'green');
  const { plan, green } = state;
  const index = state.shift ? state.shift.index + 1 : 0;
  const step = plan.steps[index];
  if (!step) throw new LoopBoundExceeded(`no traffic step ${index + 1}: the plan has ${plan.steps.length}`);
  const weights = weightsForStep(plan.green, step.percent);

  // Green found by its tag once, for both the slot's check and the health verdict.
  const ours = await findGreen(plan, state.deploymentId);
  await assertGreenStillOurs(plan, state.deploymentId, ours.ids);
  const verdict = await greenVerdict(plan, green, state.deploymentId, ours);
  if (!verdict.healthy)
    throw new GreenUnhealthy(`not shifting to ${step.percent} %: ${describeHealth(verdict)}`);
  const { weights: current, stickinessSeconds } = await readTraffic(plan);
  // The stickiness the waits were planned on (plan.leaveSeconds): a longer one, set since by
  // someone else, would be written back by this step and outlast the wait before blue goes.
  assertStickinessAsPlanned(plan.listener, stickinessSeconds);
  // Before the first step only: a retry of it that finds green already carrying traffic is past
  // that moment, and an alarm then is the step checks' to judge (and may be the release's doing).
  if (index === 0 && (current[plan.green] ?? 0) === 0)
    await assertAlarmsQuietBeforeTraffic(plan, 'right before the first traffic step');

  // A retry after a write that succeeded finds the target weights already in place: fine.
  if (!sameWeights(current, weights) && !expectedBefore(plan, state.shift, current)) {
    throw new TrafficDrift(
      `the records hold ${formatWeights(current)}, not what this deployment last wrote; someone else is moving traffic`,
    );
  }
  const comment = `${state.deploymentId} step ${index + 1}/${plan.steps.length}: ${step.percent}% to slot ${plan.green}`;
  // A listener is read again right before its write: it must still hold what was checked here.
  const dns = await writeChange(plan, weights, comment, undefined, current);
  logger.info('traffic step written', { index, percent: step.percent, weights, changeId: dns.changeId });
  await tellProgress(state, 'step-shifted', { step: index + 1, weights, green: plan.green });
  return {
    index,
    percent: step.percent,
    weights,
    isLast: index === plan.steps.length - 1,
    settleSeconds: step.settleSeconds,
    dns,
  };
}
