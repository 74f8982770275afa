import type { DeploymentState, GreenDrain } from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { idleGreen, takeOutOfService } from '../operations/fleet.ts';
import { need } from '../state.ts';

/**
 * "Take green out of service": in a rollback, once resolvers have left green, its instances are
 * deregistered so that clients which ignore DNS see their requests in flight finish (for the
 * deregistration delay) instead of cut when green is terminated. Refused while green carries traffic.
 */
export async function drainGreen(input: DeploymentState): Promise<GreenDrain> {
  const state = need(input, 'plan');
  const drain = await takeOutOfService(
    await idleGreen(state.plan, state.deploymentId, 'taking it out of service'),
  );
  logger.warn('green taken out of service', { ...drain });
  return drain;
}
