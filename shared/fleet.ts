import { findManagedInstances, terminateInstances } from './aws/ec2.ts';
import { deregisterTargets, describeTargetHealth } from './aws/elbv2.ts';
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
