import { findLaunchedInstances } from '../aws/ec2.ts';
import { describeTargetHealth, registerTargets } from '../aws/elbv2.ts';
import { describeHealth, evaluateHealth } from '../domain/health.ts';
import { idList } from '../domain/leftovers.ts';
import { TAG } from '../domain/tags.ts';
import type { DeploymentState, HealthState } from '../domain/workflow.ts';
import { AwsTransient, CapacityShortfall, GreenUnhealthy } from '../errors.ts';
import { logger } from '../logger.ts';
import { tellProgress } from '../operations/progress.ts';
import { assertRecordsAsWritten } from '../operations/records-check.ts';
import { assertGreenStillOurs } from '../operations/slot-instances.ts';
import { need, nowIso, secondsSince } from '../state.ts';

/**
 * One bounded poll while green boots: registers instances once they run (ELB refuses instances
 * that are still pending), then judges target health against the minimum healthy percent.
 */
export async function checkGreenHealth(input: DeploymentState): Promise<HealthState> {
  const state = need(input, 'plan', 'green');
  const { plan, green } = state;
  const polls = (state.health?.polls ?? 0) + 1;
  // Found by this deployment's tag, in any state (the state carries the fleet's size, not its ids).
  const instances = await findLaunchedInstances({ [TAG.deploymentId]: state.deploymentId });
  if (instances.length < green.launched) {
    // EC2 is eventually consistent: instances RunInstances just returned may not be listed yet.
    throw new AwsTransient(
      `green instances not visible yet: EC2 lists ${instances.length} of the ${green.launched} launched`,
    );
  }
  const ids = instances.map((i) => i.id);
  const dead = instances.filter((i) => i.state !== 'pending' && i.state !== 'running');
  if (dead.length > 0) {
    const what = idList(dead.map((i) => `${i.id} ${i.state}${i.stateReason ? ` (${i.stateReason})` : ''}`));
    throw new CapacityShortfall(`green instances stopped while booting: ${what}`);
  }
  // Before registering anything: the slot is still this deployment's, and nobody sends it traffic.
  await assertGreenStillOurs(plan, state.deploymentId, ids);
  await assertRecordsAsWritten(plan, undefined);
  const targetGroupArn = plan.slots[green.slot].targetGroupArn;
  const reported = await describeTargetHealth(targetGroupArn, ids);
  const unregistered = new Set(reported.filter((t) => t.reason === 'Target.NotRegistered').map((t) => t.id));
  const toRegister = instances
    .filter((i) => i.state === 'running' && unregistered.has(i.id))
    .map((i) => i.id);
  if (toRegister.length > 0) {
    await registerTargets(targetGroupArn, toRegister);
    logger.info('registered green instances', { registered: toRegister.length });
  }
  const verdict = evaluateHealth(ids, reported, plan.health.minHealthyPercent, green.launched);
  const summary = describeHealth(verdict);
  if (verdict.healthy) {
    await tellProgress(state, 'green-healthy', { green: green.slot });
    return {
      status: 'HEALTHY',
      polls,
      healthyCount: verdict.healthyCount,
      total: verdict.total,
      summary,
      healthyAt: nowIso(),
    };
  }
  const waited = secondsSince(green.launchedAt);
  if (polls >= plan.health.maxPolls || waited >= plan.health.timeoutSeconds) {
    throw new GreenUnhealthy(`green not healthy ${Math.round(waited)} s after launch: ${summary}`);
  }
  return { status: 'WAITING', polls, healthyCount: verdict.healthyCount, total: verdict.total, summary };
}
