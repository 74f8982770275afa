import { findLaunchedInstances } from '../aws/ec2.ts';
import { describeTargetHealth } from '../aws/elbv2.ts';
import { evaluateHealth, type HealthVerdict } from '../domain/health.ts';
import { TAG } from '../domain/tags.ts';
import type { GreenFleet, Plan } from '../domain/workflow.ts';

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
  const ids = found ? [...found] : await greenIds(deploymentId);
  const reported = await describeTargetHealth(plan.slots[green.slot].targetGroupArn, ids);
  return evaluateHealth(ids, reported, plan.health.minHealthyPercent, green.launched);
}

/** The ids of every instance this deployment launched, found by its tag, in any state. */
export async function greenIds(deploymentId: string): Promise<string[]> {
  return (await findLaunchedInstances({ [TAG.deploymentId]: deploymentId })).map((i) => i.id);
}
