import { targetGroupTags } from '../aws/elbv2.ts';
import { claimOf, claimText, ownerOf, ownershipProblem, targetGroupName } from '../domain/ownership.ts';
import type { Tags } from '../domain/tags.ts';
import type { Slot } from '../domain/traffic.ts';
import type { Plan } from '../domain/workflow.ts';
import { SlotInUse } from '../errors.ts';

/** A target group's tags (who owns the slot, who fills it). */
export async function tagsOf(targetGroupArn: string): Promise<Tags> {
  return (await targetGroupTags([targetGroupArn])).get(targetGroupArn) ?? {};
}

/** Whose green's slot is, by its target group's tags, read once. */
export interface GreenSlotStanding {
  /**
   * Why the slot is not this deployment's to change in a rollback (another app/env owns it, or
   * another deployment claimed it), or undefined when it is: its traffic and its instances are then
   * the other's, and a rollback takes only what it launched.
   */
  another?: string;
  /**
   * The claim names this deployment as the one filling the slot: when the lock item is gone
   * (deleted by hand, a table restored from a backup), that is what says the slot's instances and
   * traffic are still this deployment's to put back.
   */
  claimedByMe: boolean;
}

export async function greenSlotStanding(
  plan: Pick<Plan, 'slots' | 'green' | 'app' | 'env'>,
  deploymentId: string,
): Promise<GreenSlotStanding> {
  const arn = plan.slots[plan.green].targetGroupArn;
  const tags = await tagsOf(arn);
  const problem = ownershipProblem(plan.green, arn, tags, plan);
  const claim = claimOf(tags);
  const claimedByMe = claim?.deploymentId === deploymentId;
  if (problem) return { another: problem, claimedByMe };
  if (claim && !claimedByMe) {
    return {
      another: `green slot ${plan.green} is claimed by ${claimText(claim, ownerOf(tags))}`,
      claimedByMe,
    };
  }
  return { claimedByMe };
}

/** Why green's slot is another's (see GreenSlotStanding.another), or undefined when it is not. */
export async function greenHeldByAnother(
  plan: Pick<Plan, 'slots' | 'green' | 'app' | 'env'>,
  deploymentId: string,
): Promise<string | undefined> {
  return (await greenSlotStanding(plan, deploymentId)).another;
}

/**
 * The slot is still this app/env's and its claim still names this deployment (taken by launch, or
 * by a heal before it clears the slot); otherwise SlotInUse naming who holds it now. `label` is how
 * the cause names the slot ("green slot b").
 */
export async function requireClaim(
  plan: Pick<Plan, 'slots' | 'app' | 'env'>,
  slot: Slot,
  deploymentId: string,
  label: string,
): Promise<void> {
  const arn = plan.slots[slot].targetGroupArn;
  const tags = await tagsOf(arn);
  const problem = ownershipProblem(slot, arn, tags, plan);
  if (problem) throw new SlotInUse(problem);
  const claim = claimOf(tags);
  if (claim?.deploymentId !== deploymentId) {
    const who = claim ? claimText(claim, ownerOf(tags)) : 'nobody (its claim tags were removed)';
    throw new SlotInUse(
      `${label} (target group ${targetGroupName(arn)}) is now claimed by ${who}, not this deployment: another deployment is using the slot; this one stops and leaves its things alone`,
    );
  }
}
