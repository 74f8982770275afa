import { findManagedInstances, terminateInstances } from '../aws/ec2.ts';
import { launchedByUs, TAG, type Tags } from '../domain/tags.ts';
import type { Plan } from '../domain/workflow.ts';
import { RollbackBlocked } from '../errors.ts';
import { deleteGroups, detachGroups, type GroupsOf } from './groups.ts';
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

/**
 * Instances of ours, by their tags, and the target group they may be registered in; for a group
 * fleet, the groups they belong to (which replace instances until they are detached and deleted).
 */
export interface Fleet {
  targetGroupArn: string;
  tags: Tags;
  groups?: GroupsOf;
}

/**
 * Deregisters from the target group and terminates every instance of ours matching the tags.
 * Both calls are idempotent, so a retried task finishes what a failed one started. Counts, not
 * ids: the state must not grow with the fleet (the instances are found by tag again).
 */
export async function retireInstances({
  targetGroupArn,
  tags,
  groups,
}: Fleet): Promise<{ deregistered: number; terminated: number }> {
  // A group goes first: detached, it launches nothing into the target group; deleted, it
  // terminates its instances and replaces none of those terminated below.
  const byGroups = { deregistered: 0, terminated: 0 };
  if (groups) {
    byGroups.deregistered = await detachGroups(groups, targetGroupArn);
    byGroups.terminated = (await deleteGroups(groups)).terminated;
  }
  const { deregistered } = await deregisterOurs(targetGroupArn, tags);
  const ids = (await findManagedInstances(tags)).map((i) => i.id);
  await terminateInstances(ids);
  return {
    deregistered: deregistered + byGroups.deregistered,
    terminated: Math.max(ids.length, byGroups.terminated),
  };
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
  // Detached, a group deregisters its instances and registers no replacement.
  const detached = groups ? await detachGroups(groups, targetGroupArn) : 0;
  const out = await deregisterOurs(targetGroupArn, tags);
  const instances = (await findManagedInstances(tags)).length;
  const drain = await drainSeconds(targetGroupArn, { ...out, serving: out.serving + detached });
  return { instances, deregistered: out.deregistered + detached, drainSeconds: drain };
}

/**
 * The green fleet of a rollback, found by this deployment's tag in green's target group, once it
 * carries no traffic: taking it out of service or terminating it while it serves would take the
 * service down, so that is refused (RollbackBlocked). When another deployment holds green's slot,
 * the slot's traffic is that deployment's and is served by its own instances: this deployment's
 * (if it launched any) go regardless, and nothing else is touched.
 */
export async function idleGreen(
  plan: Pick<Plan, 'dns' | 'green' | 'slots' | 'app' | 'env' | 'group'>,
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
  return greenFleetOf(plan, deploymentId);
}

/** This deployment's green fleet: its instances by its tag in green's slot, and its groups if any. */
export function greenFleetOf(plan: Pick<Plan, 'green' | 'slots' | 'group'>, deploymentId: string): Fleet {
  const tags = { [TAG.deploymentId]: deploymentId };
  return {
    targetGroupArn: plan.slots[plan.green].targetGroupArn,
    tags,
    ...(plan.group ? { groups: { tags } } : {}),
  };
}
