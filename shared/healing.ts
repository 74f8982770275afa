import { readWeights } from './aws/route53.ts';
import { formatWeights, type Slot } from './domain/traffic.ts';
import type { DeploymentState } from './domain/workflow.ts';
import { TrafficDrift } from './errors.ts';

/** Healing a traffic split: what the cleanup of the slot that lost its traffic shares. */
export interface ClearedSlot {
  slot: Slot;
  instanceIds: string[];
  deregistered: string[];
  /** How long to let the deregistered targets drain: the target group's deregistration delay. */
  drainSeconds: number;
  terminated?: string[];
}

/** The slot the heal took traffic from; refuses while it still carries any. */
export async function slotWithoutTraffic(
  state: DeploymentState & { plan: NonNullable<DeploymentState['plan']> },
) {
  const slot = state.plan.heal?.from;
  if (!slot) throw new TypeError('the plan has no split to heal');
  const weights = await readWeights(state.plan);
  if ((weights[slot] ?? 0) !== 0) {
    throw new TrafficDrift(`slot ${slot} still carries traffic (${formatWeights(weights)}); not clearing it`);
  }
  return slot;
}
