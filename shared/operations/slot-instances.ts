import { findLaunchedInstances, instancesById } from '../aws/ec2.ts';
import { registeredTargets } from '../aws/elbv2.ts';
import { isDead } from '../domain/health.ts';
import { type ForeignInstance, foreignInstancesText, targetGroupName } from '../domain/ownership.ts';
import { TAG } from '../domain/tags.ts';
import type { Plan } from '../domain/workflow.ts';
import { SlotInUse } from '../errors.ts';
import { requireClaim } from './slot-tags.ts';

/**
 * Instances registered in the target group that can serve (the target not draining nor unused,
 * the instance not dead) and that this deployment did not launch, judged by their launch tags
 * (none for one EC2 does not list).
 * This deployment's own are found by its deployment tag (the state keeps no list of them; `found`
 * are the ids a task already found by that tag in this invocation), so only the others are
 * described.
 */
export async function foreignTargets(
  targetGroupArn: string,
  deploymentId: string,
  found?: readonly string[],
): Promise<ForeignInstance[]> {
  const serving = (await registeredTargets(targetGroupArn)).filter(
    (t) => t.state !== 'draining' && t.state !== 'unused',
  );
  if (serving.length === 0) return [];
  const ours = new Set(
    found ?? (await findLaunchedInstances({ [TAG.deploymentId]: deploymentId })).map((i) => i.id),
  );
  const unknown = serving.map((t) => t.id).filter((id) => !ours.has(id));
  if (unknown.length === 0) return [];
  const instances = await instancesById(unknown);
  const listed = new Set(instances.map((i) => i.id));
  // A target ELB still checks whose instance EC2 does not list to us (not ours, or not listed yet)
  // may serve: foreign too, launched by nobody we know. One whose instance is gone is `unused`,
  // filtered out above.
  const unlisted = unknown.filter((id) => !listed.has(id)).map((id) => ({ id, tags: {} }));
  return [
    ...instances
      .filter((i) => i.tags[TAG.deploymentId] !== deploymentId && !isDead(i.state))
      .map((i) => ({ id: i.id, tags: i.tags })),
    ...unlisted,
  ];
}

/**
 * Every health check and traffic step: green's slot is still this deployment's (its claim, its
 * owner) and holds no instance it did not launch; otherwise SlotInUse naming who else is there.
 * `found`: this deployment's instance ids, when the task already found them by tag.
 */
export async function assertGreenStillOurs(
  plan: Pick<Plan, 'slots' | 'green' | 'app' | 'env'>,
  deploymentId: string,
  found?: readonly string[],
): Promise<void> {
  await requireClaim(plan, plan.green, deploymentId, `green slot ${plan.green}`);
  const arn = plan.slots[plan.green].targetGroupArn;
  const foreign = await foreignTargets(arn, deploymentId, found);
  if (foreign.length > 0) {
    throw new SlotInUse(
      `green slot ${plan.green}'s target group ${targetGroupName(arn)} holds instances this deployment did not launch (${foreignInstancesText(foreign)}): another deployment is using the slot`,
    );
  }
}
