import { windowProgress } from '../domain/plan.ts';
import { lastWaitPromotion, windowPromotion } from '../domain/promotion.ts';
import type { DeploymentState, WindowState } from '../domain/workflow.ts';
import { LoopBoundExceeded } from '../errors.ts';
import { logger } from '../logger.ts';
import { assertGreenGood } from '../operations/checks.ts';
import { tellProgress } from '../operations/progress.ts';
import { need, nowIso } from '../state.ts';

/**
 * One check of the termination window. The window starts once the 100 % change is INSYNC and
 * resolvers have had a TTL to pick it up; the next check is scheduled no later than its end. An
 * operator's promote ends it early, once this check has passed and the window has begun: resolvers
 * still get their TTL to leave blue, promoted or not. Only a promote of the window's own wait ends
 * it: a window promote sent to the last step's settle wait, found here at the first check, is not.
 */
export async function watchWindow(input: DeploymentState): Promise<WindowState> {
  const state = need(input, 'plan', 'green', 'shift');
  const { ignored } = lastWaitPromotion(state);
  if (ignored)
    logger.warn('a promote naming another wait ended the last wait: it ends no window', { ignored });
  const { plan, shift } = state;
  const syncedAt = shift.dns.syncedAt ?? shift.dns.submittedAt;
  const startedAt =
    state.window?.startedAt ?? new Date(Date.parse(syncedAt) + plan.leaveSeconds * 1000).toISOString();
  const checks = (state.window?.checks ?? 0) + 1;
  // Since the previous check: the wait between checks, and an approval to terminate blue, may
  // have seen an alarm fire and clear.
  const since = state.window?.checkedAt ?? state.check?.checkedAt ?? syncedAt;
  const checkedAt = nowIso();
  const summary = await assertGreenGood(plan, state.green, state.deploymentId, shift.weights, since);
  const { waitSeconds, checkIntervalSeconds, maxChecks } = plan.termination;
  const promoted = windowPromotion(state);
  // Promoted, the window has nothing left to wait once it has begun.
  const wait = promoted ? 0 : waitSeconds;
  const progress = windowProgress(new Date(startedAt), wait, checkIntervalSeconds, new Date());
  const endsAt = new Date(Date.parse(startedAt) + waitSeconds * 1000);
  if (!progress.done && checks >= maxChecks) {
    throw new LoopBoundExceeded(
      `termination window not over after ${checks} checks (ends ${endsAt.toISOString()})`,
    );
  }
  // Told at the window's first check, which has found green good: the window is under way.
  if (!state.window)
    await tellProgress(state, 'window-started', { weights: shift.weights, green: plan.green });
  return {
    startedAt,
    endsAt: endsAt.toISOString(),
    checks,
    done: progress.done,
    nextCheckSeconds: progress.nextCheckSeconds,
    checkedAt,
    summary,
    ...(promoted ? { promotions: [promoted] } : {}),
  };
}
