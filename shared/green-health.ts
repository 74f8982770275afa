import { findLaunchedInstances } from './aws/ec2.ts';
import { describeTargetHealth } from './aws/elbv2.ts';
import { evaluateHealth, type HealthVerdict } from './domain/health.ts';
import { TAG } from './domain/tags.ts';
import type { GreenFleet, Plan } from './domain/workflow.ts';

/**
 * Green's target health judged against the instances it should have: every instance this
 * deployment launched, found by its tag in any state (one that died counts as not healthy), and
 * never fewer than were launched.
 */
export async function greenVerdict(
  plan: Plan,
  green: GreenFleet,
  deploymentId: string,
): Promise<HealthVerdict> {
  const ids = (await findLaunchedInstances({ [TAG.deploymentId]: deploymentId })).map((i) => i.id);
  const reported = await describeTargetHealth(plan.slots[green.slot].targetGroupArn, ids);
  return evaluateHealth(ids, reported, plan.health.minHealthyPercent, green.launched);
}
