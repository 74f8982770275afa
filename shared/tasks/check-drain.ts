import { describeTargetHealth } from '../aws/elbv2.ts';
import type { BlueDrain, DeploymentState } from '../domain/workflow.ts';
import { IDLE_SECONDS, targetGroupIdle } from '../operations/drain.ts';
import { need } from '../state.ts';

/**
 * One bounded check of blue's draining. Done when ELB no longer reports any blue target draining,
 * when CloudWatch shows the target group served no request for two minutes, or when the
 * deregistration delay is over (ELB ends draining then), whichever comes first.
 */
export async function checkDrain(input: DeploymentState): Promise<BlueDrain> {
  const state = need(input, 'plan', 'drain');
  const { drain, plan } = state;
  if (drain.drained) return drain;
  const polls = drain.polls + 1;
  const targetGroupArn = plan.slots[drain.slot].targetGroupArn;
  // Every draining target of blue's group: blue's own, and any someone else deregistered there.
  const stillDraining = (await describeTargetHealth(targetGroupArn)).filter((t) => t.state === 'draining');
  const done = (reason: string): BlueDrain => ({
    ...drain,
    polls,
    drained: true,
    reason,
    nextCheckSeconds: 0,
  });
  if (stillDraining.length === 0) return done('ELB finished draining');
  if (await targetGroupIdle(targetGroupArn)) return done(`no request in the last ${IDLE_SECONDS} s`);
  const left = Math.ceil((Date.parse(drain.drainUntil) - Date.now()) / 1000);
  if (left <= 0) return done('the deregistration delay is over');
  if (polls >= drain.maxPolls) return done(`checked ${polls} times, the most allowed`);
  return { ...drain, polls, nextCheckSeconds: Math.max(1, Math.min(drain.pollSeconds, left)) };
}
