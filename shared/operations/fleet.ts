import { findManagedInstances, terminateInstances } from '../aws/ec2.ts';
import type { DeployConfig } from '../domain/config.ts';
import { launchedByUs, TAG, type Tags } from '../domain/tags.ts';
import type { Plan } from '../domain/workflow.ts';
import { RollbackBlocked } from '../errors.ts';
import { deleteGroups, detachGroups } from './groups.ts';
import { requireNoTraffic } from './records-check.ts';
import { greenHeldByAnother } from './slot-tags.ts';
import { drainSeconds, registeredWithInstances, type TakenOut, takeOut } from './slot-targets.ts';

/**
 * Deregisters from the target group every registered target whose instance this service launched
 * with the tags given, whatever state the instance is in. Targets the service did not launch are
 * never touched.
 */
async function deregisterOurs(targetGroupArn: string, tags: Tags): Promise<TakenOut> {
  const ours = (await registeredWithInstances(targetGroupArn)).filter((t) =>
    launchedByUs(t.instance?.tags, tags),
  );
  return takeOut(targetGroupArn, ours);
}

/** Instances of ours, by their tags, and the target group they may be registered in. */
export interface Fleet {
  targetGroupArn: string;
  tags: Tags;
  /**
   * fleet.kind autoScalingGroup: the fleet's groups too (found by the same tags), and the launch
   * template whose versions the service made for them (deleted with them).
   */
  groups?: { launchTemplate: DeployConfig['launchTemplate'] } | undefined;
}

/**
 * Deregisters from the target group and terminates every instance of ours matching the tags, and
 * deletes our Auto Scaling groups matching them (with their instances: a group would replace what
 * is terminated under it). Every call is idempotent, so a retried task finishes what a failed one
 * started. Counts, not ids: the state must not grow with the fleet (the instances are found by tag
 * again).
 */
export async function retireInstances({
  targetGroupArn,
  tags,
  groups,
}: Fleet): Promise<{ deregistered: number; terminated: number }> {
  if (groups) await detachGroups(tags, targetGroupArn);
  const { deregistered } = await deregisterOurs(targetGroupArn, tags);
  const inGroups = groups ? await deleteGroups(tags, groups.launchTemplate) : 0;
  const ids = (await findManagedInstances(tags)).map((i) => i.id);
  await terminateInstances(ids);
  return { deregistered, terminated: Math.max(inGroups, ids.length) };
}

/**
 * Takes every instance of ours matching the tags out of the target group, so the load balancer
 * sends them no new request while those in flight finish. How long to let them drain: the target
 * group's deregistration delay while any that could serve was registered, else nothing.
 */
export async function takeOutOfService({
  targetGroupArn,
  tags,
  groups,
}: Fleet): Promise<{ instances: number; deregistered: number; drainSeconds: number }> {
  // Detached first: a group would register replacements in the target group meanwhile.
  if (groups) await detachGroups(tags, targetGroupArn);
  const out = await deregisterOurs(targetGroupArn, tags);
  const instances = (await findManagedInstances(tags)).length;
  return { instances, deregistered: out.deregistered, drainSeconds: await drainSeconds(targetGroupArn, out) };
}

/**
 * The green fleet of a rollback, found by this deployment's tag in green's target group, once it
 * carries no traffic: taking it out of service or terminating it while it serves would take the
 * service down, so that is refused (RollbackBlocked). When another deployment holds green's slot,
 * the slot's traffic is that deployment's and is served by its own instances: this deployment's
 * (if it launched any) go regardless, and nothing else is touched.
 */
export async function idleGreen(
  plan: Pick<Plan, 'dns' | 'green' | 'slots' | 'app' | 'env' | 'launchTemplate' | 'group'>,
  deploymentId: string,
  doing: string,
): Promise<Fleet> {
  const another = await greenHeldByAnother(plan, deploymentId);
  if (!another)
    await requireNoTraffic(
      plan,
      plan.green,
      (weights) =>
        new RollbackBlocked(`green slot ${plan.green} still carries traffic (${weights}); not ${doing}`),
    );
  return {
    targetGroupArn: plan.slots[plan.green].targetGroupArn,
    tags: { [TAG.deploymentId]: deploymentId },
    groups: plan.group && { launchTemplate: plan.launchTemplate },
  };
}
