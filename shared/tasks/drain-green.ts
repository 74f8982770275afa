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
  const { plan } = state;
  const green = await idleGreen(plan, state.deploymentId, 'taking it out of service');
  const drain = await takeOutOfService(green.targetGroupArn, green.tags);
  logger.warn('green taken out of service', { ...drain });
  return drain;
}
