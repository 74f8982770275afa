import { findManagedInstances, terminateInstances } from './aws/ec2.ts';
import { deregisterTargets, deregistrationDelaySeconds, describeTargetHealth } from './aws/elbv2.ts';
import { requireNoTraffic } from './aws/route53.ts';
import { TAG, type Tags } from './domain/tags.ts';
import type { Plan } from './domain/workflow.ts';
import { RollbackBlocked } from './errors.ts';
import { greenHeldByAnother } from './slot-tags.ts';

/**
 * Deregisters from the target group every instance of ours matching the tags that is still
 * registered (one already draining, as after a retry, is left to drain). Says which are ours and
 * which were in service, draining ones included.
 */
async function deregisterOurs(targetGroupArn: string, tags: Tags) {
  const ids = (await findManagedInstances(tags)).map((i) => i.id);
  const inService = (await describeTargetHealth(targetGroupArn, ids)).filter(
    (t) => t.reason !== 'Target.NotRegistered',
  );
  const deregistered = inService.filter((t) => t.state !== 'draining').map((t) => t.id);
  await deregisterTargets(targetGroupArn, deregistered);
  return { ids, inService, deregistered };
}

/**
 * Deregisters from the target group and terminates every instance of ours matching the tags.
 * Both calls are idempotent, so a retried task finishes what a failed one started.
 */
export async function retireInstances(
  targetGroupArn: string,
  tags: Tags,
): Promise<{ deregistered: string[]; terminated: string[] }> {
  const { ids, deregistered } = await deregisterOurs(targetGroupArn, tags);
  await terminateInstances(ids);
  return { deregistered, terminated: ids };
}

/**
 * Takes every instance of ours matching the tags out of the target group, so the load balancer
 * sends them no new request while those in flight finish. How long to let them drain: the target
 * group's deregistration delay while any was still in service, else nothing.
 */
export async function takeOutOfService(
  targetGroupArn: string,
  tags: Tags,
): Promise<{ instanceIds: string[]; deregistered: string[]; drainSeconds: number }> {
  const { ids, inService, deregistered } = await deregisterOurs(targetGroupArn, tags);
  const drainSeconds = inService.length > 0 ? await deregistrationDelaySeconds(targetGroupArn) : 0;
  return { instanceIds: ids, deregistered, drainSeconds };
}

/**
 * The green fleet of a rollback, found by this deployment's tag in green's target group, once it
 * carries no traffic: taking it out of service or terminating it while it serves would take the
 * service down, so that is refused (RollbackBlocked). When another deployment holds green's slot,
 * the slot's traffic is that deployment's and is served by its own instances: this deployment's
 * (if it launched any) go regardless, and nothing else is touched.
 */
export async function idleGreen(
  plan: Pick<Plan, 'dns' | 'green' | 'slots' | 'app' | 'env'>,
  deploymentId: string,
  doing: string,
): Promise<{ targetGroupArn: string; tags: Tags }> {
  const another = await greenHeldByAnother(plan, deploymentId);
  if (!another)
    await requireNoTraffic(
      plan,
      plan.green,
      (weights) =>
        new RollbackBlocked(`green slot ${plan.green} still carries traffic (${weights}); not ${doing}`),
    );
  return {
    targetGroupArn: plan.slots[plan.green].targetGroupArn,
    tags: { [TAG.deploymentId]: deploymentId },
  };
}
