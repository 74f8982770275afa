import { formatWeights, type Slot, sameWeights, weightsForStep } from '../domain/traffic.ts';
import type { DeploymentState, DnsChange } from '../domain/workflow.ts';
import { TrafficDrift, UnsafeToDeploy } from '../errors.ts';
import { logger } from '../logger.ts';
import { claimSlot } from '../operations/slot-ownership.ts';
import { moveAllTrafficTo } from '../operations/traffic-moves.ts';
import { readWeights } from '../operations/weights.ts';
import { need } from '../state.ts';

export interface Healing {
  to: Slot;
  from: Slot;
  dns: DnsChange;
}

/**
 * "Move all traffic to the healthier slot": a deploy that found both slots carrying traffic, with
 * traffic.healSplit set, first puts everything on the healthier one (one change batch), so the
 * deploy can start from one live slot. The weights must still be the split the plan saw.
 *
 * The slot the heal then clears is green's: it is claimed for this deployment before anything is
 * changed, as launch claims green (claimSlot), so a deployment that started while the lock item
 * was lost cannot launch into it while it is being cleared, and one that already holds it is
 * refused (SlotInUse) with nothing moved or cleared.
 */
export async function healSplit(input: DeploymentState, executionArn: string): Promise<Healing> {
  const { plan, deploymentId } = need(input, 'plan');
  const heal = plan.heal;
  if (!heal) throw new TypeError('the plan has no split to heal');
  const target = weightsForStep(heal.from, 0);
  const current = await readWeights(plan);
  if (!sameWeights(current, target) && !sameWeights(current, heal.weights)) {
    throw new TrafficDrift(
      `the records hold ${formatWeights(current)}, not the split the plan saw; not healing`,
    );
  }
  await claimSlot(
    plan,
    heal.from,
    { deploymentId, executionArn },
    'this deployment moved no traffic and clears nothing of it',
  );
  const dns = await moveAllTrafficTo(
    plan,
    heal.to,
    `${deploymentId} heal: all traffic to slot ${heal.to}`,
    current,
  );
  if (!dns)
    throw new UnsafeToDeploy(`slot ${heal.to} has no healthy target any more; not moving traffic to it`);
  logger.warn('healing a traffic split', { from: heal.from, to: heal.to, was: heal.weights });
  return { to: heal.to, from: heal.from, dns };
}
