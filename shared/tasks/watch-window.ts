import { windowProgress } from '../domain/plan.ts';
import type { DeploymentState, WindowState } from '../domain/workflow.ts';
import { LoopBoundExceeded } from '../errors.ts';
import { assertGreenGood } from '../operations/checks.ts';
import { need, nowIso } from '../state.ts';

/**
 * One check of the termination window. The window starts once the 100 % change is INSYNC and
 * resolvers have had a TTL to pick it up; the next check is scheduled no later than its end.
 */
export async function watchWindow(input: DeploymentState): Promise<WindowState> {
  const state = need(input, 'plan', 'green', 'shift');
  const { plan, shift } = state;
  const syncedAt = shift.dns.syncedAt ?? shift.dns.submittedAt;
  const startedAt =
    state.window?.startedAt ?? new Date(Date.parse(syncedAt) + plan.dns.ttlSeconds * 1000).toISOString();
  const checks = (state.window?.checks ?? 0) + 1;
  // Since the previous check: the wait between checks, and an approval to terminate blue, may
  // have seen an alarm fire and clear.
  const since = state.window?.checkedAt ?? state.check?.checkedAt ?? syncedAt;
  const checkedAt = nowIso();
  const summary = await assertGreenGood(plan, state.green, state.deploymentId, shift.weights, since);
  const { waitSeconds, checkIntervalSeconds, maxChecks } = plan.termination;
  const progress = windowProgress(new Date(startedAt), waitSeconds, checkIntervalSeconds, new Date());
  if (!progress.done && checks >= maxChecks) {
    throw new LoopBoundExceeded(
      `termination window not over after ${checks} checks (ends ${progress.endsAt.toISOString()})`,
    );
  }
  return {
    startedAt,
    endsAt: progress.endsAt.toISOString(),
    checks,
    done: progress.done,
    nextCheckSeconds: progress.nextCheckSeconds,
    checkedAt,
    summary,
  };
}
