import { alarmedSince, CLOCK_MARGIN_MS } from './aws/alarm-history.ts';
import { checkAlarms } from './aws/cloudwatch.ts';
import { describeHealth } from './domain/health.ts';
import { alarmsCause, missingAlarmsCause } from './domain/text.ts';
import type { Slot } from './domain/traffic.ts';
import type { GreenFleet, Plan } from './domain/workflow.ts';
import { AlarmTriggered, GreenUnhealthy } from './errors.ts';
import { greenVerdict } from './green-health.ts';
import { assertRecordsAsWritten } from './records-check.ts';
import { assertGreenStillOurs } from './slot-instances.ts';

/**
 * The guard run after every traffic step and throughout the termination window: green's slot no
 * longer this deployment's alone, the records not what it last wrote (`written`), any watched
 * alarm in ALARM now or at any moment since the previous check (or gone), or green below its
 * healthy minimum, fails the task into the rollback.
 */
export async function assertGreenGood(
  plan: Plan,
  deploymentId: string,
  green: GreenFleet,
  written: Record<Slot, number>,
  since: string,
): Promise<string> {
  await assertGreenStillOurs(plan, deploymentId, green.instanceIds);
  await assertRecordsAsWritten(plan, written);
  const alarms = await checkAlarms(plan.alarms);
  // An alarm not in ALARM now whose state changed since: read whether it was in ALARM meanwhile
  // (it fired while a DNS change propagated or a person decided, or its event was lost).
  const from = new Date(since);
  for (const alarm of alarms.quiet) {
    if (alarm.transitionedAt && alarm.transitionedAt.getTime() < from.getTime() - CLOCK_MARGIN_MS) continue;
    const fired = await alarmedSince(alarm.name, from);
    if (fired)
      alarms.alarming.push({ name: alarm.name, reason: fired.reason, firedAt: fired.at.toISOString() });
  }
  if (alarms.alarming.length > 0) throw new AlarmTriggered(alarmsCause(alarms.alarming));
  if (alarms.missing.length > 0) {
    throw new AlarmTriggered(missingAlarmsCause(alarms.missing));
  }
  const verdict = await greenVerdict(plan, green);
  const summary = describeHealth(verdict);
  if (!verdict.healthy) throw new GreenUnhealthy(summary);
  return `${summary}; ${plan.alarms.length} alarm(s) OK`;
}
