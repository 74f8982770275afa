import { idList } from '../domain/leftovers.ts';
import { launchedByUs, TAG } from '../domain/tags.ts';
import type { ClearedSlot, DeploymentState } from '../domain/workflow.ts';
import { UnsafeToDeploy } from '../errors.ts';
import { logger } from '../logger.ts';
import { fleetToClear, requireOnlyTheFleetFound, slotWithoutTraffic } from '../operations/healing.ts';
import { drainSeconds, isGone, registeredWithInstances, takeOut } from '../operations/slot-targets.ts';
import { need } from '../state.ts';

/**
 * "Take the other slot out of service": after a heal, the slot that lost its traffic must be empty
 * before green can use it. It is still this deployment's (the heal claimed it), and what it holds
 * is the fleet the heal found there: our instances are deregistered (and terminated next), and so
 * are targets whose instance is gone. A target this service did not launch is not ours to remove,
 * so the deploy stops and says which; so it does when another deployment launched into the slot.
 */
export async function clearSlot(input: DeploymentState): Promise<ClearedSlot> {
  const state = need(input, 'plan');
  const slot = await slotWithoutTraffic(state);
  const targetGroupArn = state.plan.slots[slot].targetGroupArn;
  const tags = { [TAG.app]: state.app, [TAG.env]: state.env, [TAG.slot]: slot };
  // Ours whatever their state: an instance of ours that died is still ours to deregister.
  const registered = await registeredWithInstances(targetGroupArn);
  const foreign = registered
    .filter((t) => !isGone(t) && !launchedByUs(t.instance?.tags, tags))
    .map((t) => t.id);
  if (foreign.length > 0) {
    throw new UnsafeToDeploy(
      `slot ${slot}'s target group holds targets this service did not launch (${idList(foreign)}); traffic is on slot ${state.plan.heal?.to}, deregister them and upload again`,
    );
  }
  requireOnlyTheFleetFound(
    registered.flatMap((t) => (t.instance ? [t.instance] : [])),
    state.plan,
    slot,
  );
  const instances = (await fleetToClear(state, slot)).length;
  const out = await takeOut(targetGroupArn, registered);
  logger.warn('clearing the slot that lost its traffic', { slot, instances });
  return {
    slot,
    instances,
    deregistered: out.deregistered,
    drainSeconds: await drainSeconds(targetGroupArn, out),
  };
}
