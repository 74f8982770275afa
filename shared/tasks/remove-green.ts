import { TAG } from '../domain/tags.ts';
import type { DeploymentState, GreenRemoval } from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { idleGreen, retireInstances } from '../operations/fleet.ts';
import { releaseBlue } from '../operations/groups.ts';
import { need } from '../state.ts';

/**
 * Deregisters and terminates every instance this deployment launched, found by its deployment
 * tag (so instances of a launch that died halfway are found too). Refuses while green carries
 * traffic: terminating it then would take the service down.
 */
export async function removeGreen(input: DeploymentState): Promise<GreenRemoval> {
  const state = need(input, 'plan');
  const removed = await retireInstances(await idleGreen(state.plan, state.deploymentId, 'terminating it'));
  // Blue serves alone again: its group may scale as its policies say.
  await releaseBlue(state.plan);
  logger.warn('green fleet removed', { ...removed });
  return {
    ...removed,
    summary:
      removed.terminated > 0
        ? `${removed.terminated} green instance(s) terminated (tagged ${TAG.deploymentId}=${state.deploymentId})`
        : 'no green instances to terminate',
  };
}
