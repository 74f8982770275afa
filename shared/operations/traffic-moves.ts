import { healthyTargets, slotTargets } from '../aws/elbv2.ts';
import { DNS_RETURN_MAX_POLLS, dnsPollSeconds } from '../domain/plan.ts';
import { type ReturnDecision, returnToBlue, type SlotTargets } from '../domain/return-to-blue.ts';
import { otherSlot, type Slot, sameWeights, type Weights, weightsForStep } from '../domain/traffic.ts';
import type { DnsChange, Plan } from '../domain/workflow.ts';
import { type TrafficTarget, writeWeights } from './weights.ts';

type Records = TrafficTarget & Pick<Plan, 'dns'>;

/**
 * Writes both weights in one call; the change as the state machine's INSYNC wait carries it,
 * checked at most `maxPolls` times (a traffic step's bound unless said otherwise). A listener's
 * weights are in effect once the call returns: the change is in sync as written (its write time
 * is its sync time, as the metrics read it), so the wait passes through with no time and no check.
 */
export async function writeChange(
  plan: Records,
  weights: Record<Slot, number>,
  comment: string,
  maxPolls = plan.dns?.maxPolls ?? 0,
  checked?: Weights,
): Promise<DnsChange> {
  const { changeId, submittedAt, inSync } = await writeWeights(plan, weights, comment, checked);
  if (inSync) {
    return {
      changeId,
      status: 'INSYNC',
      polls: 0,
      maxPolls: 0,
      pollSeconds: 0,
      submittedAt,
      syncedAt: submittedAt,
    };
  }
  return { changeId, status: 'PENDING', polls: 0, maxPolls, pollSeconds: dnsPollSeconds(0), submittedAt };
}

/**
 * Puts all traffic on `to` in one change batch, but only if `to` has a healthy target right now:
 * traffic never goes to a slot that cannot serve it (healing a split moves traffic this way).
 * Null, with nothing written, when it has none.
 *
 * When the records (`current`) already send everything to `to`, as after a retry of a write that
 * landed, the batch is written again without the check: it moves nothing, and its change is one
 * to wait on (Route 53 applies changes in order), so the caller still waits for INSYNC and the
 * TTL before it removes what traffic left.
 */
export async function moveAllTrafficTo(
  plan: Records,
  to: Slot,
  comment: string,
  current: Weights,
): Promise<DnsChange | null> {
  const target = weightsForStep(otherSlot(to), 0);
  const there = sameWeights(current, target);
  if (!there && (await healthyTargets(plan.slots[to].targetGroupArn)).length === 0) return null;
  return writeChange(plan, target, comment, DNS_RETURN_MAX_POLLS);
}

export type ReturnResult = { dns: DnsChange } | { refused: string };

/**
 * The rollback rule (domain/return-to-blue.ts) on both slots' target health as ELB reports it now:
 * whether all traffic may go back to blue, and why, with the counts it decided on.
 */
export async function returnDecision(
  plan: Pick<Plan, 'slots' | 'green' | 'health'>,
  blue: Slot,
  greenFailed: boolean,
): Promise<ReturnDecision & { targets: Record<'blue' | 'green', SlotTargets> }> {
  const [blueTargets, greenTargets] = await Promise.all([
    slotTargets(plan.slots[blue].targetGroupArn),
    slotTargets(plan.slots[plan.green].targetGroupArn),
  ]);
  const decision = returnToBlue({
    slots: { blue, green: plan.green },
    blue: blueTargets,
    green: greenTargets,
    minHealthyPercent: plan.health.minHealthyPercent,
    greenFailed,
  });
  return { ...decision, targets: { blue: blueTargets, green: greenTargets } };
}

/**
 * Undoing a deployment: all traffic back on blue in one change batch, if the rollback rule
 * allows it with both slots' target health read now; the refusal's reason otherwise, with nothing
 * written. The state machine's rollback and the recovery after a Stop both return traffic this
 * way. Records that already send everything to blue are written again without the check, as in
 * moveAllTrafficTo.
 */
export async function returnTrafficToBlue(
  plan: Records & Pick<Plan, 'green' | 'health'>,
  blue: Slot,
  greenFailed: boolean,
  comment: string,
  current: Weights,
): Promise<ReturnResult> {
  const target = weightsForStep(plan.green, 0);
  if (!sameWeights(current, target)) {
    const decision = await returnDecision(plan, blue, greenFailed);
    if (!decision.toBlue) return { refused: decision.why };
  }
  return { dns: await writeChange(plan, target, comment, DNS_RETURN_MAX_POLLS) };
}
