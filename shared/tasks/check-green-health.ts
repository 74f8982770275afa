import type { GroupSummary } from '../aws/autoscaling.ts';
import { findLaunchedInstances } from '../aws/ec2.ts';
import { describeTargetHealth, registerTargets } from '../aws/elbv2.ts';
import { capacityShortfall, groupReadiness } from '../domain/groups.ts';
import { describeHealth, evaluateHealth, type HealthVerdict } from '../domain/health.ts';
import { idList } from '../domain/leftovers.ts';
import { TAG } from '../domain/tags.ts';
import type { DeploymentState, GreenFleet, GroupPlan, HealthState, Plan } from '../domain/workflow.ts';
import { AwsTransient, CapacityShortfall, GreenUnhealthy } from '../errors.ts';
import { logger } from '../logger.ts';
import { findGreen, requireFewReplacements } from '../operations/green-health.ts';
import { greenActivities } from '../operations/groups.ts';
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
  if (plan.group) return judged(state, polls, await groupReadinessNow({ ...plan, group: plan.group }, state));
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
  return judged(state, polls, evaluateHealth(ids, reported, plan.health.minHealthyPercent, green.launched));
}

/**
 * Green's group before traffic: short of capacity (its newest launch failed) is a CapacityShortfall
 * with Auto Scaling's reason; otherwise ready once its desired capacity is InService and the
 * required share healthy (groupReadiness). The group registers its instances itself.
 */
async function groupReadinessNow(
  plan: Plan & { group: GroupPlan },
  state: DeploymentState & { green: GreenFleet },
): Promise<HealthVerdict> {
  const found = await findGreen(plan, state.deploymentId, true);
  const group = found.group as GroupSummary;
  const activities = await greenActivities(plan, state.green.launchedAt);
  const inService = group.members.filter((m) => m.lifecycleState === 'InService').length;
  const short = capacityShortfall(activities, inService, group.desired);
  if (short) throw new CapacityShortfall(`green's group ${group.name}: ${short}`);
  await assertGreenStillOurs(plan, state.deploymentId, found.ids);
  await assertRecordsAsWritten(plan, undefined);
  requireFewReplacements(group, activities);
  const reported = await describeTargetHealth(plan.slots[state.green.slot].targetGroupArn, found.ids);
  return groupReadiness(group.members, reported, plan.health.minHealthyPercent, group.desired);
}

/** A poll's verdict: HEALTHY, WAITING, or GreenUnhealthy once the wait is over. */
async function judged(
  state: DeploymentState & { plan: Plan; green: GreenFleet },
  polls: number,
  verdict: HealthVerdict,
): Promise<HealthState> {
  const { plan, green } = state;
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
