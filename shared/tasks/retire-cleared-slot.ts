import { terminateInstances } from '../aws/ec2.ts';
import type { DeploymentState } from '../domain/workflow.ts';
import { type ClearedSlot, slotWithoutTraffic } from '../healing.ts';
import { need } from '../state.ts';

/** "Terminate the other slot's fleet", once drained; never while the slot carries traffic. */
export async function retireClearedSlot(
  input: DeploymentState & { cleared?: ClearedSlot },
): Promise<ClearedSlot> {
  const state = need(input, 'plan');
  const cleared = input.cleared;
  if (!cleared) throw new TypeError('execution state has no cleared slot');
  await slotWithoutTraffic(state);
  await terminateInstances(cleared.instanceIds);
  return { ...cleared, terminated: cleared.instanceIds };
}
