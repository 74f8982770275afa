import { findManagedInstances, type InstanceSummary, instancesById, terminateInstances } from './aws/ec2.ts';
import { deregisterTargets, deregistrationDelaySeconds, registeredTargets } from './aws/elbv2.ts';
import { requireNoTraffic } from './aws/route53.ts';
import { isDead, type TargetHealthState } from './domain/health.ts';
import { launchedByUs, TAG, type Tags } from './domain/tags.ts';
import type { Slot } from './domain/traffic.ts';
import type { Plan } from './domain/workflow.ts';
import { RollbackBlocked } from './errors.ts';

/** A target registered in a slot's target group, with the instance behind it while EC2 lists it. */
export interface SlotTarget extends TargetHealthState {
  instance?: InstanceSummary | undefined;
}

/**
 * Every target registered in the group (draining ones included), each with its instance in
 * whatever state it is: a target whose instance died outside the service stays registered, and
 * ELB reports it `unused` with Target.InvalidState (see sim/aws/elbv2.ts).
 */
export async function registeredWithInstances(targetGroupArn: string): Promise<SlotTarget[]> {
  const targets = await registeredTargets(targetGroupArn);
  const byId = new Map((await instancesById(targets.map((t) => t.id))).map((i) => [i.id, i]));
  return targets.map((t) => ({ ...t, instance: byId.get(t.id) }));
}

/**
 * Deregisters from the target group every registered target whose instance this service launched
 * with the tags given, whatever state the instance is in (one that died is deregistered too, or it
 * would stay registered and block the next deploy); one already draining, as after a retry, is
 * left to drain. Targets the service did not launch are never touched. Says which were ours and
 * which of those could still serve (draining ones included).
 */
async function deregisterOurs(targetGroupArn: string, tags: Tags) {
  const ours = (await registeredWithInstances(targetGroupArn)).filter((t) =>
    launchedByUs(t.instance?.tags, tags),
  );
  const deregistered = ours.filter((t) => t.state !== 'draining').map((t) => t.id);
  await deregisterTargets(targetGroupArn, deregistered);
  const serving = ours.filter((t) => !isDead(t.instance?.state ?? 'terminated'));
  return { serving, deregistered: deregistered.length };
}

/**
 * Deregisters from the target group and terminates every instance of ours matching the tags.
 * Both calls are idempotent, so a retried task finishes what a failed one started. Counts, not
 * ids: the state must not grow with the fleet (the instances are found by tag again).
 */
export async function retireInstances(
  targetGroupArn: string,
  tags: Tags,
): Promise<{ deregistered: number; terminated: number }> {
  const { deregistered } = await deregisterOurs(targetGroupArn, tags);
  const ids = (await findManagedInstances(tags)).map((i) => i.id);
  await terminateInstances(ids);
  return { deregistered, terminated: ids.length };
}

/**
 * Takes every instance of ours matching the tags out of the target group, so the load balancer
 * sends them no new request while those in flight finish. How long to let them drain: the target
 * group's deregistration delay while any that could serve was registered, else nothing.
 */
export async function takeOutOfService(
  targetGroupArn: string,
  tags: Tags,
): Promise<{ instances: number; deregistered: number; drainSeconds: number }> {
  const { serving, deregistered } = await deregisterOurs(targetGroupArn, tags);
  const instances = (await findManagedInstances(tags)).length;
  const drainSeconds = serving.length > 0 ? await deregistrationDelaySeconds(targetGroupArn) : 0;
  return { instances, deregistered, drainSeconds };
}

/**
 * Before green is launched into its slot: targets there that are only dead instances of ours (an
 * earlier fleet's instance that died outside the service) serve nothing; they are deregistered,
 * and a stopped one terminated, so the slot holds green alone. Plan refused anything else.
 */
export async function releaseDeadTargets(targetGroupArn: string, tags: Tags): Promise<number> {
  const dead = (await registeredWithInstances(targetGroupArn)).filter(
    (t) => t.state !== 'draining' && isDeadOfOurs(t, tags),
  );
  await deregisterTargets(
    targetGroupArn,
    dead.map((t) => t.id),
  );
  await terminateInstances(
    dead.filter((t) => t.instance?.state === 'stopped' || t.instance?.state === 'stopping').map((t) => t.id),
  );
  return dead.length;
}

/** A target whose instance this service launched (with the tags given) and that has died. */
export function isDeadOfOurs(target: SlotTarget, tags: Tags): boolean {
  return (
    target.instance !== undefined && launchedByUs(target.instance.tags, tags) && isDead(target.instance.state)
  );
}

/** Who blue is: our instances of this app/env in blue's slot that another deployment launched. */
interface BlueOf {
  app: string;
  env: string;
  deploymentId: string;
}

function blueTags(of: BlueOf, slot: Slot): Tags {
  return { [TAG.app]: of.app, [TAG.env]: of.env, [TAG.slot]: slot };
}

function isBlue(tags: Tags | undefined, of: BlueOf, slot: Slot): boolean {
  return launchedByUs(tags, blueTags(of, slot)) && tags?.[TAG.deploymentId] !== of.deploymentId;
}

/** Blue's instances that are not (being) terminated, found by tag. */
export async function blueInstances(of: BlueOf, slot: Slot): Promise<InstanceSummary[]> {
  return (await findManagedInstances(blueTags(of, slot))).filter((i) => isBlue(i.tags, of, slot));
}

/**
 * Takes blue out of its target group: every registered target that is one of blue's instances,
 * whatever its state (one that died is deregistered too). Targets the service did not launch are
 * never touched. Says how many were deregistered and which could still serve.
 */
export async function deregisterBlueTargets(targetGroupArn: string, of: BlueOf, slot: Slot) {
  const ours = (await registeredWithInstances(targetGroupArn)).filter((t) =>
    isBlue(t.instance?.tags, of, slot),
  );
  const deregistered = ours.filter((t) => t.state !== 'draining').map((t) => t.id);
  await deregisterTargets(targetGroupArn, deregistered);
  const serving = ours.filter((t) => !isDead(t.instance?.state ?? 'terminated'));
  return { serving, deregistered: deregistered.length };
}

/**
 * The green fleet of a rollback, found by this deployment's tag in green's target group, once it
 * carries no traffic: taking it out of service or terminating it while it serves would take the
 * service down, so that is refused (RollbackBlocked).
 */
export async function idleGreen(
  plan: Pick<Plan, 'dns' | 'green' | 'slots'>,
  deploymentId: string,
  doing: string,
): Promise<{ targetGroupArn: string; tags: Tags }> {
  await requireNoTraffic(
    plan,
    plan.green,
    (weights) =>
      new RollbackBlocked(`green slot ${plan.green} still carries traffic (${weights}); not ${doing}`),
  );
  return {
    targetGroupArn: plan.slots[plan.green].targetGroupArn,
    tags: { [TAG.deploymentId]: deploymentId },
  };
}
