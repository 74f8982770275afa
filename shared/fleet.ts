import { findManagedInstances, terminateInstances } from './aws/ec2.ts';
import { deregisterTargets, deregistrationDelaySeconds, describeTargetHealth } from './aws/elbv2.ts';
import type { Tags } from './domain/tags.ts';

/**
 * Deregisters from the target group and terminates every instance of ours matching the tags.
 * Both calls are idempotent, so a retried task finishes what a failed one started.
 */
export async function retireInstances(
  targetGroupArn: string,
  tags: Tags,
): Promise<{ deregistered: string[]; terminated: string[] }> {
  const instances = await findManagedInstances(tags);
  const ids = instances.map((i) => i.id);
  const registered = (await describeTargetHealth(targetGroupArn, ids))
    .filter((t) => t.reason !== 'Target.NotRegistered' && t.state !== 'draining')
    .map((t) => t.id);
  await deregisterTargets(targetGroupArn, registered);
  await terminateInstances(ids);
  return { deregistered: registered, terminated: ids };
}

/**
 * Deregisters every instance of ours matching the tags from the target group, so the load
 * balancer sends them no new request while those in flight finish. How long to let them drain:
 * the target group's deregistration delay while any was still in service (registered or already
 * draining, as after a retry), else nothing.
 */
export async function takeOutOfService(
  targetGroupArn: string,
  tags: Tags,
): Promise<{ instanceIds: string[]; deregistered: string[]; drainSeconds: number }> {
  const ids = (await findManagedInstances(tags)).map((i) => i.id);
  const inService = (await describeTargetHealth(targetGroupArn, ids)).filter(
    (t) => t.reason !== 'Target.NotRegistered',
  );
  const deregistered = inService.filter((t) => t.state !== 'draining').map((t) => t.id);
  await deregisterTargets(targetGroupArn, deregistered);
  const drainSeconds = inService.length > 0 ? await deregistrationDelaySeconds(targetGroupArn) : 0;
  return { instanceIds: ids, deregistered, drainSeconds };
}
