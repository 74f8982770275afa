import { terminateInstances } from '../aws/ec2.ts';
import type { BlueRetirement, DeploymentState } from '../domain/workflow.ts';
import { TrafficDrift } from '../errors.ts';
import { logger } from '../logger.ts';
import { blueInstances } from '../operations/blue-fleet.ts';
import { deleteGroups } from '../operations/groups.ts';
import { tellProgress } from '../operations/progress.ts';
import { requireNoTraffic } from '../operations/records-check.ts';
import { need, nowIso } from '../state.ts';

/**
 * Terminates the drained blue fleet: our instances in blue's slot, found by tag as when they were
 * deregistered (not carried in the state, which must not grow with the fleet). The records are
 * read once more: blue is never terminated while it carries any traffic.
 */
export async function terminateBlue(input: DeploymentState): Promise<BlueRetirement> {
  const state = need(input, 'plan', 'drain');
  const { plan, drain } = state;
  await requireNoTraffic(
    plan,
    drain.slot,
    (weights) => new TrafficDrift(`not terminating blue slot ${drain.slot}: the records hold ${weights}`),
  );
  // Blue's group first: deleted, it terminates its instances and replaces none of them.
  const byGroup = plan.group?.blue ? (await deleteGroups({ name: plan.group.blue })).terminated : 0;
  const ids = (await blueInstances(state, drain.slot)).map((i) => i.id);
  await terminateInstances(ids);
  logger.info('blue fleet terminated', { slot: drain.slot, terminated: Math.max(ids.length, byGroup) });
  await tellProgress(state, 'blue-terminated', { green: plan.green });
  return {
    slot: drain.slot,
    deregistered: drain.deregistered,
    terminated: Math.max(ids.length, byGroup),
    at: nowIso(),
  };
}
