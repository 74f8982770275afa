import { findManagedInstances, type InstanceSummary } from '../aws/ec2.ts';
import { foreignInstancesText } from '../domain/ownership.ts';
import { TAG } from '../domain/tags.ts';
import type { Slot } from '../domain/traffic.ts';
import type { DeploymentState, Plan } from '../domain/workflow.ts';
import { SlotInUse, TrafficDrift } from '../errors.ts';
import { requireNoTraffic } from './records-check.ts';
import { requireClaim } from './slot-tags.ts';

type Planned = DeploymentState & { plan: NonNullable<DeploymentState['plan']> };

/**
 * The slot the heal took traffic from, still claimed by this deployment (the heal claimed it before
 * it moved any traffic); refuses while it carries any traffic, and SlotInUse when another
 * deployment holds it now.
 */
export async function slotWithoutTraffic(state: Planned) {
  const slot = state.plan.heal?.from;
  if (!slot) throw new TypeError('the plan has no split to heal');
  await requireClaim(state.plan, slot, state.deploymentId, `slot ${slot}, which this heal clears`);
  await requireNoTraffic(
    state.plan,
    slot,
    (weights) => new TrafficDrift(`slot ${slot} still carries traffic (${weights}); not clearing it`),
  );
  return slot;
}

/** Whether EC2 launched the instance after this deployment planned (its clock, not the plan's). */
export function launchedSince(instance: InstanceSummary, plan: Pick<Plan, 'startedAt'>): boolean {
  return instance.launchedAt !== undefined && instance.launchedAt > plan.startedAt;
}

/**
 * What the heal clears is the fleet it found in the slot: instances of ours launched there before
 * this deployment planned. One launched since came after the heal claimed the slot, so it is
 * another deployment's (one started while the lock item was lost): SlotInUse naming it, and
 * nothing is removed.
 */
export function requireOnlyTheFleetFound(
  instances: readonly InstanceSummary[],
  plan: Pick<Plan, 'startedAt'>,
  slot: Slot,
): void {
  const newer = instances.filter((i) => launchedSince(i, plan));
  if (newer.length > 0) {
    throw new SlotInUse(
      `slot ${slot}, which this heal clears, holds instances launched after this deployment planned (${foreignInstancesText(newer)}): another deployment is using the slot; this one stops and removes nothing`,
    );
  }
}

/** The instances the heal removes from the slot it clears (found by tag: the state keeps no ids). */
export async function fleetToClear(state: Planned, slot: Slot): Promise<InstanceSummary[]> {
  const fleet = await findManagedInstances({ [TAG.app]: state.app, [TAG.env]: state.env, [TAG.slot]: slot });
  requireOnlyTheFleetFound(fleet, state.plan, slot);
  return fleet;
}
