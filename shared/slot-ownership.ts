import { describeInstances } from './aws/ec2.ts';
import { registeredTargets, tagTargetGroup, targetGroupTags } from './aws/elbv2.ts';
import { readWeights } from './aws/route53.ts';
import { executionState } from './aws/sfn.ts';
import { ownerState } from './domain/lock.ts';
import {
  claimOf,
  claimTags,
  claimText,
  type ForeignInstance,
  foreignInstancesText,
  ownerOf,
  ownershipProblem,
  ownerTags,
  type SlotClaim,
  type SlotOwner,
  targetGroupName,
} from './domain/ownership.ts';
import { TAG, type Tags } from './domain/tags.ts';
import { formatWeights, SLOTS, type Slot, sameWeights } from './domain/traffic.ts';
import type { Plan } from './domain/workflow.ts';
import { SlotInUse, TrafficDrift, UnsafeToDeploy } from './errors.ts';

type Slots = Pick<Plan, 'slots'>;
type Me = SlotOwner & { deploymentId: string };

async function tagsOf(targetGroupArn: string): Promise<Tags> {
  return (await targetGroupTags([targetGroupArn])).get(targetGroupArn) ?? {};
}

/**
 * Whether the deployment holding a claim may still change the slot: it runs, or it stopped so
 * recently that its recovery may still be putting things back (as the lock judges an owner).
 */
async function stillActive(claim: SlotClaim): Promise<boolean> {
  if (!claim.executionArn) return false;
  return ownerState(await executionState(claim.executionArn), new Date()) !== 'ended';
}

/**
 * Instances registered in the target group that can serve (not draining, not stopped) and that
 * this deployment did not launch, judged by their launch tags; `known` are ours already.
 */
export async function foreignTargets(
  targetGroupArn: string,
  deploymentId: string,
  known: readonly string[] = [],
): Promise<ForeignInstance[]> {
  const serving = (await registeredTargets(targetGroupArn)).filter(
    (t) => t.state !== 'draining' && t.state !== 'unused',
  );
  const unknown = serving.map((t) => t.id).filter((id) => !known.includes(id));
  if (unknown.length === 0) return [];
  const instances = await describeInstances(unknown);
  return instances
    .filter((i) => i.tags[TAG.deploymentId] !== deploymentId)
    .map((i) => ({ id: i.id, tags: i.tags }));
}

function inUseCause(slot: Slot, targetGroupArn: string, claim: SlotClaim, tags: Tags): string {
  return `slot ${slot}'s target group ${targetGroupName(targetGroupArn)} is claimed by ${claimText(claim, ownerOf(tags))}, which still runs: two deployments would use one slot (was the lock item lost?)`;
}

/**
 * Plan: both slots must belong to this app/env and be claimed by no other deployment that still
 * runs. Read-only: a slot nobody owns yet is claimed at launch (claimGreen).
 */
export async function checkSlotOwnership(config: Slots, me: Me): Promise<void> {
  const tags = await targetGroupTags(SLOTS.map((slot) => config.slots[slot].targetGroupArn));
  for (const slot of SLOTS) {
    const arn = config.slots[slot].targetGroupArn;
    const slotTags = tags.get(arn) ?? {};
    const problem = ownershipProblem(slot, arn, slotTags, me);
    if (problem) throw new UnsafeToDeploy(`${problem}; nothing was launched`);
    const claim = claimOf(slotTags);
    if (claim && claim.deploymentId !== me.deploymentId && (await stillActive(claim))) {
      throw new UnsafeToDeploy(`${inUseCause(slot, arn, claim, slotTags)}; nothing was launched`);
    }
  }
}

/**
 * Launch: takes green's slot for this deployment, unless either slot belongs to another app/env,
 * another deployment that still runs holds green, or instances this deployment did not launch are
 * registered there. A slot nobody owns yet is claimed for this app/env first (the first deploy
 * adopts the slots the user made). Idempotent: a retry finds its own claims.
 */
export async function claimGreen(
  plan: Pick<Plan, 'slots' | 'green' | 'app' | 'env' | 'version'>,
  deploymentId: string,
  executionArn: string,
): Promise<void> {
  const all = await targetGroupTags(SLOTS.map((slot) => plan.slots[slot].targetGroupArn));
  for (const slot of SLOTS) {
    const slotArn = plan.slots[slot].targetGroupArn;
    const slotTags = all.get(slotArn) ?? {};
    const problem = ownershipProblem(slot, slotArn, slotTags, plan);
    if (problem) throw new SlotInUse(`${problem}; nothing was launched`);
  }
  const arn = plan.slots[plan.green].targetGroupArn;
  const tags = all.get(arn) ?? {};
  const claim = claimOf(tags);
  const mine = claim?.deploymentId === deploymentId;
  if (claim && !mine && (await stillActive(claim))) {
    throw new SlotInUse(
      `${inUseCause(plan.green, arn, claim, tags)}; this deployment launched nothing and leaves its instances, records and tags alone`,
    );
  }
  const foreign = await foreignTargets(arn, deploymentId);
  if (foreign.length > 0) {
    throw new SlotInUse(
      `green slot ${plan.green}'s target group ${targetGroupName(arn)} holds instances this deployment did not launch (${foreignInstancesText(foreign)}); nothing was launched`,
    );
  }
  for (const slot of SLOTS) {
    const slotArn = plan.slots[slot].targetGroupArn;
    if (!ownerOf(all.get(slotArn) ?? {})) await tagTargetGroup(slotArn, ownerTags(plan, slot));
  }
  if (!mine) {
    await tagTargetGroup(arn, claimTags({ deploymentId, version: plan.version, executionArn }));
  }
}

/**
 * Every health check and traffic step: green's slot is still this deployment's (its claim, its
 * owner) and holds no instance it did not launch; otherwise SlotInUse naming who else is there.
 */
export async function assertGreenStillOurs(
  plan: Pick<Plan, 'slots' | 'green' | 'app' | 'env'>,
  deploymentId: string,
  known: readonly string[],
): Promise<void> {
  const arn = plan.slots[plan.green].targetGroupArn;
  const tags = await tagsOf(arn);
  const problem = ownershipProblem(plan.green, arn, tags, plan);
  if (problem) throw new SlotInUse(problem);
  const claim = claimOf(tags);
  if (claim?.deploymentId !== deploymentId) {
    const who = claim ? claimText(claim, ownerOf(tags)) : 'nobody (its claim tags were removed)';
    throw new SlotInUse(
      `green slot ${plan.green}'s target group ${targetGroupName(arn)} is now claimed by ${who}, not this deployment: another deployment is using the slot; this one stops and leaves its things alone`,
    );
  }
  const foreign = await foreignTargets(arn, deploymentId, known);
  if (foreign.length > 0) {
    throw new SlotInUse(
      `green slot ${plan.green}'s target group ${targetGroupName(arn)} holds instances this deployment did not launch (${foreignInstancesText(foreign)}): another deployment is using the slot`,
    );
  }
}

/**
 * Why green's slot is not this deployment's to change in a rollback (another app/env owns it, or
 * another deployment claimed it), or undefined when it is: its traffic and its instances are then
 * the other's, and a rollback takes only what it launched.
 */
export async function greenHeldByAnother(
  plan: Pick<Plan, 'slots' | 'green' | 'app' | 'env'>,
  deploymentId: string,
): Promise<string | undefined> {
  const arn = plan.slots[plan.green].targetGroupArn;
  const tags = await tagsOf(arn);
  const problem = ownershipProblem(plan.green, arn, tags, plan);
  if (problem) return problem;
  const claim = claimOf(tags);
  if (claim && claim.deploymentId !== deploymentId) {
    return `green slot ${plan.green} is claimed by ${claimText(claim, ownerOf(tags))}`;
  }
  return undefined;
}

/**
 * The records must hold what this deployment last wrote (`expected`), or before its first step
 * no weight on green: otherwise someone else is moving traffic.
 */
export async function assertRecordsAsWritten(
  plan: Pick<Plan, 'dns' | 'green'>,
  expected: Record<Slot, number> | undefined,
): Promise<void> {
  const current = await readWeights(plan);
  const held = expected ? sameWeights(current, expected) : (current[plan.green] ?? 0) === 0;
  if (!held) {
    const wanted = expected ? formatWeights(expected) : `no weight on slot ${plan.green}`;
    throw new TrafficDrift(
      `the records hold ${formatWeights(current)}, not what this deployment last wrote (${wanted}); someone else is moving traffic`,
    );
  }
}
