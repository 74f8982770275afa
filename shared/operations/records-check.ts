import { carriesTraffic, formatWeights, type Slot, sameWeights, type Weights } from '../domain/traffic.ts';
import type { Plan } from '../domain/workflow.ts';
import { TrafficDrift } from '../errors.ts';
import {
  assertStickinessAsPlanned,
  type PlannedListener,
  readTraffic,
  readWeights,
  type TrafficTarget,
} from './weights.ts';

/**
 * The records (or the listener) must hold what this deployment last wrote (`expected`), or before
 * its first step no weight on green: otherwise someone else is moving traffic. A listener's
 * stickiness must still be the planned one or shorter, at every step's and window's check.
 */
export async function assertRecordsAsWritten(
  plan: TrafficTarget & Pick<Plan, 'green'> & { listener?: PlannedListener | undefined },
  expected: Record<Slot, number> | undefined,
): Promise<void> {
  const { weights: current, stickinessSeconds } = await readTraffic(plan);
  assertStickinessAsPlanned(plan.listener, stickinessSeconds);
  const held = expected ? sameWeights(current, expected) : !carriesTraffic(current, plan.green);
  if (!held) {
    const wanted = expected ? formatWeights(expected) : `no weight on slot ${plan.green}`;
    throw new TrafficDrift(
      `the records hold ${formatWeights(current)}, not what this deployment last wrote (${wanted}); someone else is moving traffic`,
    );
  }
}

/**
 * The no-traffic guard, before a slot's instances are taken out of service or terminated: the
 * records are read, and while `slot` carries any traffic (or, with `servedBy`, while that slot
 * carries none: the traffic is not where this step expects it) `refuse` is thrown, given the
 * weights as read. Returns the weights it read.
 */
export async function requireNoTraffic(
  plan: TrafficTarget,
  slot: Slot,
  refuse: (weights: string) => Error,
  servedBy?: Slot,
): Promise<Weights> {
  const weights = await readWeights(plan);
  if (carriesTraffic(weights, slot) || (servedBy !== undefined && !carriesTraffic(weights, servedBy)))
    throw refuse(formatWeights(weights));
  return weights;
}
