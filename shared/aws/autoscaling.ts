import {
  type Activity,
  AutoScalingClient,
  type AutoScalingGroup,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  DescribeScalingActivitiesCommand,
  DetachLoadBalancerTargetGroupsCommand,
  type Filter,
  PutScalingPolicyCommand,
  type PutScalingPolicyCommandInput,
  ResumeProcessesCommand,
  type ScalingPolicy,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import type { ActivityFacts, GroupMember } from '../domain/groups.ts';
import type { Tags } from '../domain/tags.ts';
import { AwsTransient } from '../errors.ts';
import { isAlreadyExists } from './errors.ts';
import { everyPage } from './paging.ts';

/** Auto Scaling, for fleets that are groups (fleet.kind autoScalingGroup). */
export const autoscaling = new AutoScalingClient({});

/**
 * What one request may hold, from the Amazon EC2 Auto Scaling API reference (read 2026-12):
 * DescribeAutoScalingGroups MaxRecords "The default value is 50 and the maximum value is 100";
 * DescribeScalingActivities MaxRecords "The default value is 100 and the maximum value is 100";
 * DescribePolicies MaxRecords "The default value is 50 and the maximum value is 100" (SDK model docs).
 */
const MAX_RECORDS = { groups: 100, activities: 100, policies: 100 } as const;

/**
 * Pages read at most: 100 pages of groups is 10,000 groups (far beyond one account's quota of
 * 500 a Region). Activities are read only as far back as a deployment needs: a group of 1,000
 * launched (1,000 activities) and replacing more than its size (over 2,000 more) fits in 100 pages.
 */
const MAX_PAGES = { groups: 100, activities: 100, policies: 20 } as const;

/** A group as the service uses it. */
export interface GroupSummary {
  name: string;
  desired: number;
  min: number;
  max: number;
  targetGroupArns: string[];
  /** VPCZoneIdentifier: the subnets it launches into, comma-separated. */
  subnets: string;
  healthCheckType: string;
  gracePeriodSeconds: number;
  launchTemplate?: { id: string; version: string };
  members: GroupMember[];
  suspended: string[];
  tags: Tags;
  /** Set while a deletion is under way ('Delete in progress'). */
  deleting: boolean;
  createdAt?: string;
}

function summarize(group: AutoScalingGroup): GroupSummary {
  const template =
    group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  return {
    name: group.AutoScalingGroupName ?? '',
    desired: group.DesiredCapacity ?? 0,
    min: group.MinSize ?? 0,
    max: group.MaxSize ?? 0,
    targetGroupArns: group.TargetGroupARNs ?? [],
    subnets: group.VPCZoneIdentifier ?? '',
    healthCheckType: group.HealthCheckType ?? 'EC2',
    gracePeriodSeconds: group.HealthCheckGracePeriod ?? 0,
    ...(template?.LaunchTemplateId
      ? { launchTemplate: { id: template.LaunchTemplateId, version: template.Version ?? '$Default' } }
      : {}),
    members: (group.Instances ?? []).map((i) => ({
      id: i.InstanceId ?? '',
      lifecycleState: i.LifecycleState ?? 'Pending',
      healthStatus: i.HealthStatus ?? 'Healthy',
    })),
    suspended: (group.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? ''),
    tags: Object.fromEntries((group.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    deleting: group.Status === 'Delete in progress',
    ...(group.CreatedTime ? { createdAt: new Date(group.CreatedTime).toISOString() } : {}),
  };
}

async function describeGroups(query: { names?: string[]; filters?: Filter[] }): Promise<GroupSummary[]> {
  const found: GroupSummary[] = [];
  const pages = everyPage('DescribeAutoScalingGroups', MAX_PAGES.groups, (NextToken) =>
    autoscaling.send(
      new DescribeAutoScalingGroupsCommand({
        ...(query.names ? { AutoScalingGroupNames: query.names } : {}),
        ...(query.filters ? { Filters: query.filters } : {}),
        MaxRecords: MAX_RECORDS.groups,
        NextToken,
      }),
    ),
  );
  for await (const out of pages) found.push(...(out.AutoScalingGroups ?? []).map(summarize));
  return found;
}

/** The group of that name; undefined when there is none (or it is gone). */
export async function findGroup(name: string): Promise<GroupSummary | undefined> {
  const [group] = await describeGroups({ names: [name] });
  return group;
}

/** Every group carrying all the tags given. */
export function groupsTagged(tags: Tags): Promise<GroupSummary[]> {
  return describeGroups({
    filters: Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
  });
}

/**
 * Every group of the account, whoever made it, page by page: DescribeAutoScalingGroups has no
 * filter by target group, so finding the groups attached to one reads them all.
 */
export function allGroups(): Promise<GroupSummary[]> {
  return describeGroups({});
}

/**
 * The group's scaling activities, newest first, as far back as `since` (activities are listed
 * newest first, so reading stops at the first page that reaches back that far).
 */
export async function groupActivities(name: string, since: Date): Promise<ActivityFacts[]> {
  const found: ActivityFacts[] = [];
  const pages = everyPage('DescribeScalingActivities', MAX_PAGES.activities, (NextToken) =>
    autoscaling.send(
      new DescribeScalingActivitiesCommand({
        AutoScalingGroupName: name,
        MaxRecords: MAX_RECORDS.activities,
        NextToken,
      }),
    ),
  );
  for await (const out of pages) {
    const activities: Activity[] = out.Activities ?? [];
    for (const a of activities) {
      if (a.StartTime && new Date(a.StartTime).getTime() < since.getTime()) return found;
      found.push({
        description: a.Description ?? '',
        cause: a.Cause,
        status: a.StatusCode ?? '',
        statusMessage: a.StatusMessage,
      });
    }
  }
  return found;
}

/** The group's scaling policies. */
export async function groupPolicies(name: string): Promise<ScalingPolicy[]> {
  const found: ScalingPolicy[] = [];
  const pages = everyPage('DescribePolicies', MAX_PAGES.policies, (NextToken) =>
    autoscaling.send(
      new DescribePoliciesCommand({
        AutoScalingGroupName: name,
        MaxRecords: MAX_RECORDS.policies,
        NextToken,
      }),
    ),
  );
  for await (const out of pages) found.push(...(out.ScalingPolicies ?? []));
  return found;
}

export interface NewGroup {
  name: string;
  launchTemplate: { id: string; version: string };
  desired: number;
  min: number;
  max: number;
  subnets: string;
  targetGroupArn: string;
  gracePeriodSeconds: number;
  /** Tagged at creation, and each tag propagated to the instances the group launches. */
  tags: Tags;
}

/**
 * Creates the group, with the ELB health check (an instance its target group reports unhealthy is
 * replaced). Idempotent: a group of that name already there is reported as `existed`, for the
 * caller to check it is the one it meant.
 */
export async function createGroup(group: NewGroup): Promise<'created' | 'existed'> {
  try {
    await autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: group.name,
        LaunchTemplate: { LaunchTemplateId: group.launchTemplate.id, Version: group.launchTemplate.version },
        MinSize: group.min,
        MaxSize: group.max,
        DesiredCapacity: group.desired,
        VPCZoneIdentifier: group.subnets,
        TargetGroupARNs: [group.targetGroupArn],
        HealthCheckType: 'ELB',
        HealthCheckGracePeriod: group.gracePeriodSeconds,
        Tags: Object.entries(group.tags).map(([Key, Value]) => ({
          Key,
          Value,
          PropagateAtLaunch: true,
          ResourceId: group.name,
          ResourceType: 'auto-scaling-group',
        })),
      }),
    );
    return 'created';
  } catch (error) {
    if (isAlreadyExists(error)) return 'existed';
    throw error;
  }
}

/** Creates or replaces one scaling policy (PutScalingPolicy is an upsert by name). */
export async function putPolicy(policy: PutScalingPolicyCommandInput): Promise<void> {
  await autoscaling.send(new PutScalingPolicyCommand(policy));
}

/**
 * The processes that change a group's size on their own: its scaling policies' alarms and its
 * scheduled actions. Suspended, the group keeps its size but still replaces failed instances.
 */
export const SIZE_PROCESSES = ['AlarmNotification', 'ScheduledActions'];

/** Suspends the processes (suspending them again is a no-op). */
export async function suspendProcesses(name: string, processes: string[]): Promise<void> {
  await autoscaling.send(
    new SuspendProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: processes }),
  );
}

/** Resumes the processes (resuming ones that run is a no-op). */
export async function resumeProcesses(name: string, processes: string[]): Promise<void> {
  await autoscaling.send(
    new ResumeProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: processes }),
  );
}

/** Sets the group's minimum size (its desired capacity and maximum stay as they are). */
export async function setMinSize(name: string, min: number): Promise<void> {
  await autoscaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: min }));
}

/**
 * Detaches the group from the target group: Auto Scaling deregisters its instances (so they drain
 * for the deregistration delay) and registers no new ones.
 */
export async function detachFromTargetGroup(name: string, targetGroupArn: string): Promise<void> {
  await autoscaling.send(
    new DetachLoadBalancerTargetGroupsCommand({
      AutoScalingGroupName: name,
      TargetGroupARNs: [targetGroupArn],
    }),
  );
}

/** Auto Scaling's answer when the group named is not there: "AutoScalingGroup name not found". */
function isGroupGone(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationError' && /not found/i.test(error.message);
}

/**
 * Deletes the group and terminates its instances (ForceDelete). Idempotent: a group already gone
 * is fine. A deletion refused because an activity is under way is retried (AwsTransient).
 */
export async function deleteGroup(name: string): Promise<void> {
  try {
    await autoscaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }),
    );
  } catch (error) {
    if (isGroupGone(error)) return;
    if (error instanceof Error && /ScalingActivityInProgress|ResourceContention/.test(error.name))
      throw new AwsTransient(`deleting Auto Scaling group ${name}: ${error.message}`, { cause: error });
    throw error;
  }
}
