import { terminateInstances } from '../aws/ec2.ts';
import { readWeights } from '../aws/route53.ts';
import { formatWeights } from '../domain/traffic.ts';
import type { BlueRetirement, DeploymentState } from '../domain/workflow.ts';
import { TrafficDrift } from '../errors.ts';
import { logger } from '../logger.ts';
import { need, nowIso } from '../state.ts';

/**
 * Terminates the drained blue fleet (the instances deregistered before). The records are read
 * once more: blue is never terminated while it carries any traffic.
 */
export async function terminateBlue(input: DeploymentState): Promise<BlueRetirement> {
  const state = need(input, 'plan', 'drain');
  const { plan, drain } = state;
  const weights = await readWeights(plan);
  if ((weights[drain.slot] ?? 0) !== 0) {
    throw new TrafficDrift(
      `not terminating blue slot ${drain.slot}: the records hold ${formatWeights(weights)}`,
    );
  }
  await terminateInstances(drain.instanceIds);
  logger.info('blue fleet terminated', { slot: drain.slot, instanceIds: drain.instanceIds });
  return { slot: drain.slot, deregistered: drain.deregistered, terminated: drain.instanceIds, at: nowIso() };
}
