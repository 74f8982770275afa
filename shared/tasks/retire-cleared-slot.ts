import { terminateInstances } from '../aws/ec2.ts';
import type { ClearedSlot, DeploymentState } from '../domain/workflow.ts';
import { fleetToClear, slotWithoutTraffic } from '../operations/healing.ts';
import { need } from '../state.ts';

/**
 * "Terminate the other slot's fleet", once drained; never while the slot carries traffic, and only
 * the fleet the heal found there while the slot is still this deployment's.
 */
export async function retireClearedSlot(input: DeploymentState): Promise<ClearedSlot> {
  const state = need(input, 'plan');
  const cleared = input.cleared;
  if (!cleared) throw new TypeError('execution state has no cleared slot');
  const slot = await slotWithoutTraffic(state);
  // Found by tag again: the state carries counts, not the fleet's ids.
  const ids = (await fleetToClear(state, slot)).map((i) => i.id);
  await terminateInstances(ids);
  return { ...cleared, terminated: ids.length };
}
