import { checkAlarms } from '../aws/cloudwatch.ts';
import { putWait } from '../aws/dynamodb.ts';
import { sendTaskFailure } from '../aws/sfn.ts';
import { alarmsCause } from '../domain/text.ts';
import { alarmWatchId, waitTtl } from '../domain/waits.ts';
import type { PinnedConfig } from '../domain/workflow.ts';
import { CALLBACK_ERRORS } from '../errors.ts';
import { logger } from '../logger.ts';
import { pinnedConfig } from '../operations/pinned-config.ts';

export interface AlarmWatchRequest {
  token: string;
  deploymentId: string;
  /** The config the watched alarms are named in (the plan carries their number, not their names). */
  config: PinnedConfig;
  /** How long the state waits (the settle time or the window's next check). */
  seconds: number;
}

/**
 * Waits out a traffic step, or a stretch of the termination window, while listening for the
 * watched alarms: an alarm going into ALARM fails the wait at once (the CloudWatch event handler
 * does it), which rolls back within seconds instead of at the next check. Quiet waits end by their
 * own timeout. An alarm already in ALARM fails the wait here.
 */
export async function watchAlarms(request: AlarmWatchRequest, table: string): Promise<{ watching: number }> {
  const { alarms } = await pinnedConfig(request);
  if (alarms.length === 0) return { watching: 0 };
  await putWait(table, {
    id: alarmWatchId(request.deploymentId),
    token: request.token,
    alarms,
    ttl: waitTtl(new Date(), request.seconds),
  });
  const report = await checkAlarms(alarms);
  if (report.alarming.length > 0) {
    // The alarm's event may have failed the wait already: then the token is gone, which is fine.
    await sendTaskFailure(request.token, CALLBACK_ERRORS.alarm, alarmsCause(report.alarming));
    return { watching: 0 };
  }
  logger.info('watching alarms', { alarms: alarms.length, seconds: request.seconds });
  return { watching: alarms.length };
}
