import type { GroupSummary } from '../aws/autoscaling.ts';
import { findLaunchedInstances } from '../aws/ec2.ts';
import { describeTargetHealth } from '../aws/elbv2.ts';
import { type ActivityFacts, groupHealth, replacedText, replacements } from '../domain/groups.ts';
import { evaluateHealth, type HealthVerdict } from '../domain/health.ts';
import { TAG } from '../domain/tags.ts';
import type { GreenFleet, Plan } from '../domain/workflow.ts';
import { AwsTransient, GreenUnhealthy } from '../errors.ts';
import { greenActivities, greenGroup } from './groups.ts';

/** Green as a task finds it: its instances' ids and, for a group fleet, the group. */
export interface GreenFound {
  ids: string[];
  group?: GroupSummary;
}

/**
 * Green's instances: every one this deployment launched, found by its tag in any state; or, for a
 * group fleet, the group's members (instances it replaced are no longer green's). A group that is
 * gone is a green that is not there (GreenUnhealthy); `justMade`: not listed yet is retried.
 */
export async function findGreen(plan: Plan, deploymentId: string, justMade = false): Promise<GreenFound> {
  if (!plan.group) return { ids: await greenIds(deploymentId) };
  const group = await greenGroup({ ...plan, group: plan.group });
  // Just made (green's health polls), a group may not be listed yet: Auto Scaling is eventually
  // consistent, and the poll is retried.
  if (!group && justMade)
    throw new AwsTransient(`green's Auto Scaling group ${plan.group.name} is not listed yet`);
  if (!group || group.deleting)
    throw new GreenUnhealthy(`green's Auto Scaling group ${plan.group.name} is gone or being deleted`);
  return { ids: group.members.map((m) => m.id), group };
}

/**
 * Green's target health judged against the instances it should have: every instance this
 * deployment launched, found by its tag in any state (one that died counts as not healthy), and
 * never fewer than were launched. A group replaces an instance that fails its checks by itself: its
 * members are judged with those being replaced counting neither way (groupHealth), and a group that
 * has replaced more instances than its size is a release that does not stay healthy.
 * `found`: green, when the task already found it.
 */
export async function greenVerdict(
  plan: Plan,
  green: GreenFleet,
  deploymentId: string,
  found?: GreenFound,
): Promise<HealthVerdict> {
  const { ids, group } = found ?? (await findGreen(plan, deploymentId));
  const reported = await describeTargetHealth(plan.slots[green.slot].targetGroupArn, ids);
  if (!plan.group || !group)
    return evaluateHealth(ids, reported, plan.health.minHealthyPercent, green.launched);
  requireFewReplacements(group, await greenActivities({ ...plan, group: plan.group }, green.launchedAt));
  return groupHealth(group.members, reported, plan.health.minHealthyPercent, group.desired);
}

/** More replacements for failed health checks than the group's size fails green (GreenUnhealthy). */
export function requireFewReplacements(group: GroupSummary, activities: readonly ActivityFacts[]): void {
  const replaced = replacements(activities);
  if (replaced > Math.max(1, group.desired))
    throw new GreenUnhealthy(
      `green's group ${group.name} replaced ${replaced} instances that failed their health checks (${replacedText(activities)}), more than its ${group.desired}: the release does not stay healthy`,
    );
}

/** The ids of every instance this deployment launched, found by its tag, in any state. */
export async function greenIds(deploymentId: string): Promise<string[]> {
  return (await findLaunchedInstances({ [TAG.deploymentId]: deploymentId })).map((i) => i.id);
}
