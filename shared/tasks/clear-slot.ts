import { findManagedInstances } from '../aws/ec2.ts';
import { deregisterTargets, deregistrationDelaySeconds, describeTargetHealth } from '../aws/elbv2.ts';
import { TAG } from '../domain/tags.ts';
import type { DeploymentState } from '../domain/workflow.ts';
import { UnsafeToDeploy } from '../errors.ts';
import { type ClearedSlot, slotWithoutTraffic } from '../healing.ts';
import { logger } from '../logger.ts';
import { need } from '../state.ts';

/**
 * "Take the other slot out of service": after a heal, the slot that lost its traffic must be empty
 * before green can use it. Our instances there are deregistered (and terminated next); a target
 * this service did not launch is not ours to remove, so the deploy stops and says which.
 */
export async function clearSlot(input: DeploymentState): Promise<ClearedSlot> {
  const state = need(input, 'plan');
  const slot = await slotWithoutTraffic(state);
  const targetGroupArn = state.plan.slots[slot].targetGroupArn;
  const ours = await findManagedInstances({ [TAG.app]: state.app, [TAG.env]: state.env, [TAG.slot]: slot });
  const ourIds = new Set(ours.map((i) => i.id));
  const registered = (await describeTargetHealth(targetGroupArn)).filter(
    (t) => t.reason !== 'Target.NotRegistered',
  );
  const foreign = registered.filter((t) => !ourIds.has(t.id)).map((t) => t.id);
  if (foreign.length > 0) {
    throw new UnsafeToDeploy(
      `slot ${slot}'s target group holds targets this service did not launch (${foreign.join(', ')}); traffic is on slot ${state.plan.heal?.to}, deregister them and upload again`,
    );
  }
  const toDeregister = registered.filter((t) => t.state !== 'draining').map((t) => t.id);
  await deregisterTargets(targetGroupArn, toDeregister);
  const delay = await deregistrationDelaySeconds(targetGroupArn);
  logger.warn('clearing the slot that lost its traffic', { slot, instanceIds: [...ourIds] });
  return {
    slot,
    instanceIds: [...ourIds],
    deregistered: registered.map((t) => t.id),
    drainSeconds: registered.length === 0 ? 0 : delay,
  };
}
