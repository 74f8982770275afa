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
  state?: { value?: string; reason?: string };
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
    const cause = alarmsCause([{ name, reason: event.detail.state.reason ?? '' }]);
    for (const watch of await findAlarmWatches(table, name)) {
      if (await sendTaskFailure(watch.token, CALLBACK_ERRORS.alarm, cause)) resumed += 1;
    }
  }
  logger.info('aws event handled', { source: event.source, detailType: event['detail-type'], resumed });
  return { resumed };
}
