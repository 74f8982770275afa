import { checkAlarms } from '../aws/cloudwatch.ts';
import { alarmList, missingAlarmsCause } from '../domain/text.ts';
import type { Plan } from '../domain/workflow.ts';
import { AlarmTriggered } from '../errors.ts';
import { pinnedConfig } from './pinned-config.ts';

// Apart from checks.ts, so the tasks that only need this guard bundle no ELB client.

/** What a watched alarm that fires before any traffic reached green says. */
export function firingBeforeTraffic(alarming: { name: string; reason: string }[]): string {
  return `alarm in ALARM before any traffic moved to the release, so not caused by it: ${alarmList(alarming)}`;
}

/**
 * The guard before green is launched and before its first traffic step, when a blue fleet
 * serves: a watched alarm already in ALARM (or gone) stops the deploy before the release gets any
 * traffic it would be blamed for.
 */
export async function assertAlarmsQuietBeforeTraffic(plan: Plan, moment: string): Promise<void> {
  if (plan.blue === null || plan.alarmCount === 0) return;
  const alarms = await checkAlarms((await pinnedConfig(plan)).alarms);
  if (alarms.alarming.length > 0) {
    throw new AlarmTriggered(`${firingBeforeTraffic(alarms.alarming)}; checked ${moment}`);
  }
  if (alarms.missing.length > 0) {
    throw new AlarmTriggered(`${missingAlarmsCause(alarms.missing)}; checked ${moment}`);
  }
}
