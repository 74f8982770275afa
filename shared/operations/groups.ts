import {
  createGroup,
  deleteGroup,
  detachTargetGroup,
  type GroupSummary,
  groupActivities,
  groupByName,
  groupPolicies,
  groupsByName,
  groupsOfInstances,
  groupsTagged,
  isDeleting,
  putPolicy,
  resumeProcesses,
  SIZE_PROCESSES,
  suspendProcesses,
} from '../aws/autoscaling.ts';
import { deleteTemplateVersions, templateVersionWithImage } from '../aws/ec2.ts';
import type { DeployConfig } from '../domain/config.ts';
import {
  adoptionProblem,
  capacityShortfall,
  greenGroupName,
  groupTagsFor,
  policyForGreen,
} from '../domain/groups.ts';
import type { TargetHealthState } from '../domain/health.ts';
import { clientToken } from '../domain/identity.ts';
import { launchedByUs, MANAGED_BY, TAG, type Tags } from '../domain/tags.ts';
import type { DeploymentState, GroupPlan, Plan } from '../domain/workflow.ts';
import { CapacityShortfall, InvalidConfig, SlotInUse, UnsafeToDeploy } from '../errors.ts';
import { logger } from '../logger.ts';
import type { Refuse } from './slot-ownership.ts';

/** A new instance's time to pass its checks before failed ELB checks replace it, when nothing says. */
const DEFAULT_GRACE_SECONDS = 300;

/** What Plan finds of the groups in the slots, for fleet.kind autoScalingGroup. */
export interface GroupsAssessed {
  group: GroupPlan;
  /** Blue's group's desired capacity (green's size unless the config says). */
  blueDesired?: number;
}

/**
 * fleet.kind autoScalingGroup, at Plan: the group attached to blue's target group is blue (it must
 * be tagged as this app/env's: the service changes only its own), at most one; no group of ours is
 * left in green's slot; and green's group has subnets to launch in. Read-only.
 */
export async function assessGroups(
  plan: Pick<Plan, 'app' | 'env' | 'version' | 'deploymentId' | 'blue' | 'green' | 'slots'>,
  config: DeployConfig,
  blueTargets: readonly TargetHealthState[],
  where: string,
  refuse: Refuse,
): Promise<GroupsAssessed | undefined> {
  let blue: GroupSummary | undefined;
  if (plan.blue !== null && blueTargets.length > 0) {
    const blueTg = plan.slots[plan.blue].targetGroupArn;
    const names = await groupsOfInstances(blueTargets.map((t) => t.id));
    const attached = (await groupsByName(names)).filter(
      (g) => !isDeleting(g) && g.targetGroupArns.includes(blueTg),
    );
    if (attached.length > 1) {
      refuse(
        new UnsafeToDeploy(
          `blue slot ${plan.blue}'s target group has ${attached.length} Auto Scaling groups attached (${attached.map((g) => g.name).join(', ')}); one group serves a slot: detach the others`,
        ),
      );
    }
    blue = attached[0];
    const problem = blue && adoptionProblem(blue, plan.app, plan.env, plan.blue);
    if (problem) refuse(new UnsafeToDeploy(problem));
  }
  const left = (await groupsTagged(groupTagsFor(plan.app, plan.env, plan.green))).filter(
    (g) => !isDeleting(g),
  );
  if (left.length > 0) {
    refuse(
      new UnsafeToDeploy(
        `green slot ${plan.green} still has Auto Scaling group ${left.map((g) => g.name).join(', ')} of this app/env (left by an earlier deployment); delete it before deploying`,
      ),
    );
  }
  const subnetIds = config.fleet.subnetIds ?? blue?.subnets ?? [];
  if (subnetIds.length === 0) {
    refuse(
      new InvalidConfig(
        `${where}: fleet.subnetIds: required with fleet.kind autoScalingGroup when no Auto Scaling group serves blue (green's group needs subnets to launch in)`,
      ),
    );
  }
  const group: GroupPlan = {
    green: greenGroupName(plan, plan.green),
    ...(blue ? { blue: blue.name } : {}),
    subnetIds,
    gracePeriodSeconds:
      config.fleet.healthCheckGracePeriodSeconds ?? blue?.healthCheckGracePeriod ?? DEFAULT_GRACE_SECONDS,
  };
  return { group, ...(blue ? { blueDesired: blue.desired } : {}) };
}

/**
 * Blue's group keeps its size while traffic moves and through the window: the processes that would
 * scale it in as its traffic falls are suspended, so it can take all traffic back at once. It still
 * replaces instances that fail their checks.
 */
export async function holdBlue(plan: Pick<Plan, 'group'>): Promise<void> {
  if (plan.group?.blue) await suspendProcesses(plan.group.blue, SIZE_PROCESSES);
}

/** Blue's group scales again (after a rollback gave it all traffic back). A group gone is left alone. */
export async function releaseBlue(plan: Pick<Plan, 'group'>): Promise<void> {
  const name = plan.group?.blue;
  if (!name) return;
  const group = await groupByName(name);
  if (group && !isDeleting(group)) await resumeProcesses(name, SIZE_PROCESSES);
}

/**
 * Makes green's group: a launch template version with the baked AMI, then the group from it,
 * sized and bounded like blue's group as it is now (or the planned size), with blue's health check
 * grace period and scaling policies, attached to green's target group, tagged as the service's with
 * the tags propagated to its instances. A retry finds the version (client token) and the group
 * (AlreadyExists) the first call made; a group of that name that is not this deployment's is refused.
 */
export async function launchGreenGroup(
  state: DeploymentState & { plan: Plan },
  amiId: string,
  tags: Tags,
): Promise<{ name: string; templateVersion: string; desired: number }> {
  const { plan } = state;
  const group = plan.group as GroupPlan;
  const blue = group.blue ? await groupByName(group.blue) : undefined;
  const desired = Math.max(1, plan.instanceCount);
  const min = Math.min(blue?.min ?? desired, desired);
  const max = Math.max(blue?.max ?? desired, desired);
  const templateVersion = await templateVersionWithImage({
    launchTemplate: plan.launchTemplate,
    amiId,
    clientToken: clientToken(state.deploymentId, 'green-template'),
    description: `bluegreen ${plan.app}/${plan.env} ${plan.version} (${state.deploymentId})`,
  });
  const greenTg = plan.slots[plan.green].targetGroupArn;
  const created = await createGroup({
    name: group.green,
    launchTemplate: { ...plan.launchTemplate, version: templateVersion },
    min,
    max,
    desired,
    subnets: group.subnetIds,
    targetGroupArn: greenTg,
    healthCheckGracePeriod: group.gracePeriodSeconds,
    tags,
  });
  if (!created) {
    const found = await groupByName(group.green);
    if (!found || found.tags[TAG.deploymentId] !== state.deploymentId) {
      throw new SlotInUse(
        `an Auto Scaling group named ${group.green} exists and is not this deployment's; nothing was launched`,
      );
    }
  }
  if (blue && plan.blue) {
    const blueTg = plan.slots[plan.blue].targetGroupArn;
    for (const policy of await groupPolicies(blue.name))
      await putPolicy(policyForGreen(policy, group.green, blueTg, greenTg));
  }
  logger.info('green group created', { group: group.green, desired, min, max, created });
  return { name: group.green, templateVersion, desired };
}

/** Green's group as Auto Scaling has it now, and why it is short of capacity when it is. */
export async function greenGroupNow(
  name: string,
  since: string,
): Promise<{ group: GroupSummary; shortfall?: string }> {
  const group = await groupByName(name);
  if (!group) throw new CapacityShortfall(`green's Auto Scaling group ${name} no longer exists`);
  const inService = group.instances.filter((i) => i.lifecycleState === 'InService').length;
  if (inService >= group.desired) return { group };
  const shortfall = capacityShortfall(await groupActivities(name, since), inService, group.desired);
  return { group, ...(shortfall ? { shortfall } : {}) };
}

/** Our groups matching the tags (every group the service made, or was handed, carries them). */
async function ourGroups(tags: Tags): Promise<GroupSummary[]> {
  return (await groupsTagged({ [TAG.managedBy]: MANAGED_BY, ...tags })).filter((g) =>
    launchedByUs(g.tags, tags),
  );
}

/**
 * Takes our groups matching the tags out of the target group: detached, so Auto Scaling
 * deregisters their instances (they drain) and registers no replacement there. Returns how many
 * groups were attached.
 */
export async function detachGroups(tags: Tags, targetGroupArn: string): Promise<number> {
  const attached = (await ourGroups(tags)).filter(
    (g) => !isDeleting(g) && g.targetGroupArns.includes(targetGroupArn),
  );
  for (const group of attached) await detachTargetGroup(group.name, targetGroupArn);
  return attached.length;
}

/**
 * Deletes our groups matching the tags, with their instances, and the launch template versions
 * the service made for them. Returns the instances they held.
 */
export async function deleteGroups(
  tags: Tags,
  launchTemplate?: DeployConfig['launchTemplate'],
): Promise<number> {
  const groups = (await ourGroups(tags)).filter((g) => !isDeleting(g));
  let instances = 0;
  for (const group of groups) {
    instances += group.instances.length;
    await deleteGroup(group.name);
  }
  if (launchTemplate) await deleteOurTemplateVersions(groups, launchTemplate);
  return instances;
}

/** The launch template versions the deleted groups launched from, when they were made by the service. */
async function deleteOurTemplateVersions(
  groups: readonly GroupSummary[],
  launchTemplate: DeployConfig['launchTemplate'],
): Promise<void> {
  const versions = groups.flatMap((g) =>
    g.templateVersion && g.tags[TAG.deploymentId] ? [g.templateVersion] : [],
  );
  try {
    await deleteTemplateVersions(launchTemplate, versions);
  } catch (error) {
    // A version left behind costs nothing and blocks nothing: the group is what had to go.
    logger.warn('launch template versions not deleted', { versions, error: (error as Error).message });
  }
}
