import { describeAlarms } from '../aws/cloudwatch.ts';
import { listLiveWaits, type WaitItem } from '../aws/dynamodb.ts';
import { getImageStatus } from '../aws/imagebuilder.ts';
import { sendTaskFailure, sendTaskSuccess } from '../aws/sfn.ts';
import { arnScope, buildEnded } from '../domain/bake.ts';
import { alarmsCause } from '../domain/text.ts';
import { CALLBACK_ERRORS } from '../errors.ts';
import { logger } from '../logger.ts';

/**
 * The schedule re-drives the waits twice a minute: EventBridge's shortest schedule is a minute,
 * so each invocation looks at once and again half a minute later. A wait whose event was lost is
 * resumed at most this long after its build ended or its alarm went into ALARM.
 */
export const REDRIVE_PASSES = 2;
export const REDRIVE_PAUSE_SECONDS = 30;

export interface RedriveReport {
  /** Waits looked at, summed over the passes. */
  checked: number;
  /** Waits resumed (a bake) or failed (an alarm) whose token was still live. */
  resumed: number;
  /** Waits whose check or callback failed; the next pass tries them again. */
  failed: number;
}

const BAKE_PREFIX = 'bake#';

/** One pass over the live waits: what their lost event would have done, done from AWS's state. */
async function redrivePass(table: string): Promise<RedriveReport & { live: number }> {
  const waits = await listLiveWaits(table, new Date());
  const report = { checked: 0, resumed: 0, failed: 0, live: waits.length };
  const watches = waits.filter((w) => !w.id.startsWith(BAKE_PREFIX) && (w.alarms?.length ?? 0) > 0);
  const names = [...new Set(watches.flatMap((w) => w.alarms ?? []))];
  const alarms = names.length > 0 ? await describeAlarms(names) : new Map();
  const settle = async (wait: WaitItem, resume: () => Promise<boolean | undefined>) => {
    report.checked += 1;
    try {
      if (await resume()) report.resumed += 1;
    } catch (error) {
      report.failed += 1;
      logger.warn('could not re-drive a wait', { id: wait.id, error });
    }
  };
  for (const wait of waits) {
    if (wait.id.startsWith(BAKE_PREFIX)) {
      const arn = wait.id.slice(BAKE_PREFIX.length);
      await settle(wait, async () => {
        const image = await getImageStatus(arn, arnScope(arn).region);
        return buildEnded(image.status) ? sendTaskSuccess(wait.token, { status: image.status }) : false;
      });
      continue;
    }
    const alarming = (wait.alarms ?? [])
      .map((name) => alarms.get(name))
      .filter((a) => a?.state === 'ALARM')
      .map((a) => ({
        name: a.name,
        reason: a.reason,
        ...(a.transitionedAt ? { since: a.transitionedAt.toISOString() } : {}),
      }));
    if (alarming.length === 0) continue;
    // The token is gone once the wait ended (by its event, its timeout or a promote): then false.
    await settle(wait, () => sendTaskFailure(wait.token, CALLBACK_ERRORS.alarm, alarmsCause(alarming)));
  }
  return report;
}

/**
 * The scheduled fallback for AWS's events (EventBridge delivers them best effort): every live bake
 * wait whose build has ended is resumed, every alarm watch with a watched alarm in ALARM is failed,
 * as the lost event would have. Costs no state transitions; a wait already ended is left alone
 * (its token is gone). One invocation serves every deployment of the account; with nothing parked
 * it looks once and returns.
 */
export async function redriveWaits(
  table: string,
  passes = REDRIVE_PASSES,
  pauseSeconds = REDRIVE_PAUSE_SECONDS,
): Promise<RedriveReport> {
  const total: RedriveReport = { checked: 0, resumed: 0, failed: 0 };
  for (let pass = 0; pass < passes; pass++) {
    if (pass > 0) await new Promise((resolve) => setTimeout(resolve, pauseSeconds * 1000));
    const report = await redrivePass(table);
    total.checked += report.checked;
    total.resumed += report.resumed;
    total.failed += report.failed;
    // Nothing parked: no deployment is waiting, so no second look (and no billed pause).
    if (report.live === 0) break;
  }
  if (total.resumed > 0 || total.failed > 0) logger.info('waits re-driven', { ...total });
  return total;
}
