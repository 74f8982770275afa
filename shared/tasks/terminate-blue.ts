import { readWeights } from '../aws/route53.ts';
import { TAG } from '../domain/tags.ts';
import { formatWeights } from '../domain/traffic.ts';
import type { BlueRetirement, DeploymentState } from '../domain/workflow.ts';
import { TrafficDrift } from '../errors.ts';
import { retireInstances } from '../fleet.ts';
import { logger } from '../logger.ts';
import { need, nowIso } from '../state.ts';

/**
 * Deregisters and terminates the blue fleet, found by tag. The records are read first: blue is
 * never terminated while it carries any traffic, whatever the execution state claims.
 */
export async function terminateBlue(input: DeploymentState): Promise<BlueRetirement> {
  const state = need(input, 'plan');
  const { plan } = state;
  const blue = plan.blue;
  if (blue === null) return { slot: plan.green, deregistered: [], terminated: [], at: nowIso() };
  const weights = await readWeights(plan);
  if ((weights[blue] ?? 0) !== 0 || (weights[plan.green] ?? 0) === 0) {
    throw new TrafficDrift(`not terminating blue slot ${blue}: the records hold ${formatWeights(weights)}`);
  }
  const retired = await retireInstances(
    plan.slots[blue].targetGroupArn,
    { [TAG.app]: state.app, [TAG.env]: state.env, [TAG.slot]: blue },
    (tags) => tags[TAG.deploymentId] === state.deploymentId,
  );
  logger.info('blue fleet terminated', { slot: blue, instanceIds: retired.terminated });
  return { slot: blue, ...retired, at: nowIso() };
}
