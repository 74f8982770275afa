/**
 * Slots and weights. Each app/env has two slots, `a` and `b`, each one weighted Route 53 record
 * (traffic.mode route53) or one target group of an ALB listener's weighted forward (alb). The live
 * slot is the one with weight > 0; green is the other one.
 */

export const SLOTS = ['a', 'b'] as const;
export type Slot = (typeof SLOTS)[number];

/** Current weights; null where the slot's record does not exist yet. */
export type Weights = Record<Slot, number | null>;

export type LiveSlot =
  | { kind: 'live'; slot: Slot }
  | { kind: 'none' }
  | { kind: 'split'; weights: Record<Slot, number> };

/** Whether the records hold exactly these weights (a missing record counts as 0). */
export function sameWeights(current: Weights, expected: Record<Slot, number>): boolean {
  return (current.a ?? 0) === expected.a && (current.b ?? 0) === expected.b;
}

/** Whether the slot's record sends it any traffic (a missing record sends none). */
export function carriesTraffic(weights: Weights, slot: Slot): boolean {
  return (weights[slot] ?? 0) > 0;
}

export function otherSlot(slot: Slot): Slot {
  return slot === 'a' ? 'b' : 'a';
}

export function isSlot(value: unknown): value is Slot {
  return value === 'a' || value === 'b';
}

/** Which slot serves traffic now. No record with weight > 0 means nothing is live (a first deploy). */
export function findLiveSlot(weights: Weights): LiveSlot {
  const a = weights.a ?? 0;
  const b = weights.b ?? 0;
  if (a > 0 && b > 0) return { kind: 'split', weights: { a, b } };
  if (a > 0) return { kind: 'live', slot: 'a' };
  if (b > 0) return { kind: 'live', slot: 'b' };
  return { kind: 'none' };
}

export function formatWeights(weights: Weights): string {
  const show = (w: number | null) => (w === null ? 'no record' : String(w));
  return `a=${show(weights.a)} b=${show(weights.b)}`;
}

/**
 * Weights that put `greenPercent` on green and the rest on blue. Weights are relative, so the
 * percentages are written directly (0-100 is inside Route 53's 0-255). Route 53 splits evenly
 * when every weight is 0, so all-zero is refused here, at the one place weights are computed.
 */
export function weightsForStep(green: Slot, greenPercent: number): Record<Slot, number> {
  if (!Number.isInteger(greenPercent) || greenPercent < 0 || greenPercent > 100) {
    throw new RangeError(`green percent must be an integer 0-100, got ${greenPercent}`);
  }
  const weights = { [green]: greenPercent, [otherSlot(green)]: 100 - greenPercent } as Record<Slot, number>;
  assertNotAllZero(weights);
  return weights;
}

export function assertNotAllZero(weights: Record<Slot, number>): void {
  if (weights.a + weights.b === 0) {
    throw new RangeError(
      'refusing to write all-zero weights: Route 53 would split traffic evenly, and a listener would send it nowhere',
    );
  }
}
