import { getPublication } from '../aws/dynamodb.ts';
import { tagTargetGroup, targetGroupTags } from '../aws/elbv2.ts';
import { executionState } from '../aws/sfn.ts';
import {
  claimOf,
  claimTags,
  claimText,
  ownerOf,
  ownershipProblem,
  ownerTags,
  type SlotClaim,
  type SlotOwner,
  targetGroupName,
} from '../domain/ownership.ts';
import { publicationId } from '../domain/publication.ts';
import type { Tags } from '../domain/tags.ts';
import { SLOTS, type Slot } from '../domain/traffic.ts';
import type { Plan } from '../domain/workflow.ts';
import { type InvalidConfig, SlotInUse, UnsafeToDeploy } from '../errors.ts';

type Slots = Pick<Plan, 'slots'>;
type Me = SlotOwner & { deploymentId: string };

/**
 * Whether the deployment holding a claim still runs. One that was stopped is put back by its
 * recovery, which the lock waits for; its claim is then stale. So is the claim of one whose final
 * notification is recorded: its notifier records it before it hands the lock on, so the next
 * deployment may plan while Step Functions still reports the last one RUNNING for a moment
 * (its notifier has not returned yet, or DescribeExecution is behind).
 */
async function stillActive(claim: SlotClaim): Promise<boolean> {
  if (!claim.executionArn) return false;
  if ((await executionState(claim.executionArn))?.status !== 'RUNNING') return false;
  const table = process.env.LOCKS_TABLE;
  return !(table && (await getPublication(table, publicationId(claim.deploymentId))));
}

function inUseCause(slot: Slot, targetGroupArn: string, claim: SlotClaim, tags: Tags): string {
  return `slot ${slot}'s target group ${targetGroupName(targetGroupArn)} is claimed by ${claimText(claim, ownerOf(tags))}, which still runs: two deployments would use one slot (was the lock item lost?)`;
}

/** What a check does with a reason not to deploy: throw it (the Plan task), or note it and go on (a preview). */
export type Refuse = (error: InvalidConfig | UnsafeToDeploy) => void;

/** The Plan task's way: the first reason not to deploy ends the check. */
export const refuseAtOnce: Refuse = (error) => {
  throw error;
};

/**
 * Plan: both slots must belong to this app/env and be claimed by no other deployment that still
 * runs. Read-only: a slot nobody owns yet is claimed later (claimSlot: by the heal, or at launch).
 * Each slot's tags are returned as read.
 */
export async function checkSlotOwnership(
  config: Slots,
  me: Me,
  refuse: Refuse = refuseAtOnce,
): Promise<Map<string, Tags>> {
  const tags = await targetGroupTags(SLOTS.map((slot) => config.slots[slot].targetGroupArn));
  for (const slot of SLOTS) {
    const arn = config.slots[slot].targetGroupArn;
    const slotTags = tags.get(arn) ?? {};
    const problem = ownershipProblem(slot, arn, slotTags, me);
    if (problem) {
      refuse(new UnsafeToDeploy(`${problem}; nothing was launched`));
      continue;
    }
    const claim = claimOf(slotTags);
    if (claim && claim.deploymentId !== me.deploymentId && (await stillActive(claim))) {
      refuse(new UnsafeToDeploy(`${inUseCause(slot, arn, claim, slotTags)}; nothing was launched`));
    }
  }
  return tags;
}

/**
 * Takes `slot` for this deployment, unless either slot belongs to another app/env or another
 * deployment that still runs holds `slot` (SlotInUse, nothing written; `leftAlone` says what the
 * caller then leaves alone). A slot nobody owns yet is claimed for this app/env first (the first
 * deploy adopts the slots the user made). `verify` is a last check before the claim is written.
 * Idempotent: a claim that already names this deployment is left as it is, so launch finds the
 * claim the heal took for it.
 */
export async function claimSlot(
  plan: Pick<Plan, 'slots' | 'app' | 'env' | 'version'>,
  slot: Slot,
  me: { deploymentId: string; executionArn: string },
  leftAlone: string,
  verify?: (targetGroupArn: string) => Promise<void>,
): Promise<void> {
  const all = await targetGroupTags(SLOTS.map((s) => plan.slots[s].targetGroupArn));
  for (const each of SLOTS) {
    const eachArn = plan.slots[each].targetGroupArn;
    const problem = ownershipProblem(each, eachArn, all.get(eachArn) ?? {}, plan);
    if (problem) throw new SlotInUse(`${problem}; ${leftAlone}`);
  }
  const arn = plan.slots[slot].targetGroupArn;
  const tags = all.get(arn) ?? {};
  const claim = claimOf(tags);
  const mine = claim?.deploymentId === me.deploymentId;
  if (claim && !mine && (await stillActive(claim))) {
    throw new SlotInUse(`${inUseCause(slot, arn, claim, tags)}; ${leftAlone}`);
  }
  await verify?.(arn);
  for (const each of SLOTS) {
    const eachArn = plan.slots[each].targetGroupArn;
    if (!ownerOf(all.get(eachArn) ?? {})) await tagTargetGroup(eachArn, ownerTags(plan, each));
  }
  if (!mine) {
    await tagTargetGroup(
      arn,
      claimTags({ deploymentId: me.deploymentId, version: plan.version, executionArn: me.executionArn }),
    );
  }
}
