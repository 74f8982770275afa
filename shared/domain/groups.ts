import type { PutScalingPolicyCommandInput, ScalingPolicy } from '@aws-sdk/client-auto-scaling';
import { evaluateHealth, type HealthVerdict, requiredHealthy, type TargetHealthState } from './health.ts';
import { sha256 } from './identity.ts';
import { idList } from './leftovers.ts';
import { MANAGED_BY, TAG, type Tags } from './tags.ts';
import type { Slot } from './traffic.ts';

/**
 * Pure decisions about Auto Scaling group fleets (fleet.kind autoScalingGroup): what green's group
 * is called, when it counts as ready or healthy, what its activity history says, and whether a
 * group found in blue's slot may be taken over.
 */

/** The prefix of every group the service creates (its IAM policy lets it create no other). */
export const GROUP_PREFIX = 'bluegreen-';

/**
 * Green's group: named after app, env, slot and version, with a hash of the deployment so that
 * deploying one version again (after a rollback, while the old group is still being deleted) gets
 * a name of its own. App and env are at most 32 characters and the version 64: well under 255.
 */
export function greenGroupName(
  d: { app: string; env: string; version: string; deploymentId: string },
  slot: Slot,
) {
  return `${GROUP_PREFIX}${d.app}-${d.env}-${slot}-${d.version}-${sha256(d.deploymentId).slice(0, 8)}`;
}

/** The tags a group must carry to be the service's blue in `slot` of app/env. */
export function groupTagsFor(app: string, env: string, slot: Slot): Tags {
  return { [TAG.managedBy]: MANAGED_BY, [TAG.app]: app, [TAG.env]: env, [TAG.slot]: slot };
}

/**
 * Why a group attached to blue's target group cannot be blue (undefined when it can): the service
 * changes and deletes only groups tagged as its own, so a group someone made is handed over by
 * tagging it. It never tags one itself.
 */
export function adoptionProblem(
  group: { name: string; tags: Tags },
  app: string,
  env: string,
  slot: Slot,
): string | undefined {
  const wanted = groupTagsFor(app, env, slot);
  const wrong = Object.entries(wanted).filter(([key, value]) => group.tags[key] !== value);
  if (wrong.length === 0) return undefined;
  const tags = wrong.map(([key, value]) => `${key}=${value}`).join(', ');
  return `Auto Scaling group ${group.name} serves blue slot ${slot} but is not tagged as this app/env's (missing or different: ${tags}); to hand it to the service, tag it so (the service then deletes it once a deployment has replaced it), or detach it from the target group`;
}

export interface GroupMember {
  id: string;
  /** Auto Scaling's LifecycleState (Pending, InService, Terminating, …). */
  lifecycleState: string;
  /** Auto Scaling's HealthStatus (Healthy, Unhealthy). */
  healthStatus: string;
}

/** A member on its way out (Terminating, Terminating:Wait, …, Terminated): no longer green's. */
const leaving = (member: GroupMember) => member.lifecycleState.startsWith('Terminat');

/** A member the group is replacing or has not brought into service yet. */
function inReplacement(member: GroupMember): boolean {
  return member.lifecycleState !== 'InService' || member.healthStatus !== 'Healthy';
}

/**
 * Green's group before traffic: ready when its desired capacity is InService and the required share
 * of that capacity is healthy in the target group.
 */
export function groupReadiness(
  members: readonly GroupMember[],
  reported: readonly TargetHealthState[],
  minHealthyPercent: number,
  desired: number,
): HealthVerdict & { inService: number } {
  const inService = members.filter((m) => m.lifecycleState === 'InService');
  const verdict = evaluateHealth(
    inService.map((m) => m.id),
    reported,
    minHealthyPercent,
    desired,
  );
  return { ...verdict, healthy: verdict.healthy && inService.length >= desired, inService: inService.length };
}

/**
 * Green's group while it carries traffic. The group replaces an instance that fails its checks by
 * itself: one it is replacing, and its replacement until it is healthy, count neither way, as long
 * as at most `allowance` are (the share the minimum leaves, at least one) and the healthy ones
 * cover the rest. Anything more is a fleet that is not healthy.
 */
export function groupHealth(
  members: readonly GroupMember[],
  reported: readonly TargetHealthState[],
  minHealthyPercent: number,
  desired: number,
): HealthVerdict & { replacing: number } {
  const byId = new Map(reported.map((t) => [t.id, t]));
  const healthy = (m: GroupMember) => byId.get(m.id)?.state === 'healthy';
  // One the group is terminating counts neither way: its replacement stands for it.
  const staying = members.filter((m) => !leaving(m));
  const replacing = staying.filter(
    (m) => !healthy(m) && (inReplacement(m) || byId.get(m.id)?.state === 'initial'),
  );
  const counted = staying.filter((m) => !replacing.includes(m));
  const verdict = evaluateHealth(
    counted.map((m) => m.id),
    reported,
    minHealthyPercent,
  );
  const total = Math.max(desired, staying.length);
  const required = requiredHealthy(total, minHealthyPercent);
  const allowance = Math.max(1, total - required);
  const ok =
    verdict.healthyCount >= 1 &&
    replacing.length <= allowance &&
    verdict.healthyCount + replacing.length >= required;
  return {
    healthy: ok,
    healthyCount: verdict.healthyCount,
    total,
    required,
    notHealthy: [
      ...verdict.notHealthy,
      ...replacing.map((m) => ({
        id: m.id,
        state: byId.get(m.id)?.state ?? 'unused',
        reason: `${m.lifecycleState}, being replaced by the group`,
      })),
    ],
    replacing: replacing.length,
  };
}

export interface ActivityFacts {
  description: string;
  /** Why Auto Scaling did it: "... in response to an ELB system health check failure." and the like. */
  cause?: string | undefined;
  status: string;
  statusMessage?: string | undefined;
}

/**
 * How many launches in a row must fail before the group counts as short of capacity: Auto Scaling
 * retries a failed launch, in another Availability Zone of the group when one has capacity, so one
 * failure is not yet a group that cannot reach its size.
 */
export const LAUNCH_FAILURES_IN_A_ROW = 3;

/**
 * Why the group is short of capacity, when its newest launches failed (LAUNCH_FAILURES_IN_A_ROW
 * of them, none succeeding since) and it has fewer than desired InService: the newest activity's
 * own reason (EC2's InsufficientInstanceCapacity, a limit, a bad template). Activities come newest
 * first.
 */
export function capacityShortfall(
  activities: readonly ActivityFacts[],
  inService: number,
  desired: number,
): string | undefined {
  if (inService >= desired) return undefined;
  const launches = activities.filter((a) => /^Launching a new EC2 instance/.test(a.description));
  const newest = launches.slice(0, LAUNCH_FAILURES_IN_A_ROW);
  if (newest.length < LAUNCH_FAILURES_IN_A_ROW || newest.some((a) => a.status !== 'Failed')) return undefined;
  const [launch] = newest as [ActivityFacts];
  const reason = (launch.statusMessage ?? launch.description).replace(/\.+$/, '');
  return `the group could not launch all ${desired} instances (${inService} in service so far): ${reason}`;
}

/** An instance the group terminated because it failed a health check (not a scale-in). */
const isReplacement = (a: ActivityFacts) =>
  /^Terminating EC2 instance/.test(a.description) && /health check/i.test(a.cause ?? '');

/**
 * How many instances the group replaced for failed health checks since it was made: a release
 * whose instances keep failing their checks is replaced over and over; more replacements than the
 * group's size is a release that does not stay healthy.
 */
export function replacements(activities: readonly ActivityFacts[]): number {
  return activities.filter(isReplacement).length;
}

/** The instances named by the replacements, for a cause (at most a few). */
export function replacedText(activities: readonly ActivityFacts[]): string {
  const ids = activities.filter(isReplacement).map((a) => /i-[0-9a-f]+/.exec(a.description)?.[0] ?? '?');
  return idList(ids);
}

/** A target tracking policy's resource label for the target group behind the load balancer (both ARN suffixes). */
export function resourceLabel(dimensions: {
  LoadBalancer?: string;
  TargetGroup: string;
}): string | undefined {
  return dimensions.LoadBalancer ? `${dimensions.LoadBalancer}/${dimensions.TargetGroup}` : undefined;
}

/** What names blue in a policy's settings, and what names green in its place. */
interface Retarget {
  blueGroup: string | undefined;
  greenGroup: string;
  /** The final portion of blue's target group ARN ("targetgroup/<name>/<id>"). */
  blueTargetGroup: string;
  greenResourceLabel: string;
}

/**
 * `value` with what names blue naming green: a resource label ending in blue's target group
 * (target tracking's and predictive scaling's predefined metrics) is green's label, and a metric
 * dimension AutoScalingGroupName naming blue's group (a customized metric) names green's.
 */
function retarget<T>(value: T, to: Retarget): T {
  if (Array.isArray(value)) return value.map((v) => retarget(v, to)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      key === 'ResourceLabel' && typeof v === 'string' && v.endsWith(`/${to.blueTargetGroup}`)
        ? to.greenResourceLabel
        : retarget(v, to);
  }
  if (out.Name === 'AutoScalingGroupName' && to.blueGroup !== undefined && out.Value === to.blueGroup)
    out.Value = to.greenGroup;
  return out as T;
}

/** Whether the policy's metrics name a load balancer's target group (a resource label). */
export function namesResourceLabel(policy: ScalingPolicy): boolean {
  return JSON.stringify([policy.TargetTrackingConfiguration, policy.PredictiveScalingConfiguration]).includes(
    '"ResourceLabel"',
  );
}

/**
 * One of blue's scaling policies as green's: the same settings on green's group. A policy on
 * requests per target names blue's load balancer and target group in its resource label
 * ("app/<load balancer>/<id>/targetgroup/<target group>/<id>"); green's names its own
 * (`greenResourceLabel`): each slot may be behind a load balancer of its own (traffic.mode route53).
 * A customized metric of blue's group (dimension AutoScalingGroupName) is green's group's.
 */
export function policyForGreen(
  policy: ScalingPolicy,
  greenGroup: string,
  blueTargetGroupArn: string,
  greenResourceLabel: string,
): PutScalingPolicyCommandInput {
  const to: Retarget = {
    blueGroup: policy.AutoScalingGroupName,
    greenGroup,
    blueTargetGroup: blueTargetGroupArn.slice(blueTargetGroupArn.indexOf('targetgroup/')),
    greenResourceLabel,
  };
  return {
    AutoScalingGroupName: greenGroup,
    PolicyName: policy.PolicyName,
    ...(policy.PolicyType ? { PolicyType: policy.PolicyType } : {}),
    ...(policy.AdjustmentType ? { AdjustmentType: policy.AdjustmentType } : {}),
    ...(policy.ScalingAdjustment !== undefined ? { ScalingAdjustment: policy.ScalingAdjustment } : {}),
    ...(policy.MinAdjustmentMagnitude !== undefined
      ? { MinAdjustmentMagnitude: policy.MinAdjustmentMagnitude }
      : {}),
    ...(policy.Cooldown !== undefined ? { Cooldown: policy.Cooldown } : {}),
    ...(policy.MetricAggregationType ? { MetricAggregationType: policy.MetricAggregationType } : {}),
    ...(policy.StepAdjustments ? { StepAdjustments: policy.StepAdjustments } : {}),
    ...(policy.EstimatedInstanceWarmup !== undefined
      ? { EstimatedInstanceWarmup: policy.EstimatedInstanceWarmup }
      : {}),
    ...(policy.Enabled !== undefined ? { Enabled: policy.Enabled } : {}),
    ...(policy.TargetTrackingConfiguration
      ? { TargetTrackingConfiguration: retarget(policy.TargetTrackingConfiguration, to) }
      : {}),
    ...(policy.PredictiveScalingConfiguration
      ? { PredictiveScalingConfiguration: retarget(policy.PredictiveScalingConfiguration, to) }
      : {}),
  };
}
