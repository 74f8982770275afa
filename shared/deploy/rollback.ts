import { findManagedInstances, terminateInstances } from '../aws/ec2.ts';
import { deregisterTargets, describeTargetHealth } from '../aws/elbv2.ts';
import { readWeights, writeWeights } from '../aws/route53.ts';
import { TAG } from '../domain/tags.ts';
import { formatWeights, weightsForStep } from '../domain/traffic.ts';
import type { DeploymentState, GreenRemoval, TrafficRollback } from '../domain/workflow.ts';
import { RollbackBlocked } from '../errors.ts';
import { logger } from '../logger.ts';
import { need } from './state.ts';

/**
 * Puts all traffic back on blue in one change batch. Reads the records first so a retried or
 * repeated rollback writes nothing when traffic is already home.
 */
export async function rollBackTraffic(input: DeploymentState): Promise<TrafficRollback> {
  const state = need(input, 'plan');
  const { plan } = state;
  const current = await readWeights(plan);
  const onGreen = current[plan.green] ?? 0;
  if (onGreen === 0) {
    return {
      changed: false,
      weights: null,
      summary: `traffic never left blue (${formatWeights(current)})`,
      dns: null,
    };
  }
  if (plan.blue === null) {
    throw new RollbackBlocked(
      `green slot ${plan.green} carries traffic (${formatWeights(current)}) and this was the first deployment: there is no previous fleet to return it to`,
    );
  }
  const weights = weightsForStep(plan.green, 0);
  const { changeId, submittedAt } = await writeWeights(
    plan,
    weights,
    `${state.deploymentId} rollback: all traffic to slot ${plan.blue}`,
  );
  logger.warn('traffic rolled back to blue', { weights, changeId });
  return {
    changed: true,
    weights,
    summary: `traffic returned to slot ${plan.blue} (${formatWeights(weights)})`,
    dns: { changeId, status: 'PENDING', polls: 0, maxPolls: plan.dns.maxPolls, submittedAt },
  };
}

/**
 * Deregisters and terminates every instance this deployment launched, found by its deployment
 * tag (so instances of a launch that died halfway are found too). Refuses while green carries
 * traffic: terminating it then would take the service down.
 */
export async function removeGreen(input: DeploymentState): Promise<GreenRemoval> {
  const state = need(input, 'plan');
  const { plan } = state;
  const weights = await readWeights(plan);
  if ((weights[plan.green] ?? 0) > 0) {
    throw new RollbackBlocked(
      `green slot ${plan.green} still carries traffic (${formatWeights(weights)}); not terminating it`,
    );
  }
  const instances = await findManagedInstances({ [TAG.deploymentId]: state.deploymentId });
  const ids = instances.map((i) => i.id);
  const targetGroupArn = plan.slots[plan.green].targetGroupArn;
  const registered = (await describeTargetHealth(targetGroupArn, ids))
    .filter((t) => t.reason !== 'Target.NotRegistered' && t.state !== 'draining')
    .map((t) => t.id);
  await deregisterTargets(targetGroupArn, registered);
  await terminateInstances(ids);
  logger.warn('green fleet removed', { instanceIds: ids });
  return {
    deregistered: registered,
    terminated: ids,
    summary:
      ids.length > 0 ? `green instances terminated: ${ids.join(', ')}` : 'no green instances to terminate',
  };
}
