import { deregistrationDelaySeconds } from '../aws/elbv2.ts';
import type { BlueDrain, DeploymentState } from '../domain/workflow.ts';
import { TrafficDrift } from '../errors.ts';
import { logger } from '../logger.ts';
import { blueInstances } from '../operations/blue-fleet.ts';
import { IDLE_SECONDS, targetGroupIdle } from '../operations/drain.ts';
import { detachGroups, releaseGreen } from '../operations/groups.ts';
import { requireNoTraffic } from '../operations/records-check.ts';
import { deregisterBlueTargets } from '../operations/slot-targets.ts';
import { need } from '../state.ts';

/** How often draining is checked at least, and at most how many times (the delay plus a margin). */
const DRAIN_POLL_SECONDS = 30;
const DRAIN_MAX_POLLS = 20;

/**
 * Takes blue out of its target group so ELB drains its connections before anything is terminated.
 * The records are read first: blue is never touched while it carries any traffic.
 */
export async function deregisterBlue(input: DeploymentState): Promise<BlueDrain> {
  const state = need(input, 'plan');
  const { plan } = state;
  const blue = plan.blue;
  if (blue === null) throw new TypeError('there is no blue fleet to deregister on a first deployment');
  await requireNoTraffic(
    plan,
    blue,
    (weights) => new TrafficDrift(`not retiring blue slot ${blue}: the records hold ${weights}`),
    plan.green,
  );
  // Green is the live fleet from here on (no state after this one returns traffic to blue): its
  // group scales as its policies say, even if blue's retirement fails and blue is left for a person.
  await releaseGreen(plan);
  const targetGroupArn = plan.slots[blue].targetGroupArn;
  // Blue's group first: detached, it deregisters its instances and registers no replacement.
  const detached = plan.group?.blue ? await detachGroups({ name: plan.group.blue }, targetGroupArn) : 0;
  const instances = await blueInstances(state, blue);
  // Targets already draining (a retry of this task, or someone else's deregistration) are watched
  // like the ones deregistered now: terminating them early would cut their connections. Blue's
  // instances that died are deregistered too, but have nothing to drain.
  const { serving, deregistered } = await deregisterBlueTargets(targetGroupArn, state, blue);
  const delay = await deregistrationDelaySeconds(targetGroupArn);
  // Blue has carried no traffic for the whole window: usually it is idle already.
  // A group's instances drain once detached, tagged or not (an adopted group's older instances
  // may carry none of the service's tags): with a group, the target group's requests say.
  const idle = (serving === 0 && !plan.group?.blue) || (await targetGroupIdle(targetGroupArn));
  const now = new Date();
  const bound = delay + 60;
  const every = Math.max(DRAIN_POLL_SECONDS, Math.ceil(bound / DRAIN_MAX_POLLS));
  logger.info('blue deregistered, draining', { slot: blue, deregistered, delay });
  return {
    slot: blue,
    instances: Math.max(instances.length, detached),
    deregistered: deregistered + detached,
    deregisteredAt: now.toISOString(),
    drainUntil: new Date(now.getTime() + delay * 1000).toISOString(),
    drained: idle,
    reason:
      serving + detached === 0
        ? 'nothing that could serve was registered'
        : idle
          ? `no request in the last ${IDLE_SECONDS} s`
          : 'draining',
    polls: 0,
    maxPolls: Math.ceil(bound / every) + 1,
    pollSeconds: every,
    nextCheckSeconds: idle ? 0 : Math.max(1, Math.min(every, delay)),
  };
}
