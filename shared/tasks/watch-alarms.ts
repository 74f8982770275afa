import { checkAlarms } from '../aws/cloudwatch.ts';
import { putWait } from '../aws/dynamodb.ts';
import { sendTaskFailure } from '../aws/sfn.ts';
import { waitOf } from '../domain/promotion.ts';
import { alarmsCause } from '../domain/text.ts';
import { alarmWatchId, waitTtl } from '../domain/waits.ts';
import type { DeploymentState } from '../domain/workflow.ts';
import { CALLBACK_ERRORS } from '../errors.ts';
import { logger } from '../logger.ts';
import { pinnedConfig } from '../operations/pinned-config.ts';
import { need } from '../state.ts';

export interface AlarmWatchRequest {
  token: string;
  /** The execution state the wait starts from: the step (or the window) waited out, the plan. */
  deployment: DeploymentState;
  executionArn: string;
  /** How long the state waits (the settle time or the window's next check). */
  seconds: number;
}

/**
 * When resolvers have had the record TTL to pick up the change since it was INSYNC (the wait
 * follows the DNS check, so it is INSYNC by now when no time was recorded).
 */
function resolversMovedAt(syncedAt: string | undefined, now: Date, ttlSeconds: number): string {
  const synced = syncedAt ? Date.parse(syncedAt) : now.getTime();
  return new Date(synced + ttlSeconds * 1000).toISOString();
}

/**
 * Waits out a traffic step, or a stretch of the termination window, while listening for the
 * watched alarms: an alarm going into ALARM fails the wait at once (the CloudWatch event handler
 * does it), which rolls back within seconds instead of at the next check. Quiet waits end by their
 * own timeout, or by an operator's promote. The token is stored under the deployment's watch id
 * for both, with the wait it ends, when the wait would end on its own and the earliest a promote
 * may end it (resolvers have moved), alarms watched or not.
 * An alarm already in ALARM fails the wait here.
 */
export async function watchAlarms(request: AlarmWatchRequest, table: string): Promise<{ watching: number }> {
  const { plan } = need(request.deployment, 'plan');
  const alarms = plan.alarmCount === 0 ? [] : (await pinnedConfig(plan)).alarms;
  const now = new Date();
  await putWait(table, {
    id: alarmWatchId(plan.deploymentId),
    token: request.token,
    alarms,
    ttl: waitTtl(now, request.seconds),
    wait: waitOf(request.deployment),
    executionArn: request.executionArn,
    endsAt: new Date(now.getTime() + request.seconds * 1000).toISOString(),
    // A listener's weights apply to new clients at once: nothing to wait for before a promote (a
    // sticky client's stickiness is waited out before the window begins, promoted or not).
    promotableAt: resolversMovedAt(
      request.deployment.shift?.dns.syncedAt,
      now,
      plan.listener ? 0 : plan.leaveSeconds,
    ),
  });
  if (alarms.length === 0) return { watching: 0 };
  const report = await checkAlarms(alarms);
  if (report.alarming.length > 0) {
    // The alarm's event may have failed the wait already: then the token is gone, which is fine.
    await sendTaskFailure(request.token, CALLBACK_ERRORS.alarm, alarmsCause(report.alarming));
    return { watching: 0 };
  }
  logger.info('watching alarms', { alarms: alarms.length, seconds: request.seconds });
  return { watching: alarms.length };
}
