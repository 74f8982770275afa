import { findManagedInstances } from './aws/ec2.ts';
import { readWeights, requireNoTraffic } from './aws/route53.ts';
import { idList } from './domain/leftovers.ts';
import { TAG } from './domain/tags.ts';
import { formatWeights, type Slot, type Weights } from './domain/traffic.ts';
import type { DeploymentState, Plan } from './domain/workflow.ts';
import { TrafficDrift } from './errors.ts';

/** The slot the heal took traffic from; refuses while it still carries any. */
export async function slotWithoutTraffic(
  state: DeploymentState & { plan: NonNullable<DeploymentState['plan']> },
) {
  const slot = state.plan.heal?.from;
  if (!slot) throw new TypeError('the plan has no split to heal');
  await requireNoTraffic(
    state.plan,
    slot,
    (weights) => new TrafficDrift(`slot ${slot} still carries traffic (${weights}); not clearing it`),
  );
  return slot;
}

/**
 * What is left of a heal that did not finish: traffic still on the slot it was clearing, our
 * instances still running in that slot (after a deploy's own ones were removed). Read from AWS
 * now, each read best effort: an outage that stopped the heal may break these too, and that is said.
 */
export async function healLeftovers(
  plan: Pick<Plan, 'dns' | 'slots'>,
  app: string,
  env: string,
  heal: { from: Slot; to: Slot },
  /** The weights, when the caller has just read them. */
  read?: Weights,
): Promise<string[]> {
  const left: string[] = [];
  try {
    const weights = read ?? (await readWeights(plan));
    if ((weights[heal.from] ?? 0) > 0) {
      left.push(
        `traffic: ${formatWeights(weights)}; slot ${heal.from} still carries traffic, set it to 0 and slot ${heal.to} to 100 in one change`,
      );
    }
  } catch (error) {
    left.push(
      `traffic: could not read the weights of ${plan.dns.recordName} (${(error as Error).name}); check them by hand`,
    );
  }
  try {
    const running = await findManagedInstances({ [TAG.app]: app, [TAG.env]: env, [TAG.slot]: heal.from });
    if (running.length > 0) {
      left.push(
        `slot ${heal.from} instances still running: ${idList(running.map((i) => i.id))}; deregister them from ${plan.slots[heal.from].targetGroupArn} if still registered, then terminate them`,
      );
    }
  } catch (error) {
    left.push(
      `instances: could not list slot ${heal.from} instances (${(error as Error).name}); check them by hand`,
    );
  }
  return left;
}
