import { carriesTraffic, formatWeights, type Slot, sameWeights, type Weights } from '../domain/traffic.ts';
import type { Plan } from '../domain/workflow.ts';
import { TrafficDrift } from '../errors.ts';
import { readTraffic, readWeights, type TrafficTarget } from './weights.ts';

/** A listener as the plan read it: with the target group stickiness its waits were planned on. */
type PlannedListener = NonNullable<TrafficTarget['listener']> & { stickinessSeconds?: number };

/**
 * A listener's forward action must not keep clients on a target group longer than the plan's
 * waits allow for (plan.leaveSeconds): a longer stickiness, set since by someone else, would
 * outlast the wait before a slot's instances go.
 */
export function assertStickinessAsPlanned(
  listener: PlannedListener | undefined,
  stickinessSeconds: number,
): void {
  if (!listener || stickinessSeconds <= (listener.stickinessSeconds ?? 0)) return;
  throw new TrafficDrift(
    `the forward action of ${listener.ruleArn ?? listener.listenerArn} now keeps a client on its target group for ${stickinessSeconds} s (target group stickiness), not the ${listener.stickinessSeconds ?? 0} s the deployment planned its waits on; someone else changed the listener`,
  );
}

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
