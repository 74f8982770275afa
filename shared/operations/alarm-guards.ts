import { type AlarmReport, checkAlarms } from '../aws/cloudwatch.ts';
import { type AlarmWords, alarmCheckCause } from '../domain/text.ts';
import type { Plan } from '../domain/workflow.ts';
import { AlarmTriggered } from '../errors.ts';
import { pinnedConfig } from './pinned-config.ts';

// Apart from checks.ts, so the tasks that only need this guard bundle no ELB client.

/** The alarm guard: a watched alarm in ALARM (or gone) fails the task with AlarmTriggered. */
export function requireNoAlarm(report: Pick<AlarmReport, 'alarming' | 'missing'>, words?: AlarmWords): void {
  const cause = alarmCheckCause(report, words);
  if (cause !== undefined) throw new AlarmTriggered(cause);
}

/** The alarm guard on the plan's watched alarms (the pinned config names them), read now. */
export async function assertNoAlarm(
  plan: Pick<Plan, 'alarmCount' | 'config'>,
  words?: AlarmWords,
): Promise<void> {
  if (plan.alarmCount === 0) return;
  requireNoAlarm(await checkAlarms((await pinnedConfig(plan)).alarms), words);
}

/**
 * The guard before green is launched and before its first traffic step, when a blue fleet
 * serves: a watched alarm already in ALARM (or gone) stops the deploy before the release gets any
 * traffic it would be blamed for.
 */
export async function assertAlarmsQuietBeforeTraffic(plan: Plan, moment: string): Promise<void> {
  if (plan.blue === null) return;
  await assertNoAlarm(plan, { beforeTraffic: true, checked: moment });
}
