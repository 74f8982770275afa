import { assertGreenGood } from '../checks.ts';
import type { DeploymentState, StepCheck } from '../domain/workflow.ts';
import { need, nowIso } from '../state.ts';

/** After a step has settled: alarms and green health. */
export async function checkStep(input: DeploymentState): Promise<StepCheck> {
  const state = need(input, 'plan', 'green');
  const summary = await assertGreenGood(state.plan, state.green);
  return { checkedAt: nowIso(), summary };
}
