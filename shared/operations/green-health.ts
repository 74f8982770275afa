import { groupActivities, groupByName } from '../aws/autoscaling.ts';
import { findLaunchedInstances } from '../aws/ec2.ts';
import { describeTargetHealth } from '../aws/elbv2.ts';
import { groupHealth, replacedText, replacements } from '../domain/groups.ts';
import { evaluateHealth, type HealthVerdict } from '../domain/health.ts';
import { TAG } from '../domain/tags.ts';
import type { GreenFleet, Plan } from '../domain/workflow.ts';
import { GreenUnhealthy } from '../errors.ts';

/**
 * Green's target health judged against the instances it should have: every instance this
 * deployment launched, found by its tag in any state (one that died counts as not healthy), and
 * never fewer than were launched. `found`: those ids, when the task already found them by that tag.
 */
export async function greenVerdict(
  plan: Plan,
  green: GreenFleet,
  deploymentId: string,
  found?: readonly string[],
): Promise<HealthVerdict> {
  if (green.group) return greenGroupVerdict(plan, green, green.group.name);
  const ids = found ? [...found] : await greenIds(deploymentId);
  const reported = await describeTargetHealth(plan.slots[green.slot].targetGroupArn, ids);
  return evaluateHealth(ids, reported, plan.health.minHealthyPercent, green.launched);
}

/** The ids of every instance this deployment launched, found by its tag, in any state. */
export async function greenIds(deploymentId: string): Promise<string[]> {
  return (await findLaunchedInstances({ [TAG.deploymentId]: deploymentId })).map((i) => i.id);
}

/**
 * Green's group while it carries traffic: judged on the instances it has now (groupHealth: the
 * ones it is replacing count neither way, within bounds), and never after it has replaced more
 * instances than its size since launch: a release whose instances keep failing is not healthy
 * however fast the group replaces them.
 */
async function greenGroupVerdict(plan: Plan, green: GreenFleet, name: string): Promise<HealthVerdict> {
  const group = await groupByName(name);
  if (!group) throw new GreenUnhealthy(`green's Auto Scaling group ${name} no longer exists`);
  const activities = await groupActivities(name, green.launchedAt);
  const replaced = replacements(activities);
  if (replaced > Math.max(1, group.desired)) {
    throw new GreenUnhealthy(
      `green's Auto Scaling group ${name} replaced ${replaced} instances since launch (${replacedText(activities)}), more than its ${group.desired}: the release does not stay healthy`,
    );
  }
  const ids = group.instances.map((i) => i.id);
  const reported = await describeTargetHealth(plan.slots[green.slot].targetGroupArn, ids);
  return groupHealth(group.instances, reported, plan.health.minHealthyPercent, group.desired);
}
