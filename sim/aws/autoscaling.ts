import type { WorldContext } from './context.ts';
import type { Ec2Model, SimInstance } from './ec2.ts';
import type { Elbv2Model } from './elbv2.ts';
import { awsError } from './errors.ts';

type Tags = Record<string, string>;

/** One member of a simulated group, as Auto Scaling reports it. */
export interface SimGroupMember {
  id: string;
  /** Pending, InService, Terminating, … */
  lifecycleState: string;
  /** Healthy or Unhealthy. */
  healthStatus: string;
  /** The launch template version it was launched from, as the group named it then. */
  launchTemplate: { id: string; name: string; version: string };
  launchedAt: number;
  /** The target groups the group registered it in (and has not deregistered it from). */
  registeredIn: Set<string>;
  /** Once Terminating: when the group terminates it (after the deregistration delay). */
  terminateAt?: number;
  /**
   * Once Terminating, why: the group replacing it (a failed health check), shrinking to its desired
   * capacity, or the group being deleted (DeleteAutoScalingGroup, a caller's doing).
   */
  terminationReason?: 'replacement' | 'scale-in' | 'deletion';
  /** The activity that launched it (in progress until it is InService). */
  launchActivity?: SimActivity;
  /** The activity that terminates it (in progress until EC2 says terminated). */
  terminateActivity?: SimActivity;
}

/** A scaling activity, newest first in the group's history. */
export interface SimActivity {
  id: string;
  description: string;
  cause: string;
  status: 'Successful' | 'Failed' | 'InProgress';
  statusMessage?: string;
  startedAt: number;
  endedAt?: number;
}

/** A simulated Auto Scaling group. */
export interface SimGroup {
  name: string;
  arn: string;
  launchTemplate: { id: string; name: string; version: string };
  min: number;
  max: number;
  desired: number;
  targetGroupArns: string[];
  healthCheckType: string;
  gracePeriodSeconds: number;
  /** Comma-separated subnet ids (VPCZoneIdentifier). */
  subnets: string;
  tags: Tags;
  /** Tags copied to the instances the group launches. */
  propagated: Set<string>;
  suspended: Set<string>;
  members: Map<string, SimGroupMember>;
  /** Newest first. */
  activities: SimActivity[];
  policies: Record<string, unknown>[];
  createdAt: number;
  /** Set by DeleteAutoScalingGroup: the group is gone once its instances are. */
  deletingSince?: number;
  /** After a launch failed: no launch is tried again before this. */
  nextLaunchAt?: number;
  /** What last changed the desired capacity, as the Cause of the launches and terminations it brings. */
  desiredCause?: string;
}

/**
 * The processes a group runs, each of which SuspendProcesses can stop (API reference,
 * SuspendProcesses: "Launch, Terminate, AddToLoadBalancer, AlarmNotification, AZRebalance,
 * HealthCheck, InstanceRefresh, ReplaceUnhealthy, ScheduledActions"). With none named, all are.
 */
export const SCALING_PROCESSES = [
  'Launch',
  'Terminate',
  'AddToLoadBalancer',
  'AlarmNotification',
  'AZRebalance',
  'HealthCheck',
  'InstanceRefresh',
  'ReplaceUnhealthy',
  'ScheduledActions',
] as const;

/**
 * Page sizes and request limits of the Auto Scaling API (API reference, read 2026-12):
 * DescribeAutoScalingGroups MaxRecords "The default value is 50 and the maximum value is 100", and
 * AutoScalingGroupNames "By default, you can only specify up to 50 names. You can optionally increase
 * this limit using the MaxRecords property"; DescribeScalingActivities MaxRecords "The default value
 * is 100 and the maximum value is 100", ActivityIds "Maximum number of 50 IDs"; DescribePolicies
 * MaxRecords default 50, maximum 100, PolicyNames "Maximum number of 50 items";
 * DescribeAutoScalingInstances InstanceIds "Array Members: Maximum number of 50 items", MaxRecords
 * "The default value is 50 and the maximum value is 50"; DetachLoadBalancerTargetGroups
 * TargetGroupARNs "You can specify up to 10 target groups"; 50 tags per group (Auto Scaling quotas).
 */
export const AUTOSCALING_LIMITS = {
  groups: { default: 50, max: 100 },
  activities: { default: 100, max: 100, ids: 50 },
  policies: { default: 50, max: 100, names: 50 },
  instances: { default: 50, max: 50, ids: 50 },
  detachTargetGroups: 10,
  tagsPerGroup: 50,
  /**
   * "Auto Scaling groups per region: 500", the default quota (Quotas for Auto Scaling resources and
   * groups, https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-account-limits.html, read
   * 2026-12); a group being deleted still counts until it is gone.
   */
  groupsPerRegion: 500,
} as const;

/** How often a group that could not launch tries again (the simulator's pace, not AWS's back-off). */
const LAUNCH_RETRY_SECONDS = 10;

/**
 * How long a group's activities are kept: "Only activities started within the last six weeks can
 * be returned" (API reference, DescribeScalingActivities ActivityIds, read 2026-12).
 */
const ACTIVITY_RETENTION_MS = 6 * 7 * 86_400_000;

/**
 * Activities kept per group at most, the simulator's own bound within those six weeks (a group
 * short of capacity for days would fail a launch every LAUNCH_RETRY_SECONDS). It holds a deploy of
 * the largest group many times over: 1,000 launches (the ALB's 1,000 targets per target group),
 * and a termination and a launch for each instance replaced, all of which the service reads back
 * to count the replacements since green's launch.
 */
const ACTIVITY_HISTORY = 10_000;

/** The tag Auto Scaling puts on every instance it launches, naming its group. */
export const GROUP_NAME_TAG = 'aws:autoscaling:groupName';

function validation(message: string) {
  return awsError('ValidationError', message);
}

function notFound(name: string) {
  return validation(`AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
}

/** A MaxRecords past its maximum fails, as the API's member constraint answers. */
function pageSize(maxRecords: number | undefined, limits: { default: number; max: number }): number {
  const size = maxRecords ?? limits.default;
  if (!Number.isInteger(size) || size < 1 || size > limits.max)
    throw validation(
      `1 validation error detected: Value '${size}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and ${limits.max}`,
    );
  return size;
}

function iso(at: number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Auto Scaling groups: each keeps its desired capacity of instances from its launch template
 * version, launched through the EC2 model (its capacity, its rate limits, its AMIs), registered in
 * the group's target groups once running, and replaced when EC2 or (HealthCheckType ELB, after the
 * grace period) the target group finds them unhealthy; terminations are deregistered first and wait
 * out the deregistration delay. The model is brought up to date lazily, by reconcile().
 */
export class AutoScalingModel {
  readonly groups = new Map<string, SimGroup>();
  /** Pages of answers not yet read, by their NextToken. */
  private readonly pages = new Map<string, unknown[]>();
  private pageCount = 0;
  private reconciling = false;

  constructor(
    readonly world: WorldContext,
    readonly ec2: Ec2Model,
    readonly elbv2: Elbv2Model,
    readonly account = '123456789012',
  ) {}

  // ---------------------------------------------------------------- reconciling

  /** Brings every group up to date with the time (launches, replacements, deletions). */
  reconcile(): void {
    if (this.reconciling) return;
    this.reconciling = true;
    try {
      for (const group of [...this.groups.values()]) this.reconcileGroup(group);
    } finally {
      this.reconciling = false;
    }
  }

  private reconcileGroup(group: SimGroup): void {
    for (const member of [...group.members.values()]) this.reconcileMember(group, member);
    if (group.deletingSince !== undefined) {
      if (group.members.size === 0) this.groups.delete(group.name);
      return;
    }
    const active = [...group.members.values()].filter((m) => m.lifecycleState !== 'Terminating');
    if (active.length < group.desired) this.launchToward(group, group.desired - active.length);
    else if (active.length > group.desired && !group.suspended.has('Terminate'))
      this.scaleIn(group, active, active.length - group.desired);
  }

  private reconcileMember(group: SimGroup, member: SimGroupMember): void {
    const instance = this.ec2.instances.get(member.id);
    const state = instance ? this.ec2.state(instance) : 'terminated';
    const now = this.world.now();
    if (member.lifecycleState === 'Terminating') {
      if (instance && member.terminateAt !== undefined && now >= member.terminateAt) this.terminate(instance);
      if (!instance || this.ec2.state(instance) === 'terminated') {
        group.members.delete(member.id);
        if (member.terminateActivity) this.end(member.terminateActivity, 'Successful');
      }
      return;
    }
    if (state === 'shutting-down' || state === 'terminated') {
      // EC2's health check: an instance stopped or terminated by anything but the group.
      member.healthStatus = 'Unhealthy';
      if (member.launchActivity?.status === 'InProgress')
        this.end(member.launchActivity, 'Failed', instance?.stateReason ?? 'Instance terminated.');
      this.startTermination(
        group,
        member,
        'replacement',
        `At ${iso(now)} an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.`,
        true,
      );
      return;
    }
    if (member.lifecycleState === 'Pending') {
      if (state !== 'running') return;
      if (!group.suspended.has('AddToLoadBalancer') && !this.register(group, member)) return;
      member.lifecycleState = 'InService';
      if (member.launchActivity) this.end(member.launchActivity, 'Successful');
      return;
    }
    if (
      group.healthCheckType === 'ELB' &&
      !group.suspended.has('HealthCheck') &&
      now >= member.launchedAt + group.gracePeriodSeconds * 1000 &&
      this.reportedUnhealthy(group, member)
    ) {
      member.healthStatus = 'Unhealthy';
      if (group.suspended.has('ReplaceUnhealthy')) return;
      this.startTermination(
        group,
        member,
        'replacement',
        `At ${iso(now)} an instance was taken out of service in response to an ELB system health check failure.`,
        false,
      );
    }
  }

  /** Registers a running member in each of the group's target groups, as RegisterTargets does. */
  private register(group: SimGroup, member: SimGroupMember): boolean {
    try {
      for (const arn of group.targetGroupArns) {
        if (member.registeredIn.has(arn)) continue;
        this.elbv2.RegisterTargets({ TargetGroupArn: arn, Targets: [{ Id: member.id }] });
        member.registeredIn.add(arn);
      }
      return true;
    } catch {
      // A target group gone or full: the member stays Pending and the next reconcile tries again.
      return false;
    }
  }

  /** Whether one of the target groups the member is registered in reports it unhealthy. */
  private reportedUnhealthy(group: SimGroup, member: SimGroupMember): boolean {
    return group.targetGroupArns.some((arn) => {
      const targetGroup = this.elbv2.targetGroups.get(arn);
      return (
        targetGroup !== undefined &&
        member.registeredIn.has(arn) &&
        this.elbv2.health(targetGroup, member.id).State === 'unhealthy'
      );
    });
  }

  /**
   * Takes a member out of service: deregistered from its target groups, then terminated through
   * EC2 once the longest deregistration delay has passed (at once when `now` is set: ForceDelete,
   * which terminates before it deregisters, or an instance EC2 already took down).
   */
  private startTermination(
    group: SimGroup,
    member: SimGroupMember,
    reason: NonNullable<SimGroupMember['terminationReason']>,
    cause: string,
    now: boolean,
  ): void {
    const at = this.world.now();
    const instance = this.ec2.instances.get(member.id);
    // ForceDelete does not drain: what is still registered is terminated as it is, then deregistered
    // (the monitor sees a deletion of a group still serving for what it is).
    if (reason === 'deletion' && instance) this.terminate(instance);
    let delaySeconds = 0;
    for (const arn of member.registeredIn) {
      const targetGroup = this.elbv2.targetGroups.get(arn);
      if (!targetGroup) continue;
      this.elbv2.DeregisterTargets({ TargetGroupArn: arn, Targets: [{ Id: member.id }] });
      delaySeconds = Math.max(delaySeconds, targetGroup.deregistrationDelaySeconds);
    }
    member.registeredIn.clear();
    member.lifecycleState = 'Terminating';
    member.terminationReason = reason;
    member.terminateAt = now ? at : at + delaySeconds * 1000;
    member.terminateActivity = this.record(group, {
      description: `Terminating EC2 instance: ${member.id}`,
      cause,
      status: 'InProgress',
    });
    if (instance && at >= member.terminateAt) this.terminate(instance);
  }

  /** Terminates through the EC2 model (its hooks fire), unless EC2 is already at it. */
  private terminate(instance: SimInstance): void {
    if (instance.terminateRequestedAt !== undefined || this.ec2.state(instance) === 'terminated') return;
    if (!this.ec2.listed(instance)) return;
    try {
      this.ec2.TerminateInstances({ InstanceIds: [instance.id] });
    } catch {
      // Throttled by EC2's buckets: the next reconcile tries again.
    }
  }

  /** Launches up to `count` instances, one activity each; stops at the first that fails. */
  private launchToward(group: SimGroup, count: number): void {
    const now = this.world.now();
    if (group.suspended.has('Launch')) return;
    if (group.nextLaunchAt !== undefined && now < group.nextLaunchAt) return;
    let actual = [...group.members.values()].filter((m) => m.lifecycleState !== 'Terminating').length;
    const prefix = group.desiredCause ? `${group.desiredCause}  ` : '';
    for (let i = 0; i < count; i++) {
      const cause = `${prefix}At ${iso(now)} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${actual} to ${actual + 1}.`;
      try {
        const instance = this.launchOne(group);
        const member: SimGroupMember = {
          id: instance.id,
          lifecycleState: 'Pending',
          healthStatus: 'Healthy',
          launchTemplate: { ...group.launchTemplate },
          launchedAt: now,
          registeredIn: new Set(),
        };
        member.launchActivity = this.record(group, {
          description: `Launching a new EC2 instance: ${instance.id}`,
          cause,
          status: 'InProgress',
        });
        group.members.set(member.id, member);
        actual += 1;
        delete group.nextLaunchAt;
      } catch (error) {
        const message = `${(error as Error).message} Launching EC2 instance failed.`;
        this.record(group, {
          description: `Launching a new EC2 instance.  Status Reason: ${message}`,
          cause,
          status: 'Failed',
          statusMessage: message,
        });
        group.nextLaunchAt = now + LAUNCH_RETRY_SECONDS * 1000;
        return;
      }
    }
  }

  /** One instance from the group's launch template version, tagged with its propagated tags. */
  private launchOne(group: SimGroup): SimInstance {
    const template = this.ec2.launchTemplate({ id: group.launchTemplate.id });
    const version = this.ec2.templateVersion(template, group.launchTemplate.version);
    const tags = {
      ...Object.fromEntries(Object.entries(group.tags).filter(([key]) => group.propagated.has(key))),
      [GROUP_NAME_TAG]: group.name,
    };
    const out = this.ec2.RunInstances({
      LaunchTemplate: { LaunchTemplateId: template.id, Version: String(version) },
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [
        { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    });
    return this.ec2.instances.get(out.Instances[0]?.InstanceId ?? '') as SimInstance;
  }

  /**
   * Terminates `count` members past the desired capacity: first those launched from another
   * template version than the group's (the default termination policy's "oldest launch template"),
   * then the oldest.
   */
  private scaleIn(group: SimGroup, active: SimGroupMember[], count: number): void {
    const current = (m: SimGroupMember) =>
      m.launchTemplate.version === group.launchTemplate.version ? 1 : 0;
    const order = [...active].sort((a, b) => current(a) - current(b) || a.launchedAt - b.launchedAt);
    const now = this.world.now();
    let actual = active.length;
    const prefix = group.desiredCause ? `${group.desiredCause}  ` : '';
    for (const member of order.slice(0, count)) {
      this.startTermination(
        group,
        member,
        'scale-in',
        `${prefix}At ${iso(now)} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${actual} to ${actual - 1}.`,
        false,
      );
      actual -= 1;
    }
  }

  private record(group: SimGroup, activity: Omit<SimActivity, 'id' | 'startedAt'>): SimActivity {
    const hex = this.world.id('', 32);
    const full: SimActivity = {
      id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
      startedAt: this.world.now(),
      ...activity,
    };
    if (full.status !== 'InProgress') full.endedAt = full.startedAt;
    group.activities.unshift(full);
    if (group.activities.length > ACTIVITY_HISTORY) group.activities.length = ACTIVITY_HISTORY;
    const kept = this.retained(group.activities);
    if (kept < group.activities.length) group.activities.length = kept;
    return full;
  }

  /** How many of the activities (newest first) started within the retention period. */
  private retained(activities: readonly SimActivity[]): number {
    const from = this.world.now() - ACTIVITY_RETENTION_MS;
    let kept = activities.length;
    while (kept > 0 && (activities[kept - 1]?.startedAt ?? 0) < from) kept -= 1;
    return kept;
  }

  private end(activity: SimActivity, status: 'Successful' | 'Failed', message?: string): void {
    activity.status = status;
    activity.endedAt = this.world.now();
    if (message !== undefined) activity.statusMessage = message;
  }

  // ---------------------------------------------------------------- load and the starting world

  /**
   * Load asks the group to scale to `desired` (clamped to its min and max), as a scaling policy's
   * alarm would. Ignored while AlarmNotification is suspended (the alarm's actions do not run) or
   * the group is being deleted. Returns whether it applied.
   */
  demand(name: string, desired: number): boolean {
    const group = this.groups.get(name);
    if (!group || group.deletingSince !== undefined || group.suspended.has('AlarmNotification')) return false;
    const next = Math.min(group.max, Math.max(group.min, desired));
    if (next !== group.desired)
      group.desiredCause = `At ${iso(this.world.now())} a monitor alarm in state ALARM triggered a scaling policy changing the desired capacity from ${group.desired} to ${next}.`;
    group.desired = next;
    return true;
  }

  /**
   * A group as if made earlier (the starting world of scenarios): `count` instances launched at
   * `at`, InService and registered in its target groups. Without a launch template version, one
   * is made with the AMI, as the service makes green's.
   */
  seedGroup(seed: {
    name: string;
    launchTemplate: { id?: string; name?: string; version?: string };
    imageId: string;
    count: number;
    min?: number;
    max?: number;
    desired?: number;
    targetGroupArns: string[];
    subnets: string[];
    /** Every tag is propagated to the instances. */
    tags: Tags;
    healthCheckType?: string;
    gracePeriodSeconds?: number;
    suspended?: string[];
    at: number;
  }): SimGroup {
    const template = this.ec2.launchTemplate(seed.launchTemplate);
    const version =
      seed.launchTemplate.version ??
      String(
        this.ec2.CreateLaunchTemplateVersion({
          LaunchTemplateId: template.id,
          SourceVersion: '$Default',
          LaunchTemplateData: { ImageId: seed.imageId },
          VersionDescription: `${seed.name} (starting world)`,
        }).LaunchTemplateVersion.VersionNumber,
      );
    const group = this.newGroup({
      name: seed.name,
      launchTemplate: { id: template.id, name: template.name, version },
      min: seed.min ?? seed.count,
      max: seed.max ?? seed.count,
      desired: seed.desired ?? seed.count,
      targetGroupArns: [...seed.targetGroupArns],
      healthCheckType: seed.healthCheckType ?? 'ELB',
      gracePeriodSeconds: seed.gracePeriodSeconds ?? 300,
      subnets: seed.subnets.join(','),
      tags: { ...seed.tags },
      propagated: new Set(Object.keys(seed.tags)),
      suspended: new Set(seed.suspended ?? []),
      createdAt: seed.at,
    });
    for (let i = 0; i < seed.count; i++) {
      const instance = this.ec2.seedInstance(
        { ...seed.tags, [GROUP_NAME_TAG]: seed.name },
        seed.imageId,
        seed.at,
      );
      for (const arn of group.targetGroupArns)
        this.elbv2.targetGroups.get(arn)?.registrations.set(instance.id, { registeredAt: seed.at });
      group.members.set(instance.id, {
        id: instance.id,
        lifecycleState: 'InService',
        healthStatus: 'Healthy',
        launchTemplate: { ...group.launchTemplate },
        launchedAt: seed.at,
        registeredIn: new Set(group.targetGroupArns.filter((arn) => this.elbv2.targetGroups.has(arn))),
      });
    }
    return group;
  }

  private newGroup(
    fields: Omit<SimGroup, 'arn' | 'members' | 'activities' | 'policies'> & { createdAt: number },
  ): SimGroup {
    const hex = this.world.id('', 32);
    const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const group: SimGroup = {
      ...fields,
      arn: `arn:aws:autoscaling:${this.world.region}:${this.account}:autoScalingGroup:${uuid}:autoScalingGroupName/${fields.name}`,
      members: new Map(),
      activities: [],
      policies: [],
    };
    this.groups.set(group.name, group);
    return group;
  }

  // ---------------------------------------------------------------- the API

  /** The group an instance is a member of, and the member (undefined when it is in none). */
  memberOf(instanceId: string): { group: SimGroup; member: SimGroupMember } | undefined {
    for (const group of this.groups.values()) {
      const member = group.members.get(instanceId);
      if (member) return { group, member };
    }
    return undefined;
  }

  /** The group of that name, to change: one being deleted takes no change. */
  private live(name: string | undefined): SimGroup {
    const group = this.groups.get(name ?? '');
    if (!group) throw notFound(name ?? '');
    if (group.deletingSince !== undefined)
      throw awsError(
        'ScalingActivityInProgressFault',
        `AutoScalingGroup '${group.name}' is pending delete: it takes no change.`,
      );
    return group;
  }

  private pageToken(): string {
    this.pageCount += 1;
    return `asg-page-${this.pageCount}`;
  }

  /** One page of an answer, and the token of the rest (kept under it until read). */
  private page<T>(items: T[] | undefined, token: string | undefined, size: number) {
    let all = items;
    if (token !== undefined) {
      all = this.pages.get(token) as T[] | undefined;
      if (!all) throw awsError('InvalidNextToken', `The token '${token}' is invalid.`);
      this.pages.delete(token);
    }
    const list = all ?? [];
    const rest = list.slice(size);
    if (rest.length === 0) return { items: list, next: undefined };
    const next = this.pageToken();
    this.pages.set(next, rest);
    return { items: list.slice(0, size), next };
  }

  private describeTags(group: SimGroup) {
    return Object.entries(group.tags)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([Key, Value]) => ({
        ResourceId: group.name,
        ResourceType: 'auto-scaling-group',
        Key,
        Value,
        PropagateAtLaunch: group.propagated.has(Key),
      }));
  }

  private describeMemberTemplate(member: SimGroupMember) {
    return {
      LaunchTemplateId: member.launchTemplate.id,
      LaunchTemplateName: member.launchTemplate.name,
      Version: member.launchTemplate.version,
    };
  }

  private describeGroup(group: SimGroup, includeInstances: boolean) {
    return {
      AutoScalingGroupName: group.name,
      AutoScalingGroupARN: group.arn,
      LaunchTemplate: {
        LaunchTemplateId: group.launchTemplate.id,
        LaunchTemplateName: group.launchTemplate.name,
        Version: group.launchTemplate.version,
      },
      MinSize: group.min,
      MaxSize: group.max,
      DesiredCapacity: group.desired,
      DefaultCooldown: 300,
      AvailabilityZones: [`${this.world.region}a`],
      LoadBalancerNames: [],
      TargetGroupARNs: [...group.targetGroupArns],
      HealthCheckType: group.healthCheckType,
      HealthCheckGracePeriod: group.gracePeriodSeconds,
      ...(includeInstances
        ? {
            Instances: [...group.members.values()].map((m) => ({
              InstanceId: m.id,
              AvailabilityZone: `${this.world.region}a`,
              LifecycleState: m.lifecycleState,
              HealthStatus: m.healthStatus,
              LaunchTemplate: this.describeMemberTemplate(m),
              ProtectedFromScaleIn: false,
            })),
          }
        : {}),
      CreatedTime: new Date(group.createdAt),
      SuspendedProcesses: [...group.suspended].map((ProcessName) => ({
        ProcessName,
        SuspensionReason: 'User suspended',
      })),
      VPCZoneIdentifier: group.subnets,
      EnabledMetrics: [],
      Tags: this.describeTags(group),
      TerminationPolicies: ['Default'],
      NewInstancesProtectedFromScaleIn: false,
      ServiceLinkedRoleARN: `arn:aws:iam::${this.account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
      ...(group.deletingSince !== undefined ? { Status: 'Delete in progress' } : {}),
    };
  }

  /**
   * Makes a group (it launches at the next reconcile). AlreadyExists while a group of the name
   * exists, being deleted or not; the launch template version and target groups must exist, and
   * MinSize ≤ DesiredCapacity ≤ MaxSize.
   */
  CreateAutoScalingGroup(input: {
    AutoScalingGroupName?: string;
    LaunchTemplate?: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
    MinSize?: number;
    MaxSize?: number;
    DesiredCapacity?: number;
    VPCZoneIdentifier?: string;
    TargetGroupARNs?: string[];
    HealthCheckType?: string;
    HealthCheckGracePeriod?: number;
    Tags?: { Key?: string; Value?: string; PropagateAtLaunch?: boolean }[];
  }) {
    const name = input.AutoScalingGroupName ?? '';
    if (name.length < 1 || name.length > 255)
      throw validation('AutoScalingGroupName: must be 1 to 255 characters');
    if (this.groups.has(name))
      throw awsError(
        'AlreadyExistsFault',
        `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`,
      );
    if (this.groups.size >= AUTOSCALING_LIMITS.groupsPerRegion)
      throw awsError(
        'LimitExceededFault',
        `You have reached your limit of ${AUTOSCALING_LIMITS.groupsPerRegion} Auto Scaling groups in this Region.`,
      );
    const spec = input.LaunchTemplate;
    if (!spec)
      throw validation(
        'Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.',
      );
    let template: ReturnType<Ec2Model['launchTemplate']>;
    try {
      template = this.ec2.launchTemplate({ id: spec.LaunchTemplateId, name: spec.LaunchTemplateName });
      this.ec2.templateVersion(template, spec.Version);
    } catch (error) {
      throw validation(`You must use a valid fully-formed launch template. ${(error as Error).message}`);
    }
    const min = input.MinSize ?? 0;
    const max = input.MaxSize ?? 0;
    const desired = input.DesiredCapacity ?? min;
    checkSizes(min, max, desired);
    const subnets = input.VPCZoneIdentifier ?? '';
    if (subnets.split(',').filter(Boolean).length === 0)
      throw validation('At least one Availability Zone or VPC Subnet is required.');
    const targetGroupArns = input.TargetGroupARNs ?? [];
    if (targetGroupArns.some((arn) => !this.elbv2.targetGroups.has(arn)))
      throw validation('Provided Target Groups may not be valid. Please ensure they exist and try again.');
    const healthCheckType = input.HealthCheckType ?? 'EC2';
    if (!['EC2', 'ELB', 'VPC_LATTICE', 'EBS'].includes(healthCheckType))
      throw validation(`Health check type ${healthCheckType} is not valid (EC2, ELB, VPC_LATTICE, EBS)`);
    const tags = input.Tags ?? [];
    if (tags.length > AUTOSCALING_LIMITS.tagsPerGroup)
      throw awsError(
        'LimitExceededFault',
        `The number of tags for the group exceeds ${AUTOSCALING_LIMITS.tagsPerGroup}`,
      );
    const now = this.world.now();
    this.newGroup({
      name,
      launchTemplate: { id: template.id, name: template.name, version: spec.Version ?? '$Default' },
      min,
      max,
      desired,
      targetGroupArns: [...targetGroupArns],
      healthCheckType,
      gracePeriodSeconds: input.HealthCheckGracePeriod ?? 0,
      subnets,
      tags: Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? ''])),
      propagated: new Set(tags.filter((t) => t.PropagateAtLaunch).map((t) => t.Key ?? '')),
      suspended: new Set(),
      createdAt: now,
      desiredCause: `At ${iso(now)} a user request created an AutoScalingGroup changing the desired capacity from 0 to ${desired}.`,
    });
    return {};
  }

  /**
   * Groups by name (a name it does not know is left out) and tag filters (tag:<key>, tag-key,
   * tag-value: any of a filter's values, every filter), paged by MaxRecords.
   */
  DescribeAutoScalingGroups(input: {
    AutoScalingGroupNames?: string[];
    Filters?: { Name?: string; Values?: string[] }[];
    MaxRecords?: number;
    NextToken?: string;
    IncludeInstances?: boolean;
  }) {
    const size = pageSize(input.MaxRecords, AUTOSCALING_LIMITS.groups);
    let items: unknown[] | undefined;
    if (input.NextToken === undefined) {
      const names = input.AutoScalingGroupNames;
      if (names && names.length > size)
        throw validation(
          `AutoScalingGroupNames: at most ${size} names with MaxRecords ${size}, got ${names.length}`,
        );
      let found = names
        ? names.flatMap((n) => this.groups.get(n) ?? [])
        : [...this.groups.values()].sort((a, b) => a.name.localeCompare(b.name));
      for (const filter of input.Filters ?? []) {
        const values = filter.Values ?? [];
        const name = filter.Name ?? '';
        found = found.filter((group) => {
          if (name.startsWith('tag:')) {
            const value = group.tags[name.slice(4)];
            return value !== undefined && values.includes(value);
          }
          if (name === 'tag-key') return Object.keys(group.tags).some((k) => values.includes(k));
          if (name === 'tag-value') return Object.values(group.tags).some((v) => values.includes(v));
          throw validation(`Filter name ${name} is not valid (tag:<key>, tag-key, tag-value)`);
        });
      }
      items = found.map((g) => this.describeGroup(g, input.IncludeInstances ?? true));
    }
    const { items: page, next } = this.page(items, input.NextToken, size);
    return { AutoScalingGroups: page, ...(next ? { NextToken: next } : {}) };
  }

  /** The groups' members by instance id (an instance in no group is left out), paged. */
  DescribeAutoScalingInstances(input: { InstanceIds?: string[]; MaxRecords?: number; NextToken?: string }) {
    const size = pageSize(input.MaxRecords, AUTOSCALING_LIMITS.instances);
    let items: unknown[] | undefined;
    if (input.NextToken === undefined) {
      const ids = input.InstanceIds;
      if (ids && ids.length > AUTOSCALING_LIMITS.instances.ids)
        throw validation(`InstanceIds: at most ${AUTOSCALING_LIMITS.instances.ids}, got ${ids.length}`);
      items = [...this.groups.values()].flatMap((group) =>
        [...group.members.values()]
          .filter((m) => !ids || ids.includes(m.id))
          .map((m) => ({
            InstanceId: m.id,
            AutoScalingGroupName: group.name,
            AvailabilityZone: `${this.world.region}a`,
            LifecycleState: m.lifecycleState,
            // This operation spells it in capitals (HEALTHY, UNHEALTHY).
            HealthStatus: m.healthStatus.toUpperCase(),
            LaunchTemplate: this.describeMemberTemplate(m),
            ProtectedFromScaleIn: false,
          })),
      );
    }
    const { items: page, next } = this.page(items, input.NextToken, size);
    return { AutoScalingInstances: page, ...(next ? { NextToken: next } : {}) };
  }

  /** A group's activities (or every group's), newest first, paged. */
  DescribeScalingActivities(input: {
    AutoScalingGroupName?: string;
    ActivityIds?: string[];
    MaxRecords?: number;
    NextToken?: string;
  }) {
    const size = pageSize(input.MaxRecords, AUTOSCALING_LIMITS.activities);
    let items: unknown[] | undefined;
    if (input.NextToken === undefined) {
      const ids = input.ActivityIds;
      if (ids && ids.length > AUTOSCALING_LIMITS.activities.ids)
        throw validation(`ActivityIds: at most ${AUTOSCALING_LIMITS.activities.ids}, got ${ids.length}`);
      const groups =
        input.AutoScalingGroupName !== undefined
          ? [this.groups.get(input.AutoScalingGroupName)].filter((g): g is SimGroup => g !== undefined)
          : [...this.groups.values()];
      items = groups
        .flatMap((group) =>
          group.activities.slice(0, this.retained(group.activities)).map((activity) => ({ group, activity })),
        )
        .filter(({ activity }) => !ids || ids.includes(activity.id))
        .sort((a, b) => b.activity.startedAt - a.activity.startedAt)
        .map(({ group, activity }) => ({
          ActivityId: activity.id,
          AutoScalingGroupName: group.name,
          AutoScalingGroupARN: group.arn,
          Description: activity.description,
          Cause: activity.cause,
          StartTime: new Date(activity.startedAt),
          ...(activity.endedAt !== undefined ? { EndTime: new Date(activity.endedAt) } : {}),
          StatusCode: activity.status,
          ...(activity.statusMessage !== undefined ? { StatusMessage: activity.statusMessage } : {}),
          Progress: activity.status === 'InProgress' ? 50 : 100,
          Details: JSON.stringify({ 'Subnet ID': group.subnets.split(',')[0] ?? '' }),
        }));
    }
    const { items: page, next } = this.page(items, input.NextToken, size);
    return { Activities: page, ...(next ? { NextToken: next } : {}) };
  }

  /** The scaling policies of a group (or of every group), paged. */
  DescribePolicies(input: {
    AutoScalingGroupName?: string;
    PolicyNames?: string[];
    PolicyTypes?: string[];
    MaxRecords?: number;
    NextToken?: string;
  }) {
    const size = pageSize(input.MaxRecords, AUTOSCALING_LIMITS.policies);
    let items: unknown[] | undefined;
    if (input.NextToken === undefined) {
      const names = input.PolicyNames;
      if (names && names.length > AUTOSCALING_LIMITS.policies.names)
        throw validation(`PolicyNames: at most ${AUTOSCALING_LIMITS.policies.names}, got ${names.length}`);
      const groups =
        input.AutoScalingGroupName !== undefined
          ? [this.groups.get(input.AutoScalingGroupName)].filter((g): g is SimGroup => g !== undefined)
          : [...this.groups.values()];
      items = groups
        .flatMap((g) => g.policies)
        .filter(
          (p) => !names || names.includes(p.PolicyName as string) || names.includes(p.PolicyARN as string),
        )
        .filter((p) => !input.PolicyTypes || input.PolicyTypes.includes(p.PolicyType as string))
        .map((p) => structuredClone(p));
    }
    const { items: page, next } = this.page(items, input.NextToken, size);
    return { ScalingPolicies: page, ...(next ? { NextToken: next } : {}) };
  }

  /** Writes a policy on the group: the same name again replaces it (its ARN stays). */
  PutScalingPolicy(
    input: { AutoScalingGroupName?: string; PolicyName?: string; PolicyType?: string } & Record<
      string,
      unknown
    >,
  ) {
    const group = this.live(input.AutoScalingGroupName);
    const name = input.PolicyName ?? '';
    if (name.length < 1 || name.length > 255) throw validation('PolicyName: must be 1 to 255 characters');
    const existing = group.policies.findIndex((p) => p.PolicyName === name);
    const arn =
      (existing >= 0 ? (group.policies[existing]?.PolicyARN as string | undefined) : undefined) ??
      `arn:aws:autoscaling:${this.world.region}:${this.account}:scalingPolicy:${this.world.id('', 8)}:autoScalingGroupName/${group.name}:policyName/${name}`;
    const policy: Record<string, unknown> = {
      ...structuredClone(input),
      AutoScalingGroupName: group.name,
      PolicyName: name,
      PolicyARN: arn,
      PolicyType: input.PolicyType ?? 'SimpleScaling',
      Alarms: [],
    };
    if (existing >= 0) group.policies[existing] = policy;
    else group.policies.push(policy);
    return { PolicyARN: arn, Alarms: [] };
  }

  private processes(names: string[] | undefined): string[] {
    const asked = names && names.length > 0 ? names : [...SCALING_PROCESSES];
    const unknown = asked.filter((p) => !(SCALING_PROCESSES as readonly string[]).includes(p));
    if (unknown.length > 0)
      throw validation(
        `Process names not valid: ${unknown.join(', ')} (valid: ${SCALING_PROCESSES.join(', ')})`,
      );
    return asked;
  }

  /** Stops the processes named (none named: all of them). Suspending one again changes nothing. */
  SuspendProcesses(input: { AutoScalingGroupName?: string; ScalingProcesses?: string[] }) {
    const group = this.live(input.AutoScalingGroupName);
    for (const process of this.processes(input.ScalingProcesses)) group.suspended.add(process);
    return {};
  }

  /** Lets the processes named (none named: all of them) run again. */
  ResumeProcesses(input: { AutoScalingGroupName?: string; ScalingProcesses?: string[] }) {
    const group = this.live(input.AutoScalingGroupName);
    for (const process of this.processes(input.ScalingProcesses)) group.suspended.delete(process);
    return {};
  }

  /**
   * Detaches target groups from the group: its instances are deregistered from them (they drain,
   * as the elbv2 model has it) and the group registers none there again. One not attached is
   * left as it is.
   */
  DetachLoadBalancerTargetGroups(input: { AutoScalingGroupName?: string; TargetGroupARNs?: string[] }) {
    const group = this.live(input.AutoScalingGroupName);
    const arns = input.TargetGroupARNs ?? [];
    if (arns.length === 0 || arns.length > AUTOSCALING_LIMITS.detachTargetGroups)
      throw validation(
        `TargetGroupARNs: between 1 and ${AUTOSCALING_LIMITS.detachTargetGroups} target groups, got ${arns.length}`,
      );
    group.targetGroupArns = group.targetGroupArns.filter((arn) => !arns.includes(arn));
    for (const member of group.members.values()) {
      for (const arn of arns) {
        if (!member.registeredIn.delete(arn)) continue;
        if (this.elbv2.targetGroups.has(arn))
          this.elbv2.DeregisterTargets({ TargetGroupArn: arn, Targets: [{ Id: member.id }] });
      }
    }
    return {};
  }

  /**
   * Deletes the group. With ForceDelete its instances are terminated at once ("without waiting for
   * all instances to be terminated", API reference) and it lists as 'Delete in progress' until they
   * are; without it, a group with instances or activities in progress cannot be deleted. Deleting
   * a group already being deleted changes nothing; one that is gone is not found.
   */
  DeleteAutoScalingGroup(input: { AutoScalingGroupName?: string; ForceDelete?: boolean }) {
    const name = input.AutoScalingGroupName ?? '';
    const group = this.groups.get(name);
    if (!group) throw notFound(name);
    if (group.deletingSince !== undefined) return {};
    if (!input.ForceDelete) {
      if (group.members.size > 0)
        throw awsError(
          'ResourceInUseFault',
          'You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.',
        );
      if (group.activities.some((a) => a.status === 'InProgress'))
        throw awsError(
          'ScalingActivityInProgressFault',
          'You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.',
        );
    }
    const now = this.world.now();
    group.deletingSince = now;
    for (const member of group.members.values()) {
      if (member.lifecycleState === 'Terminating') {
        // Being replaced or scaled in, and draining: the deletion does not wait for it.
        member.terminationReason = 'deletion';
        member.terminateAt = Math.min(member.terminateAt ?? now, now);
        const instance = this.ec2.instances.get(member.id);
        if (instance) this.terminate(instance);
        continue;
      }
      this.startTermination(
        group,
        member,
        'deletion',
        `At ${iso(now)} a user request deleted the AutoScalingGroup.  At ${iso(now)} an instance was taken out of service in response to a user request.`,
        true,
      );
    }
    if (group.members.size === 0) this.groups.delete(name);
    return {};
  }

  /**
   * Changes the group's size bounds, desired capacity, launch template, health check or subnets. A
   * new min above the desired capacity raises it, a new max below lowers it (when no desired is
   * given), as Auto Scaling does.
   */
  UpdateAutoScalingGroup(input: {
    AutoScalingGroupName?: string;
    MinSize?: number;
    MaxSize?: number;
    DesiredCapacity?: number;
    LaunchTemplate?: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
    HealthCheckType?: string;
    HealthCheckGracePeriod?: number;
    VPCZoneIdentifier?: string;
  }) {
    const group = this.live(input.AutoScalingGroupName);
    const min = input.MinSize ?? group.min;
    const max = input.MaxSize ?? group.max;
    const desired = input.DesiredCapacity ?? Math.min(max, Math.max(min, group.desired));
    checkSizes(min, max, desired);
    if (input.LaunchTemplate) {
      const spec = input.LaunchTemplate;
      try {
        const template = this.ec2.launchTemplate({
          id: spec.LaunchTemplateId,
          name: spec.LaunchTemplateName,
        });
        this.ec2.templateVersion(template, spec.Version);
        group.launchTemplate = { id: template.id, name: template.name, version: spec.Version ?? '$Default' };
      } catch (error) {
        throw validation(`You must use a valid fully-formed launch template. ${(error as Error).message}`);
      }
    }
    if (input.HealthCheckType !== undefined) group.healthCheckType = input.HealthCheckType;
    if (input.HealthCheckGracePeriod !== undefined) group.gracePeriodSeconds = input.HealthCheckGracePeriod;
    if (input.VPCZoneIdentifier !== undefined) group.subnets = input.VPCZoneIdentifier;
    if (desired !== group.desired)
      group.desiredCause = `At ${iso(this.world.now())} a user request update of AutoScalingGroup constraints to min: ${min}, max: ${max}, desired: ${desired} changing the desired capacity from ${group.desired} to ${desired}.`;
    group.min = min;
    group.max = max;
    group.desired = desired;
    return {};
  }

  /** Adds or overwrites tags on groups (ResourceId names the group), with their PropagateAtLaunch. */
  CreateOrUpdateTags(input: {
    Tags?: {
      ResourceId?: string;
      ResourceType?: string;
      Key?: string;
      Value?: string;
      PropagateAtLaunch?: boolean;
    }[];
  }) {
    const tags = input.Tags ?? [];
    const groups = new Map(tags.map((t) => [t.ResourceId ?? '', this.live(t.ResourceId)]));
    for (const [name, group] of groups) {
      const own = tags.filter((t) => (t.ResourceId ?? '') === name);
      const keys = new Set([...Object.keys(group.tags), ...own.map((t) => t.Key ?? '')]);
      if (keys.size > AUTOSCALING_LIMITS.tagsPerGroup)
        throw awsError(
          'LimitExceededFault',
          `The number of tags for the group exceeds ${AUTOSCALING_LIMITS.tagsPerGroup}`,
        );
    }
    for (const tag of tags) {
      const group = groups.get(tag.ResourceId ?? '') as SimGroup;
      const key = tag.Key ?? '';
      group.tags[key] = tag.Value ?? '';
      if (tag.PropagateAtLaunch) group.propagated.add(key);
      else group.propagated.delete(key);
    }
    return {};
  }
}

/** Auto Scaling's own check of a group's size: min ≤ max, and the desired capacity between them. */
function checkSizes(min: number, max: number, desired: number): void {
  if (min > max) throw validation(`Max bound, ${max}, must be greater than or equal to min bound, ${min}`);
  if (desired < min || desired > max)
    throw validation(
      `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`,
    );
}
