import { type InstanceSummary, instancesById } from '../aws/ec2.ts';
import { deregisterTargets, deregistrationDelaySeconds, registeredTargets } from '../aws/elbv2.ts';
import { isDead, type TargetHealthState } from '../domain/health.ts';
import { launchedByUs, type Tags } from '../domain/tags.ts';
import type { Slot } from '../domain/traffic.ts';
import { type BlueOf, isBlue } from './blue-fleet.ts';

// The targets registered in a slot's target group and whose they are (apart from fleet.ts, which
// also reads the records, so that the tasks using only these bundle no Route 53 client).

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
 * Before green is launched into its slot: targets there that are only dead instances of ours (an
 * earlier fleet's instance that died outside the service), or whose instance is gone, serve
 * nothing; they are deregistered, so the slot holds green alone (a stopped one, deregistered, can
 * get no traffic if started). Plan refused anything else.
 */
export async function releaseDeadTargets(targetGroupArn: string, tags: Tags): Promise<number> {
  const dead = (await registeredWithInstances(targetGroupArn)).filter(
    (t) => isDeadOfOurs(t, tags) || isGone(t),
  );
  return (await takeOut(targetGroupArn, dead)).deregistered;
}

/** What taking targets out of a target group did. */
export interface TakenOut {
  /** How many were deregistered now (not those already draining). */
  deregistered: number;
  /** How many of them could still serve (draining ones included): their connections drain. */
  serving: number;
}

/**
 * The one deregistration: takes the given registered targets out of the target group, whatever
 * state their instance is in (one that died is deregistered too, or it would stay registered and
 * block the next deploy); one already draining, as after a retry, is left to drain. Which targets
 * is the caller's guard to decide: targets the service did not launch are never passed here.
 */
export async function takeOut(targetGroupArn: string, targets: readonly SlotTarget[]): Promise<TakenOut> {
  const deregistered = targets.filter((t) => t.state !== 'draining').map((t) => t.id);
  await deregisterTargets(targetGroupArn, deregistered);
  const serving = targets.filter((t) => !isDead(t.instance?.state ?? 'terminated')).length;
  return { deregistered: deregistered.length, serving };
}

/** How long to let what was taken out drain: the target group's deregistration delay while any could serve. */
export async function drainSeconds(targetGroupArn: string, out: TakenOut): Promise<number> {
  return out.serving > 0 ? await deregistrationDelaySeconds(targetGroupArn) : 0;
}

/**
 * A target whose instance EC2 no longer lists (it stops listing a terminated instance about an hour
 * after termination, DescribeInstances in the EC2 API reference) and that ELB reports out of
 * service because its instance is stopped or terminated (`unused`, Target.InvalidState, TargetHealth
 * in the ELBv2 API reference). It serves nothing and never will again: whoever launched it, it is
 * nobody's fleet, blocks nothing, and deregistering it touches no one (DeregisterTargets of a
 * target that no longer exists succeeds). One ELB still sends checks to, or one that is only not
 * listed yet, is not gone.
 */
export function isGone(target: SlotTarget): boolean {
  return (
    target.instance === undefined && target.state === 'unused' && target.reason === 'Target.InvalidState'
  );
}

/** A target whose instance this service launched (with the tags given) and that has died. */
export function isDeadOfOurs(target: SlotTarget, tags: Tags): boolean {
  return (
    target.instance !== undefined && launchedByUs(target.instance.tags, tags) && isDead(target.instance.state)
  );
}

/**
 * Takes blue out of its target group: every registered target that is one of blue's instances,
 * whatever its state (one that died is deregistered too). Targets the service did not launch are
 * never touched.
 */
export async function deregisterBlueTargets(
  targetGroupArn: string,
  of: BlueOf,
  slot: Slot,
): Promise<TakenOut> {
  const blue = (await registeredWithInstances(targetGroupArn)).filter((t) =>
    isBlue(t.instance?.tags, of, slot),
  );
  return takeOut(targetGroupArn, blue);
}
