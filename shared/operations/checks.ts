import { alarmedSince, CLOCK_MARGIN_MS } from '../aws/alarm-history.ts';
import { checkAlarms } from '../aws/cloudwatch.ts';
import { describeHealth } from '../domain/health.ts';
import type { Slot } from '../domain/traffic.ts';
import type { GreenFleet, Plan } from '../domain/workflow.ts';
import { GreenUnhealthy } from '../errors.ts';
import { requireNoAlarm } from './alarm-guards.ts';
import { findGreen, greenVerdict } from './green-health.ts';
import { pinnedConfig } from './pinned-config.ts';
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
  green: GreenFleet,
  deploymentId: string,
  written: Record<Slot, number>,
  since: string,
): Promise<string> {
  // Green found by its tag once, for both the slot's check and the health verdict.
  const ours = await findGreen(plan, deploymentId);
  await assertGreenStillOurs(plan, deploymentId, ours.ids);
  await assertRecordsAsWritten(plan, written);
  const watched = plan.alarmCount === 0 ? [] : (await pinnedConfig(plan)).alarms;
  const alarms = await checkAlarms(watched);
  // An alarm not in ALARM now whose state changed since: read whether it was in ALARM meanwhile
  // (it fired while a DNS change propagated or a person decided, or its event was lost).
  const from = new Date(since);
  for (const alarm of alarms.quiet) {
    if (alarm.transitionedAt && alarm.transitionedAt.getTime() < from.getTime() - CLOCK_MARGIN_MS) continue;
    const fired = await alarmedSince(alarm.name, from);
    if (fired)
      alarms.alarming.push({ name: alarm.name, reason: fired.reason, firedAt: fired.at.toISOString() });
  }
  requireNoAlarm(alarms);
  const verdict = await greenVerdict(plan, green, deploymentId, ours);
  const summary = describeHealth(verdict);
  if (!verdict.healthy) throw new GreenUnhealthy(summary);
  return `${summary}; ${watched.length} alarm(s) OK`;
}
