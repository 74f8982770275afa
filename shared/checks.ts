import { checkAlarms } from './aws/cloudwatch.ts';
import { describeHealth } from './domain/health.ts';
import type { GreenFleet, Plan } from './domain/workflow.ts';
import { AlarmTriggered, GreenUnhealthy } from './errors.ts';
import { greenVerdict } from './green-health.ts';

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
