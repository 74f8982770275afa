import { checkAlarms } from '../aws/cloudwatch.ts';
import { putWait } from '../aws/dynamodb.ts';
import { sendTaskFailure } from '../aws/sfn.ts';
import { alarmsCause } from '../domain/text.ts';
import { alarmWatchId, waitTtl } from '../domain/waits.ts';
import { CALLBACK_ERRORS } from '../errors.ts';
import { logger } from '../logger.ts';

export interface AlarmWatchRequest {
  token: string;
  deploymentId: string;
  alarms: string[];
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
  if (request.alarms.length === 0) return { watching: 0 };
  await putWait(table, {
    id: alarmWatchId(request.deploymentId),
    token: request.token,
    alarms: request.alarms,
    ttl: waitTtl(new Date(), request.seconds),
  });
  const report = await checkAlarms(request.alarms);
  if (report.alarming.length > 0) {
    // The alarm's event may have failed the wait already: then the token is gone, which is fine.
    await sendTaskFailure(request.token, CALLBACK_ERRORS.alarm, alarmsCause(report.alarming));
    return { watching: 0 };
  }
  logger.info('watching alarms', { alarms: request.alarms.length, seconds: request.seconds });
  return { watching: request.alarms.length };
}
