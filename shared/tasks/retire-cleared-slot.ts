import { findManagedInstances, terminateInstances } from '../aws/ec2.ts';
import { TAG } from '../domain/tags.ts';
import type { ClearedSlot, DeploymentState } from '../domain/workflow.ts';
import { slotWithoutTraffic } from '../healing.ts';
import { need } from '../state.ts';

/** "Terminate the other slot's fleet", once drained; never while the slot carries traffic. */
export async function retireClearedSlot(input: DeploymentState): Promise<ClearedSlot> {
  const state = need(input, 'plan');
  const cleared = input.cleared;
  if (!cleared) throw new TypeError('execution state has no cleared slot');
  const slot = await slotWithoutTraffic(state);
  // Found by tag again: the state carries counts, not the fleet's ids.
  const ids = (
    await findManagedInstances({ [TAG.app]: state.app, [TAG.env]: state.env, [TAG.slot]: slot })
  ).map((i) => i.id);
  await terminateInstances(ids);
  return { ...cleared, terminated: ids.length };
}
