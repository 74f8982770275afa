import { assertNotAllZero, SLOTS, type Slot, type Weights } from './traffic.ts';

/**
 * traffic.mode alb: one Application Load Balancer listener (or one of its rules) whose forward
 * action sends traffic to both slots' target groups by weight. A step is one ModifyListener or
 * ModifyRule call holding both weights; it takes effect at once (no resolver caches). These are
 * the pure decisions about that action: what it holds, and the action a step writes.
 */

/** One action of a listener or rule, as DescribeListeners / DescribeRules return it (the fields used). */
export interface ListenerAction {
  Type?: string | undefined;
  Order?: number | undefined;
  TargetGroupArn?: string | undefined;
  ForwardConfig?:
    | {
        TargetGroups?: { TargetGroupArn?: string | undefined; Weight?: number | undefined }[] | undefined;
        TargetGroupStickinessConfig?:
          | { Enabled?: boolean | undefined; DurationSeconds?: number | undefined }
          | undefined;
      }
    | undefined;
}

/** What the listener's action says about the slots. */
export type ForwardReading =
  | {
      ok: true;
      /** Each slot's weight; null where the action does not name its target group. */
      weights: Weights;
      /** Target group stickiness of the forward action, in seconds (0 when off). */
      stickinessSeconds: number;
      /** The action as read: a step writes it back with only the weights changed. */
      action: ListenerAction | undefined;
    }
  | { ok: false; problem: string };

/** ALB's range for a weight in a forward action (TargetGroupTuple, ELBv2 API reference). */
export const ALB_MAX_WEIGHT = 999;

/**
 * Reads the slots' weights off a listener's default actions (or a rule's actions). Only a single
 * forward action to the slots' target groups is the service's to change: ModifyListener and
 * ModifyRule replace the whole action list, so anything else there (an authenticate action, a
 * target group that is neither slot's) is refused rather than rewritten. A lone fixed-response
 * action is a listener that serves nothing yet (before the first deploy): no slot has weight.
 */
export function readForward(actions: ListenerAction[], targetGroups: Record<Slot, string>): ForwardReading {
  const none: Weights = { a: null, b: null };
  const [only, ...more] = actions;
  if (!only || more.length > 0) {
    const types = actions.map((a) => a.Type ?? '?').join(', ') || 'none';
    return {
      ok: false,
      problem: `its actions must be one forward action to the slots' target groups (found: ${types}); the service rewrites the whole action list at each step and would drop the others`,
    };
  }
  if (only.Type === 'fixed-response')
    return { ok: true, weights: none, stickinessSeconds: 0, action: undefined };
  if (only.Type !== 'forward') {
    return {
      ok: false,
      problem: `its action is ${only.Type ?? 'of no type'}, not forward (or fixed-response before the first deploy)`,
    };
  }
  const tuples =
    only.ForwardConfig?.TargetGroups && only.ForwardConfig.TargetGroups.length > 0
      ? only.ForwardConfig.TargetGroups
      : [{ TargetGroupArn: only.TargetGroupArn, Weight: 1 }];
  const weights: Weights = { ...none };
  for (const tuple of tuples) {
    const slot = SLOTS.find((s) => targetGroups[s] === tuple.TargetGroupArn);
    if (!slot) {
      return {
        ok: false,
        problem: `it forwards to target group ${tuple.TargetGroupArn ?? '(none)'}, which is neither slot's`,
      };
    }
    // A target group listed without a weight has weight 1 (ForwardActionConfig).
    weights[slot] = tuple.Weight ?? 1;
  }
  const stickiness = only.ForwardConfig?.TargetGroupStickinessConfig;
  return {
    ok: true,
    weights,
    stickinessSeconds: stickiness?.Enabled ? (stickiness.DurationSeconds ?? 0) : 0,
    action: only,
  };
}

/**
 * The one forward action a step writes: both slots' target groups with their weights (never all
 * zero), the stickiness and order of the action it replaces kept as they were.
 */
export function forwardAction(
  weights: Record<Slot, number>,
  targetGroups: Record<Slot, string>,
  replaced: ListenerAction | undefined,
): ListenerAction {
  assertNotAllZero(weights);
  for (const slot of SLOTS) {
    const weight = weights[slot];
    if (!Number.isInteger(weight) || weight < 0 || weight > ALB_MAX_WEIGHT)
      throw new RangeError(`weight of slot ${slot} must be an integer 0-${ALB_MAX_WEIGHT}, got ${weight}`);
  }
  const stickiness = replaced?.ForwardConfig?.TargetGroupStickinessConfig;
  return {
    Type: 'forward',
    ...(replaced?.Order !== undefined ? { Order: replaced.Order } : {}),
    ForwardConfig: {
      TargetGroups: SLOTS.map((slot) => ({ TargetGroupArn: targetGroups[slot], Weight: weights[slot] })),
      ...(stickiness ? { TargetGroupStickinessConfig: stickiness } : {}),
    },
  };
}
