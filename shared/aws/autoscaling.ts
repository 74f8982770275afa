import {
  type Activity,
  AutoScalingClient,
  type AutoScalingGroup,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribePoliciesCommand,
  DescribeScalingActivitiesCommand,
  DetachLoadBalancerTargetGroupsCommand,
  PutScalingPolicyCommand,
  type PutScalingPolicyCommandInput,
  ResumeProcessesCommand,
  type ScalingPolicy,
  SuspendProcessesCommand,
} from '@aws-sdk/client-auto-scaling';
import { type Tags, toAwsTags } from '../domain/tags.ts';
import { isAlreadyExists } from './errors.ts';
import { everyPage } from './paging.ts';

export const autoscaling = new AutoScalingClient({});

/**
 * Page sizes and request limits of the Auto Scaling API (API reference, read 2026-12):
 * DescribeAutoScalingGroups MaxRecords at most 100; DescribeScalingActivities at most 100;
 * DescribeAutoScalingInstances at most 50 ids and 50 records; DescribePolicies at most 100.
 */
const PAGE = { groups: 100, activities: 100, instances: 50, policies: 100 } as const;
/** A slot holds one group, a few while one is being replaced: more pages is AWS misbehaving. */
const MAX_GROUP_PAGES = 10;
/** Activities are read newest first, and only the recent ones matter (see groupActivities). */
const MAX_ACTIVITY_PAGES = 5;

/** The processes that change a group's size by themselves: suspended while a group is blue. */
export const SIZE_PROCESSES = ['AlarmNotification', 'ScheduledActions', 'AZRebalance'] as const;

export interface GroupInstance {
  id: string;
  lifecycleState: string;
  healthStatus: string;
}

export interface GroupSummary {
  name: string;
  min: number;
  max: number;
  desired: number;
  healthCheckType: string;
  healthCheckGracePeriod: number;
  subnets: string[];
  targetGroupArns: string[];
  instances: GroupInstance[];
  suspended: string[];
  tags: Tags;
  /** The launch template version it launches from. */
  templateVersion?: string;
  /** Set while the group is being deleted ('Delete in progress'). */
  status?: string;
  createdAt?: string;
}

function summarize(group: AutoScalingGroup): GroupSummary {
  return {
    name: group.AutoScalingGroupName ?? '',
    min: group.MinSize ?? 0,
    max: group.MaxSize ?? 0,
    desired: group.DesiredCapacity ?? 0,
    healthCheckType: group.HealthCheckType ?? 'EC2',
    healthCheckGracePeriod: group.HealthCheckGracePeriod ?? 0,
    subnets: (group.VPCZoneIdentifier ?? '').split(',').filter(Boolean),
    targetGroupArns: group.TargetGroupARNs ?? [],
    instances: (group.Instances ?? []).map((i) => ({
      id: i.InstanceId ?? '',
      lifecycleState: i.LifecycleState ?? 'Pending',
      healthStatus: i.HealthStatus ?? 'Healthy',
    })),
    suspended: (group.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? '').filter(Boolean),
    tags: Object.fromEntries((group.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    ...(group.LaunchTemplate?.Version ? { templateVersion: group.LaunchTemplate.Version } : {}),
    ...(group.Status ? { status: group.Status } : {}),
    ...(group.CreatedTime ? { createdAt: new Date(group.CreatedTime).toISOString() } : {}),
  };
}

/** Whether the group is on its way out (DeleteAutoScalingGroup was called). */
export function isDeleting(group: GroupSummary): boolean {
  return group.status !== undefined && /delete/i.test(group.status);
}

async function describeGroups(
  input: { AutoScalingGroupNames?: string[]; Filters?: { Name: string; Values: string[] }[] },
  what: string,
): Promise<GroupSummary[]> {
  const groups: GroupSummary[] = [];
  for await (const page of everyPage(what, MAX_GROUP_PAGES, (NextToken) =>
    autoscaling.send(new DescribeAutoScalingGroupsCommand({ ...input, MaxRecords: PAGE.groups, NextToken })),
  )) {
    groups.push(...(page.AutoScalingGroups ?? []).map(summarize));
  }
  return groups;
}

/** The named groups that exist (a name Auto Scaling does not know is left out). */
export async function groupsByName(names: readonly string[]): Promise<GroupSummary[]> {
  const groups: GroupSummary[] = [];
  // At most 100 names in one request (AutoScalingGroupNames, API reference).
  for (let i = 0; i < names.length; i += PAGE.groups) {
    const chunk = names.slice(i, i + PAGE.groups);
    groups.push(...(await describeGroups({ AutoScalingGroupNames: chunk }, 'DescribeAutoScalingGroups')));
  }
  return groups;
}

/** The group of that name, or undefined when Auto Scaling does not know it. */
export async function groupByName(name: string): Promise<GroupSummary | undefined> {
  return (await groupsByName([name]))[0];
}

/** Every group carrying all the tags given (Auto Scaling's tag filters), being deleted or not. */
export async function groupsTagged(tags: Tags): Promise<GroupSummary[]> {
  const Filters = Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] }));
  return (await describeGroups({ Filters }, 'DescribeAutoScalingGroups by tag')).filter((g) =>
    Object.entries(tags).every(([key, value]) => g.tags[key] === value),
  );
}

/** The groups the instances belong to, by name (instances in no group are left out). */
export async function groupsOfInstances(instanceIds: readonly string[]): Promise<string[]> {
  const names = new Set<string>();
  for (let i = 0; i < instanceIds.length; i += PAGE.instances) {
    const InstanceIds = instanceIds.slice(i, i + PAGE.instances);
    for await (const page of everyPage('DescribeAutoScalingInstances', 2, (NextToken) =>
      autoscaling.send(
        new DescribeAutoScalingInstancesCommand({ InstanceIds, MaxRecords: PAGE.instances, NextToken }),
      ),
    )) {
      for (const instance of page.AutoScalingInstances ?? [])
        if (instance.AutoScalingGroupName) names.add(instance.AutoScalingGroupName);
    }
  }
  return [...names].sort();
}

export interface GroupActivity {
  description: string;
  cause?: string;
  status: string;
  statusMessage?: string;
  startedAt?: string;
}

function activity(a: Activity): GroupActivity {
  return {
    description: a.Description ?? '',
    ...(a.Cause ? { cause: a.Cause } : {}),
    status: a.StatusCode ?? '',
    ...(a.StatusMessage ? { statusMessage: a.StatusMessage } : {}),
    ...(a.StartTime ? { startedAt: new Date(a.StartTime).toISOString() } : {}),
  };
}

/**
 * The group's scaling activities, newest first, back to `since` (ISO 8601): Auto Scaling keeps six
 * weeks of them, and only those of this deployment matter. Read page by page until one is older.
 */
export async function groupActivities(name: string, since: string): Promise<GroupActivity[]> {
  const found: GroupActivity[] = [];
  for await (const page of everyPage(
    'DescribeScalingActivities',
    MAX_ACTIVITY_PAGES,
    (NextToken) =>
      autoscaling.send(
        new DescribeScalingActivitiesCommand({
          AutoScalingGroupName: name,
          MaxRecords: PAGE.activities,
          NextToken,
        }),
      ),
    `for group ${name}`,
  )) {
    const activities = (page.Activities ?? []).map(activity);
    const recent = activities.filter((a) => !a.startedAt || a.startedAt >= since);
    found.push(...recent);
    if (recent.length < activities.length) break;
  }
  return found;
}

/** What a green group is made of. */
export interface NewGroup {
  name: string;
  /** The config's launch template (id or name) at the version holding green's AMI. */
  launchTemplate: { id?: string | undefined; name?: string | undefined; version: string };
  min: number;
  max: number;
  desired: number;
  subnets: string[];
  targetGroupArn: string;
  healthCheckGracePeriod: number;
  tags: Tags;
}

/**
 * Creates the group, or finds it when a retried call already did (AlreadyExists): the caller checks
 * the group found is its own by its tags. Returns whether this call created it.
 */
export async function createGroup(group: NewGroup): Promise<boolean> {
  try {
    await autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: group.name,
        LaunchTemplate: {
          ...(group.launchTemplate.id
            ? { LaunchTemplateId: group.launchTemplate.id }
            : { LaunchTemplateName: group.launchTemplate.name }),
          Version: group.launchTemplate.version,
        },
        MinSize: group.min,
        MaxSize: group.max,
        DesiredCapacity: group.desired,
        VPCZoneIdentifier: group.subnets.join(','),
        TargetGroupARNs: [group.targetGroupArn],
        HealthCheckType: 'ELB',
        HealthCheckGracePeriod: group.healthCheckGracePeriod,
        Tags: toAwsTags(group.tags).map((t) => ({
          ...t,
          PropagateAtLaunch: true,
          ResourceId: group.name,
          ResourceType: 'auto-scaling-group',
        })),
      }),
    );
    return true;
  } catch (error) {
    if (isAlreadyExists(error)) return false;
    throw error;
  }
}

/** The group's scaling policies. */
export async function groupPolicies(name: string): Promise<ScalingPolicy[]> {
  const policies: ScalingPolicy[] = [];
  for await (const page of everyPage('DescribePolicies', 5, (NextToken) =>
    autoscaling.send(
      new DescribePoliciesCommand({ AutoScalingGroupName: name, MaxRecords: PAGE.policies, NextToken }),
    ),
  )) {
    policies.push(...(page.ScalingPolicies ?? []));
  }
  return policies;
}

/** Writes a policy on the group (the same name again overwrites it: idempotent). */
export async function putPolicy(input: PutScalingPolicyCommandInput): Promise<void> {
  await autoscaling.send(new PutScalingPolicyCommand(input));
}

export async function suspendProcesses(name: string, processes: readonly string[]): Promise<void> {
  await autoscaling.send(
    new SuspendProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: [...processes] }),
  );
}

export async function resumeProcesses(name: string, processes: readonly string[]): Promise<void> {
  await autoscaling.send(
    new ResumeProcessesCommand({ AutoScalingGroupName: name, ScalingProcesses: [...processes] }),
  );
}

/**
 * Detaches the target group: Auto Scaling deregisters the group's instances (they drain for the
 * deregistration delay) and registers no new one there.
 */
export async function detachTargetGroup(name: string, targetGroupArn: string): Promise<void> {
  await autoscaling.send(
    new DetachLoadBalancerTargetGroupsCommand({
      AutoScalingGroupName: name,
      TargetGroupARNs: [targetGroupArn],
    }),
  );
}

/**
 * Deletes the group and terminates its instances (ForceDelete). A group already gone counts as
 * deleted: a retried task finishes what a failed one started.
 */
export async function deleteGroup(name: string): Promise<void> {
  try {
    await autoscaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }),
    );
  } catch (error) {
    if (error instanceof Error && /not found/i.test(error.message)) return;
    throw error;
  }
}
