import { findManagedInstances } from '../aws/ec2.ts';
import { deregisterTargets, deregistrationDelaySeconds, describeTargetHealth } from '../aws/elbv2.ts';
import { readWeights } from '../aws/route53.ts';
import { TAG } from '../domain/tags.ts';
import { formatWeights } from '../domain/traffic.ts';
import type { BlueDrain, DeploymentState } from '../domain/workflow.ts';
import { IDLE_SECONDS, targetGroupIdle } from '../drain.ts';
import { TrafficDrift } from '../errors.ts';
import { logger } from '../logger.ts';
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
  const weights = await readWeights(plan);
  if ((weights[blue] ?? 0) !== 0 || (weights[plan.green] ?? 0) === 0) {
    throw new TrafficDrift(`not retiring blue slot ${blue}: the records hold ${formatWeights(weights)}`);
  }
  const instances = (
    await findManagedInstances({ [TAG.app]: state.app, [TAG.env]: state.env, [TAG.slot]: blue })
  ).filter((i) => i.tags[TAG.deploymentId] !== state.deploymentId);
  const instanceIds = instances.map((i) => i.id);
  const targetGroupArn = plan.slots[blue].targetGroupArn;
  // Targets already draining (a retry of this task, or someone else's deregistration) are watched
  // like the ones deregistered now: terminating them early would cut their connections.
  const targets = (await describeTargetHealth(targetGroupArn, instanceIds)).filter(
    (t) => t.reason !== 'Target.NotRegistered',
  );
  const registered = targets.map((t) => t.id);
  await deregisterTargets(
    targetGroupArn,
    targets.filter((t) => t.state !== 'draining').map((t) => t.id),
  );
  const delay = await deregistrationDelaySeconds(targetGroupArn);
  // Blue has carried no traffic for the whole window: usually it is idle already.
  const idle = registered.length === 0 || (await targetGroupIdle(targetGroupArn));
  const now = new Date();
  const bound = delay + 60;
  const every = Math.max(DRAIN_POLL_SECONDS, Math.ceil(bound / DRAIN_MAX_POLLS));
  logger.info('blue deregistered, draining', { slot: blue, instanceIds: registered, delay });
  return {
    slot: blue,
    instanceIds,
    deregistered: registered,
    deregisteredAt: now.toISOString(),
    drainUntil: new Date(now.getTime() + delay * 1000).toISOString(),
    drained: idle,
    reason:
      registered.length === 0
        ? 'nothing was registered'
        : idle
          ? `no request in the last ${IDLE_SECONDS} s`
          : 'draining',
    polls: 0,
    maxPolls: Math.ceil(bound / every) + 1,
    pollSeconds: every,
    nextCheckSeconds: idle ? 0 : Math.max(1, Math.min(every, delay)),
  };
}
