import type { WorldContext } from './context.ts';
import type { Ec2Model } from './ec2.ts';
import type { Elbv2Model } from './elbv2.ts';

type Tags = Record<string, string>;

/** One member of a simulated group, as Auto Scaling reports it. */
export interface SimGroupMember {
  id: string;
  /** Pending, InService, Terminating, … */
  lifecycleState: string;
  /** Healthy or Unhealthy. */
  healthStatus: string;
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
}

/** Auto Scaling: the model is filled in by its own change; this holds the shapes the rest agrees on. */
export class AutoScalingModel {
  readonly groups = new Map<string, SimGroup>();

  constructor(
    readonly world: WorldContext,
    readonly ec2: Ec2Model,
    readonly elbv2: Elbv2Model,
  ) {}

  /** Brings every group up to date with the time (launches, replacements, deletions). */
  reconcile(): void {}
}
