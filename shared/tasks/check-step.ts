import { lastWaitPromotion, stepPromotions } from '../domain/promotion.ts';
import type { DeploymentState, StepCheck } from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { assertGreenGood } from '../operations/checks.ts';
import { need, nowIso } from '../state.ts';

/**
 * After a step has settled: alarms and green health. An alarm counts that was in ALARM at any
 * moment since the previous step's check (or, at the first step, since its write): nothing
 * watches alarms while a change propagates. Checked the same when an operator promoted the step
 * (ended its wait early), whose promote it records with the earlier ones: only a promote that
 * names this step's wait (a result naming another wait ended the wait and promoted nothing).
 */
export async function checkStep(input: DeploymentState): Promise<StepCheck> {
  const state = need(input, 'plan', 'green', 'shift');
  const { ignored } = lastWaitPromotion(state);
  if (ignored) logger.warn('a promote naming another wait ended the settle wait: not recorded', { ignored });
  const since = state.check?.checkedAt ?? state.shift.dns.submittedAt;
  // Taken before the reads: the next check looks from here, so no moment goes unwatched.
  const checkedAt = nowIso();
  const summary = await assertGreenGood(
    state.plan,
    state.green,
    state.deploymentId,
    state.shift.weights,
    since,
  );
  return { checkedAt, summary, ...stepPromotions(state) };
}
