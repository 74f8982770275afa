import {
  allGroups,
  createGroup,
  deleteGroup,
  detachFromTargetGroup,
  findGroup,
  type GroupSummary,
  groupActivities,
  groupPolicies,
  groupsTagged,
  putPolicy,
  resumeProcesses,
  SIZE_PROCESSES,
  setMinSize,
  suspendProcesses,
} from '../aws/autoscaling.ts';
import { deleteTemplateVersions, findLaunchTemplate, templateVersionWithImage } from '../aws/ec2.ts';
import { metricDimensions } from '../aws/elbv2.ts';
import type { DeployConfig } from '../domain/config.ts';
import {
  adoptionProblem,
  greenGroupName,
  namesResourceLabel,
  policyForGreen,
  resourceLabel,
} from '../domain/groups.ts';
import { clientToken } from '../domain/identity.ts';
import { fleetTags, MANAGED_BY, TAG, type Tags } from '../domain/tags.ts';
import { SLOTS, type Slot } from '../domain/traffic.ts';
import type { DeploymentState, GroupPlan, Plan } from '../domain/workflow.ts';
import { GreenUnhealthy, InvalidConfig, SlotInUse, UnsafeToDeploy } from '../errors.ts';
import { logger } from '../logger.ts';
import type { Refuse } from './slot-ownership.ts';

/** Green's group's grace period when neither the config nor blue's group says. */
const DEFAULT_GRACE_SECONDS = 300;

/** The tag on a group the service made: the launch template version it made for it. */
const VERSION_TAG = 'bluegreen:launch-template-version';

const names = (groups: readonly GroupSummary[]) => groups.map((g) => g.name).join(', ');

/**
 * Plan, for fleet.kind autoScalingGroup: blue's group (the one attached to blue's target group,
 * tagged as this app/env's), and green's group sized, bounded and placed like it. Green's target
 * group must have no group attached. A slot whose blue is bare instances (a fleet moving to groups)
 * has no blue group: green is sized by the plan's instance count, in the config's subnets.
 * A split is not healed with groups. Read-only; each problem goes to `refuse`.
 */
export async function planGroups(
  config: DeployConfig,
  plan: Plan,
  refuse: Refuse,
): Promise<GroupPlan | undefined> {
  // The account's groups read once; one being deleted is on its way out.
  const groups = (await allGroups()).filter((g) => !g.deleting);
  const live = (arn: string) => groups.filter((g) => g.targetGroupArns.includes(arn));
  if (config.fleet.kind !== 'autoScalingGroup') {
    // Bare instances next to a group: the group would replace what the deploy retires, and
    // launch into a slot the deploy believes empty.
    for (const slot of SLOTS) {
      const attached = live(plan.slots[slot].targetGroupArn);
      if (attached.length > 0)
        refuse(
          new UnsafeToDeploy(
            `slot ${slot}'s target group has Auto Scaling group(s) attached (${names(attached)}), and fleet.kind is instances: set fleet.kind to autoScalingGroup, or detach them`,
          ),
        );
    }
    return undefined;
  }
  if (plan.heal) {
    refuse(
      new UnsafeToDeploy(
        `both slots carry traffic; with fleet.kind autoScalingGroup the service does not heal a split: put all traffic on one slot, then upload again`,
      ),
    );
    return undefined;
  }
  const onGreen = live(plan.slots[plan.green].targetGroupArn);
  if (onGreen.length > 0) {
    refuse(
      new UnsafeToDeploy(
        `green slot ${plan.green}'s target group has Auto Scaling group(s) attached (${names(onGreen)}); detach or delete them before deploying`,
      ),
    );
  }
  let blue: GroupSummary | undefined;
  if (plan.blue) {
    const onBlue = live(plan.slots[plan.blue].targetGroupArn);
    if (onBlue.length > 1) {
      refuse(
        new UnsafeToDeploy(
          `blue slot ${plan.blue}'s target group has ${onBlue.length} Auto Scaling groups attached (${names(onBlue)}); the service replaces one group, detach the others`,
        ),
      );
      return undefined;
    }
    blue = onBlue[0];
    const problem = blue && adoptionProblem(blue, plan.app, plan.env, plan.blue);
    if (problem) {
      refuse(new UnsafeToDeploy(problem));
      return undefined;
    }
    // Deleted once green replaces it: a group serving more than blue's slot would take the others down.
    const others = blue?.targetGroupArns.filter(
      (arn) => arn !== plan.slots[plan.blue as Slot].targetGroupArn,
    );
    if (blue && others && others.length > 0) {
      refuse(
        new UnsafeToDeploy(
          `blue's group ${blue.name} is attached to other target groups too (${others.join(', ')}); the service deletes it once green replaces it, so it must serve blue's slot alone: detach the others`,
        ),
      );
      return undefined;
    }
  }
  const subnets = config.fleet.subnetIds?.join(',') ?? blue?.subnets;
  if (!subnets) {
    refuse(
      new InvalidConfig(
        `fleet.subnetIds is required: ${blue ? `blue's group ${blue.name} names no subnets` : 'there is no blue group to copy the subnets from'}`,
      ),
    );
    return undefined;
  }
  // A blue group scaled to 0 serves nothing: green gets at least one instance.
  const desired = blue ? Math.max(1, blue.desired) : plan.instanceCount;
  const heldBefore = SIZE_PROCESSES.filter((p) => blue?.suspended.includes(p));
  return {
    name: greenGroupName(plan, plan.green),
    desired,
    min: blue ? Math.min(blue.min, desired) : desired,
    max: blue ? Math.max(blue.max, desired) : desired,
    subnets,
    gracePeriodSeconds:
      config.fleet.healthCheckGracePeriodSeconds ?? blue?.gracePeriodSeconds ?? DEFAULT_GRACE_SECONDS,
    ...(blue ? { blue: blue.name } : {}),
    ...(heldBefore.length > 0 ? { heldBefore } : {}),
  };
}

/**
 * Green's group: a launch template version with the baked AMI, then the group from it, attached to
 * green's target group, sized like blue's is now (blue may have scaled out during the bake), with
 * blue's scaling policies. Until the deployment ends neither scales in: blue's policies' alarms and
 * scheduled actions are suspended (it keeps its size, to take all traffic back at once), and
 * green's minimum is its size (its policies may still scale it out as it takes blue's traffic).
 * Every call is idempotent: a retry finds the version by its client token and the group by its
 * name, and is refused if the group of that name is not this deployment's.
 */
export async function launchGreenGroup(
  state: DeploymentState & { plan: Plan & { group: GroupPlan } },
  amiId: string,
): Promise<{ launched: number; version: number }> {
  const { plan } = state;
  const { group } = plan;
  const template = await findLaunchTemplate(plan.launchTemplate);
  if (!template)
    throw new InvalidConfig(
      `launchTemplate ${plan.launchTemplate.id ?? plan.launchTemplate.name} does not exist; nothing was launched`,
    );
  const version = await templateVersionWithImage(
    template,
    plan.launchTemplate.version,
    amiId,
    clientToken(state.deploymentId, 'green-template-version'),
    `${plan.app}/${plan.env} ${plan.version}: deployment ${state.deploymentId}`,
  );
  const tags: Tags = { ...fleetTags({ ...state, slot: plan.green }), [VERSION_TAG]: String(version) };
  // Blue as it is now: it may have scaled out since Plan (the bake came between).
  const blueNow = group.blue ? await findGroup(group.blue) : undefined;
  const desired = Math.max(group.desired, blueNow && !blueNow.deleting ? blueNow.desired : 0);
  const max = Math.max(group.max, desired);
  const made = await createGroup({
    name: group.name,
    launchTemplate: { id: template.id, version: String(version) },
    desired,
    // Held at its size while traffic moves (a first deploy takes it all at once: nothing to hold).
    min: plan.blue !== null ? desired : group.min,
    max,
    subnets: group.subnets,
    targetGroupArn: plan.slots[plan.green].targetGroupArn,
    gracePeriodSeconds: group.gracePeriodSeconds,
    tags,
  });
  if (made === 'existed') {
    const found = await findGroup(group.name);
    if (found?.tags[TAG.deploymentId] !== state.deploymentId)
      throw new SlotInUse(
        `an Auto Scaling group named ${group.name} exists and is not this deployment's (${found ? `tagged ${TAG.deploymentId}=${found.tags[TAG.deploymentId] ?? '(none)'}` : 'being deleted'}); nothing was launched`,
      );
    // This deployment's own, being deleted (by hand, or a rollback already under way): not green.
    if (found.deleting)
      throw new GreenUnhealthy(
        `green's Auto Scaling group ${group.name} is being deleted; not launching into it`,
      );
  }
  if (group.blue) {
    const blueArn = plan.slots[plan.blue as Slot].targetGroupArn;
    const greenArn = plan.slots[plan.green].targetGroupArn;
    const policies = await groupPolicies(group.blue);
    // Green's resource label names green's own load balancer, read only when a policy needs it.
    const labelled = policies.some(namesResourceLabel);
    const greenLabel = labelled ? resourceLabel(await metricDimensions(greenArn)) : undefined;
    if (labelled && !greenLabel)
      throw new InvalidConfig(
        `blue's group ${group.blue} scales on requests per target, but green slot ${plan.green}'s target group is behind no Application Load Balancer`,
      );
    for (const policy of policies)
      await putPolicy(policyForGreen(policy, group.name, blueArn, greenLabel ?? ''));
    await suspendProcesses(group.blue, SIZE_PROCESSES);
  }
  logger.info('green group created', { group: group.name, desired, made, version });
  return { launched: desired, version };
}

/** Green's group as it is now; undefined once it is gone. */
export function greenGroup(plan: Plan & { group: GroupPlan }): Promise<GroupSummary | undefined> {
  return findGroup(plan.group.name);
}

/** Green's group's activities since it was made (newest first), a minute's margin for clocks. */
export function greenActivities(plan: Plan & { group: GroupPlan }, launchedAt: string) {
  return groupActivities(plan.group.name, new Date(new Date(launchedAt).getTime() - 60_000));
}

/** The service's groups carrying the tags (every group it makes carries managed-by). */
async function ourGroups(tags: Tags): Promise<GroupSummary[]> {
  return (await groupsTagged({ ...tags, [TAG.managedBy]: MANAGED_BY })).filter(
    (g) => g.tags[TAG.managedBy] === MANAGED_BY,
  );
}

/** The groups of a fleet: by name (blue's adopted group) or by the tags of the ones the service made. */
export type GroupsOf = { name: string } | { tags: Tags };

async function groupsOf(of: GroupsOf): Promise<GroupSummary[]> {
  if ('tags' in of) return ourGroups(of.tags);
  const group = await findGroup(of.name);
  return group && group.tags[TAG.managedBy] === MANAGED_BY ? [group] : [];
}

/** A group's members that are not on their way out. */
const staying = (group: GroupSummary) =>
  group.members.filter((m) => !m.lifecycleState.startsWith('Terminat'));

/**
 * Detaches the fleet's groups from the target group: Auto Scaling deregisters their instances,
 * which drain, and registers none again. Returns how many instances the detached groups held.
 * A group being deleted takes no change (Auto Scaling refuses it while the deletion runs): it
 * launches nothing more, and its instances, still registered, are deregistered by their tags.
 */
export async function detachGroups(of: GroupsOf, targetGroupArn: string): Promise<number> {
  const attached = (await groupsOf(of)).filter(
    (g) => !g.deleting && g.targetGroupArns.includes(targetGroupArn),
  );
  for (const group of attached) await detachFromTargetGroup(group.name, targetGroupArn);
  if (attached.length > 0) logger.info('groups detached', { groups: names(attached) });
  return attached.reduce((sum, g) => sum + staying(g).length, 0);
}

/**
 * Deletes the fleet's groups with their instances, and the launch template versions the service
 * made for them (a version of a group it adopted is the owner's and stays). Idempotent: a group
 * being deleted is left to finish. Returns how many it deleted, and the versions it could not.
 */
export async function deleteGroups(
  of: GroupsOf,
): Promise<{ deleted: number; terminated: number; versionsLeft: string[] }> {
  const groups = await groupsOf(of);
  const versionsLeft: string[] = [];
  let terminated = 0;
  for (const group of groups) {
    if (!group.deleting) {
      await deleteGroup(group.name);
      terminated += staying(group).length;
    }
    const version = Number(group.tags[VERSION_TAG]);
    // Only while the group still launches from it: an owner who moved the group to another
    // template or version made that one, and it is theirs.
    if (group.launchTemplate?.version === String(version) && Number.isInteger(version) && version > 0)
      versionsLeft.push(...(await deleteTemplateVersions(group.launchTemplate.id, [version])));
  }
  if (groups.length > 0) logger.warn('groups deleted', { groups: names(groups), terminated });
  if (versionsLeft.length > 0) logger.warn('launch template versions left', { versionsLeft });
  return { deleted: groups.length, terminated, versionsLeft };
}

/** The processes the service suspended and may resume: none blue's owner had suspended before. */
function released(group: GroupPlan): string[] {
  return SIZE_PROCESSES.filter((p) => !group.heldBefore?.includes(p));
}

/** Lets blue's group scale again (a rollback leaves it serving alone). */
export async function releaseBlue(plan: Plan): Promise<void> {
  const name = plan.group?.blue;
  if (!plan.group || !name) return;
  const processes = released(plan.group);
  if (processes.length === 0) return;
  const group = await findGroup(name);
  if (group && !group.deleting && group.tags[TAG.managedBy] === MANAGED_BY)
    await resumeProcesses(name, processes);
}

/**
 * Lets green's group scale in again once it is the live fleet (all traffic on it after the
 * termination window, when blue is being retired): its minimum, held at its size, back to the one
 * Plan took from blue's group. Setting it again is a no-op.
 */
export async function releaseGreen(plan: Plan): Promise<void> {
  if (!plan.group || plan.blue === null) return;
  const group = await findGroup(plan.group.name);
  if (group && !group.deleting && group.min > plan.group.min)
    await setMinSize(plan.group.name, plan.group.min);
}
