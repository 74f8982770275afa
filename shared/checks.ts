import { checkAlarms } from './aws/cloudwatch.ts';
import { describeTargetHealth } from './aws/elbv2.ts';
import { describeHealth, evaluateHealth, type HealthVerdict } from './domain/health.ts';
import type { GreenFleet, Plan } from './domain/workflow.ts';
import { AlarmTriggered, GreenUnhealthy } from './errors.ts';

/** Green's target health judged against the instances it should have. */
export async function greenVerdict(plan: Plan, green: GreenFleet): Promise<HealthVerdict> {
  const reported = await describeTargetHealth(plan.slots[green.slot].targetGroupArn, green.instanceIds);
  return evaluateHealth(green.instanceIds, reported, plan.health.minHealthyPercent);
}

/**
 * The guard run after every traffic step and throughout the termination window: any watched
 * alarm in ALARM (or gone), or green below its healthy minimum, fails the task into the rollback.
 */
export async function assertGreenGood(plan: Plan, green: GreenFleet): Promise<string> {
  const alarms = await checkAlarms(plan.alarms);
  if (alarms.alarming.length > 0) {
    const what = alarms.alarming.map((a) => `${a.name} (${a.reason || 'no reason'})`).join(', ');
    throw new AlarmTriggered(`alarm in ALARM: ${what}`);
  }
  if (alarms.missing.length > 0) {
    throw new AlarmTriggered(`watched alarm no longer exists: ${alarms.missing.join(', ')}`);
  }
  const verdict = await greenVerdict(plan, green);
  const summary = describeHealth(verdict);
  if (!verdict.healthy) throw new GreenUnhealthy(summary);
  return `${summary}; ${plan.alarms.length} alarm(s) OK`;
}
