import { requireNoTraffic } from '../aws/route53.ts';
import { TAG } from '../domain/tags.ts';
import type { DeploymentState, GreenRemoval } from '../domain/workflow.ts';
import { RollbackBlocked } from '../errors.ts';
import { retireInstances } from '../fleet.ts';
import { logger } from '../logger.ts';
import { need } from '../state.ts';

/**
 * Deregisters and terminates every instance this deployment launched, found by its deployment
 * tag (so instances of a launch that died halfway are found too). Refuses while green carries
 * traffic: terminating it then would take the service down.
 */
export async function removeGreen(input: DeploymentState): Promise<GreenRemoval> {
  const state = need(input, 'plan');
  const { plan } = state;
  await requireNoTraffic(
    plan,
    plan.green,
    (weights) =>
      new RollbackBlocked(`green slot ${plan.green} still carries traffic (${weights}); not terminating it`),
  );
  const removed = await retireInstances(plan.slots[plan.green].targetGroupArn, {
    [TAG.deploymentId]: state.deploymentId,
  });
  logger.warn('green fleet removed', { instanceIds: removed.terminated });
  return {
    ...removed,
    summary:
      removed.terminated.length > 0
        ? `green instances terminated: ${removed.terminated.join(', ')}`
        : 'no green instances to terminate',
  };
}
