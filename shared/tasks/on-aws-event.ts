import type { EventBridgeEvent } from 'aws-lambda';
import { findAlarmWatches, getWait } from '../aws/dynamodb.ts';
import { sendTaskFailure, sendTaskSuccess } from '../aws/sfn.ts';
import { buildEnded } from '../domain/bake.ts';
import { alarmsCause } from '../domain/text.ts';
import { bakeWaitId } from '../domain/waits.ts';
import { CALLBACK_ERRORS } from '../errors.ts';
import { logger } from '../logger.ts';

interface ImageStateChange {
  state?: { status?: string; reason?: string };
}

interface AlarmStateChange {
  alarmName?: string;
  /** `timestamp`: when the alarm changed state, as CloudWatch writes it (2026-03-02T09:33:05.123+0000). */
  state?: { value?: string; reason?: string; timestamp?: string };
}

/** When the alarm went into ALARM: the event's state timestamp, else the event's time. */
function alarmedAt(event: EventBridgeEvent<string, AlarmStateChange>): string | undefined {
  const at = [event.detail.state?.timestamp, event.time]
    .map((t) => Date.parse(t ?? ''))
    .find(Number.isFinite);
  return at === undefined ? undefined : new Date(at).toISOString();
}

/**
 * AWS events that end a wait: Image Builder's image state changes resume the bake wait, a watched
 * CloudWatch alarm going into ALARM fails the alarm watch of every deployment watching it. Events
 * arrive at least once and in any order; resuming twice is harmless (the second is ignored).
 */
export async function onAwsEvent(
  event: EventBridgeEvent<string, ImageStateChange & AlarmStateChange>,
  table: string,
): Promise<{ resumed: number }> {
  let resumed = 0;
  if (event.source === 'aws.imagebuilder') {
    const status = event.detail.state?.status ?? '';
    const arn = event.resources?.[0];
    if (!arn || !buildEnded(status)) return { resumed };
    const wait = await getWait(table, bakeWaitId(arn));
    if (wait && (await sendTaskSuccess(wait.token, { status }))) resumed += 1;
  } else if (event.source === 'aws.cloudwatch') {
    const name = event.detail.alarmName;
    if (!name || event.detail.state?.value !== 'ALARM') return { resumed };
    const since = alarmedAt(event);
    const cause = alarmsCause([
      { name, reason: event.detail.state.reason ?? '', ...(since ? { since } : {}) },
    ]);
    for (const watch of await findAlarmWatches(table, name)) {
      if (await sendTaskFailure(watch.token, CALLBACK_ERRORS.alarm, cause)) resumed += 1;
    }
  }
  logger.info('aws event handled', { source: event.source, detailType: event['detail-type'], resumed });
  return { resumed };
}
