import { launchInstances } from '../aws/ec2.ts';
import { clientToken } from '../domain/identity.ts';
import { foreignInstancesText, targetGroupName } from '../domain/ownership.ts';
import { fleetTags, TAG } from '../domain/tags.ts';
import type { DeploymentState, GreenFleet, Plan } from '../domain/workflow.ts';
import { CapacityShortfall, SlotInUse } from '../errors.ts';
import { logger } from '../logger.ts';
import { assertAlarmsQuietBeforeTraffic } from '../operations/alarm-guards.ts';
import { launchGreenGroup } from '../operations/groups.ts';
import { tellProgress } from '../operations/progress.ts';
import { foreignTargets } from '../operations/slot-instances.ts';
import { claimSlot } from '../operations/slot-ownership.ts';
import { releaseDeadTargets } from '../operations/slot-targets.ts';
import { need, nowIso } from '../state.ts';

/** EC2's ways of saying it cannot launch what was asked for (capacity or account limits). */
const CAPACITY_ERRORS = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'InsufficientHostCapacity',
  'InsufficientReservedInstanceCapacity',
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
]);

/**
 * Takes green's slot for this deployment (claimSlot), refused too while instances this deployment
 * did not launch are registered there. After a heal the claim is already this deployment's (the
 * heal took it before clearing the slot), and is left as it is.
 */
async function claimGreen(
  plan: Pick<Plan, 'slots' | 'green' | 'app' | 'env' | 'version'>,
  deploymentId: string,
  executionArn: string,
): Promise<void> {
  await claimSlot(
    plan,
    plan.green,
    { deploymentId, executionArn },
    'this deployment launched nothing and leaves its instances, records and tags alone',
    async (arn) => {
      const foreign = await foreignTargets(arn, deploymentId);
      if (foreign.length > 0) {
        throw new SlotInUse(
          `green slot ${plan.green}'s target group ${targetGroupName(arn)} holds instances this deployment did not launch (${foreignInstancesText(foreign)}); nothing was launched`,
        );
      }
    },
  );
}

/**
 * Claims green's slot, then launches the green fleet, tagged at launch so it can be found and
 * cleaned up by tag even if this task dies halfway. Fewer instances than planned is a failure the rollback cleans up.
 */
export async function launchGreen(input: DeploymentState, executionArn: string): Promise<GreenFleet> {
  const state = need(input, 'plan', 'bake');
  const { plan } = state;
  const amiId = state.bake.amiId;
  if (!amiId) throw new TypeError('execution state has no baked AMI id');
  // Green's slot is taken for this deployment first: launching into a slot another deployment
  // fills would put two releases behind one record.
  await claimGreen(plan, state.deploymentId, executionArn);
  // A retry after a launch whose answer was lost fails here too: the rollback finds the instances
  // by their deployment tag.
  await assertAlarmsQuietBeforeTraffic(plan, 'before launching green');
  // Dead instances of an earlier fleet of ours may still be registered in green's slot (Plan let
  // only those through): out with them, so the slot holds green alone.
  const released = await releaseDeadTargets(plan.slots[plan.green].targetGroupArn, {
    [TAG.app]: state.app,
    [TAG.env]: state.env,
  });
  if (released > 0) logger.warn('deregistered dead instances of ours from green slot', { released });
  if (plan.group) {
    // Green is a group: Auto Scaling launches and registers its instances.
    const made = await launchGreenGroup({ ...state, plan: { ...plan, group: plan.group } }, amiId);
    await tellProgress(state, 'green-launched', { green: plan.green });
    return { slot: plan.green, amiId, launched: made.launched, launchedAt: nowIso() };
  }
  let instanceIds: string[];
  try {
    instanceIds = await launchInstances({
      launchTemplate: plan.launchTemplate,
      amiId,
      count: plan.instanceCount,
      clientToken: clientToken(state.deploymentId, 'green-fleet'),
      tags: fleetTags({ ...state, slot: plan.green }),
    });
  } catch (error) {
    if (CAPACITY_ERRORS.has((error as Error).name)) {
      throw new CapacityShortfall(`EC2 has no capacity for the green fleet: ${(error as Error).message}`);
    }
    throw error;
  }
  logger.info('green fleet launched', { launched: instanceIds.length, slot: plan.green });
  if (instanceIds.length < plan.instanceCount) {
    throw new CapacityShortfall(
      `EC2 launched ${instanceIds.length} of ${plan.instanceCount} green instances (insufficient capacity)`,
    );
  }
  await tellProgress(state, 'green-launched', { green: plan.green });
  return { slot: plan.green, amiId, launched: instanceIds.length, launchedAt: nowIso() };
}
