import { describeTargetHealth } from './aws/elbv2.ts';
import { evaluateHealth, type HealthVerdict } from './domain/health.ts';
import type { GreenFleet, Plan } from './domain/workflow.ts';

/** Green's target health judged against the instances it should have. */
export async function greenVerdict(plan: Plan, green: GreenFleet): Promise<HealthVerdict> {
  const reported = await describeTargetHealth(plan.slots[green.slot].targetGroupArn, green.instanceIds);
  return evaluateHealth(green.instanceIds, reported, plan.health.minHealthyPercent);
}
