import { listenerActions, writeListenerActions } from '../aws/elbv2.ts';
import * as records from '../aws/route53.ts';
import { forwardAction, readForward } from '../domain/listener.ts';
import { formatWeights, type Slot, sameWeights, type Weights } from '../domain/traffic.ts';
import type { RecordsPlan } from '../domain/workflow.ts';
import { TrafficDrift, UnsafeToDeploy } from '../errors.ts';

/**
 * Where the weights of an app/env live, by traffic mode: its two weighted records (route53), or
 * the forward action of its listener or listener rule (alb). A plan carries one of the two, and so
 * does a config (its schema requires it).
 */
export interface TrafficTarget {
  dns?: Pick<RecordsPlan, 'hostedZoneId' | 'recordName' | 'recordType' | 'evaluateTargetHealth'> | undefined;
  listener?: { listenerArn: string; ruleArn?: string | undefined } | undefined;
  slots: Record<
    Slot,
    { targetGroupArn: string; loadBalancer?: { dnsName: string; hostedZoneId: string } | undefined }
  >;
}

const targetGroupsOf = (target: TrafficTarget): Record<Slot, string> => ({
  a: target.slots.a.targetGroupArn,
  b: target.slots.b.targetGroupArn,
});

/** What the weights are read from, as people read it in a message. */
export function trafficSource(target: TrafficTarget): string {
  if (target.listener) return `listener ${target.listener.ruleArn ?? target.listener.listenerArn}`;
  return target.dns?.recordName ?? '(no traffic source)';
}

/** The listener's forward action as read, or UnsafeToDeploy saying why it is not the service's to change. */
async function forwardOf(target: TrafficTarget, listener: NonNullable<TrafficTarget['listener']>) {
  const reading = readForward(await listenerActions(listener), targetGroupsOf(target));
  if (!reading.ok) throw new UnsafeToDeploy(`${trafficSource(target)}: ${reading.problem}`);
  return reading;
}

/** A listener as the plan read it: with the target group stickiness its waits were planned on. */
export type PlannedListener = NonNullable<TrafficTarget['listener']> & { stickinessSeconds?: number };

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

/** The current weight of each slot (null where its record, or its target group in the forward action, is missing). */
export async function readWeights(target: TrafficTarget): Promise<Weights> {
  return (await readTraffic(target)).weights;
}

/**
 * The weights and, for a listener, its forward action's target group stickiness in seconds (0
 * when off, and for records), read once.
 */
export async function readTraffic(
  target: TrafficTarget,
): Promise<{ weights: Weights; stickinessSeconds: number }> {
  if (target.listener) {
    const { weights, stickinessSeconds } = await forwardOf(target, target.listener);
    return { weights, stickinessSeconds };
  }
  if (!target.dns) throw new TypeError('neither records nor a listener to read the weights of');
  return { weights: await records.readWeights({ dns: target.dns }), stickinessSeconds: 0 };
}

/**
 * Writes both weights in one call: a change batch of both records (to wait on until INSYNC), or
 * one ModifyListener / ModifyRule holding both target groups' weights, in effect when it returns.
 * The forward action is read right before and written back with only the weights changed; given
 * the weights the caller checked (`checked`), that read must still hold them (someone else may
 * have written the listener since).
 */
export async function writeWeights(
  target: TrafficTarget,
  weights: Record<Slot, number>,
  comment: string,
  checked?: Weights,
): Promise<{ changeId: string; submittedAt: string; inSync: boolean }> {
  if (target.listener) {
    const { listener } = target;
    const { action, weights: now, stickinessSeconds } = await forwardOf(target, listener);
    if (checked && !sameWeights(now, { a: checked.a ?? 0, b: checked.b ?? 0 })) {
      throw new TrafficDrift(
        `${trafficSource(target)} holds ${formatWeights(now)}, not the ${formatWeights(checked)} read before this write; someone else is moving traffic`,
      );
    }
    // A step writes the action back with its stickiness: one lengthened since the step's own check
    // would be carried on past the waits planned on it. (A return to blue writes regardless.)
    if (checked) assertStickinessAsPlanned(listener, stickinessSeconds);
    await writeListenerActions(listener, [forwardAction(weights, targetGroupsOf(target), action)]);
    return {
      changeId: listener.ruleArn ?? listener.listenerArn,
      submittedAt: new Date().toISOString(),
      inSync: true,
    };
  }
  if (!target.dns) throw new TypeError('neither records nor a listener to write the weights of');
  const change = await records.writeWeights({ dns: target.dns, slots: target.slots }, weights, comment);
  return { ...change, inSync: false };
}
