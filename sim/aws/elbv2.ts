import type { WorldContext } from './context.ts';
import type { Ec2Model, SimInstance } from './ec2.ts';
import { awsError } from './errors.ts';

/**
 * "Targets per Target Group per Region (instances or IP addresses): 1,000", and as many per
 * Application Load Balancer (Quotas for your Application Load Balancers,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html):
 * a registration past it fails with TooManyTargets. The API documents no limit per call, and
 * DescribeTargetHealth is not paged: one answer holds every target.
 */
export const TARGETS_PER_GROUP = 1000;

interface Registration {
  registeredAt: number;
  deregisteredAt?: number;
}

export interface SimTargetGroup {
  arn: string;
  loadBalancerArn?: string;
  port: number;
  intervalSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  deregistrationDelaySeconds: number;
  tags: Record<string, string>;
  registrations: Map<string, Registration>;
}

/**
 * ELBv2 target groups: a registered target is `initial` until the application answers and
 * healthy-threshold × interval has passed, `unhealthy` when its application fails checks,
 * `draining` for the deregistration delay after deregistration. Only running instances can be
 * registered, as on AWS.
 */
export class Elbv2Model {
  readonly targetGroups = new Map<string, SimTargetGroup>();
  /** Seconds from `running` until the application answers health checks. */
  appStartSeconds = 20;
  /** When an instance's application starts failing its health checks (undefined: never). */
  failingFrom: (instance: SimInstance) => number | undefined = () => undefined;

  constructor(
    private readonly world: WorldContext,
    private readonly ec2: Ec2Model,
  ) {}

  addTargetGroup(arn: string, tags: Record<string, string> = {}): SimTargetGroup {
    const group: SimTargetGroup = {
      arn,
      tags,
      port: 80,
      intervalSeconds: 10,
      healthyThreshold: 3,
      unhealthyThreshold: 2,
      deregistrationDelaySeconds: 300,
      registrations: new Map(),
    };
    this.targetGroups.set(arn, group);
    return group;
  }

  private group(arn: string | undefined): SimTargetGroup {
    const group = this.targetGroups.get(arn ?? '');
    if (!group) throw awsError('TargetGroupNotFound', `Target groups '${arn}' not found`);
    return group;
  }

  /** Registered and not draining. */
  activeTargets(arn: string): string[] {
    const group = this.group(arn);
    const now = this.world.now();
    return [...group.registrations.entries()]
      .filter(([, r]) => r.deregisteredAt === undefined || now < r.deregisteredAt)
      .map(([id]) => id);
  }

  health(group: SimTargetGroup, id: string): { State: string; Reason?: string; Description?: string } {
    const now = this.world.now();
    const registration = group.registrations.get(id);
    if (!registration)
      return { State: 'unused', Reason: 'Target.NotRegistered', Description: 'Target is not registered' };
    if (registration.deregisteredAt !== undefined) {
      if (now < registration.deregisteredAt + group.deregistrationDelaySeconds * 1000) {
        return { State: 'draining', Reason: 'Target.DeregistrationInProgress' };
      }
      group.registrations.delete(id);
      return { State: 'unused', Reason: 'Target.NotRegistered' };
    }
    // A stopped or terminated instance stays registered: ELB reports it `unused` with
    // Target.InvalidState ("The target is in the stopped or terminated state", TargetHealth in the
    // ELBv2 API reference, https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html)
    // until someone deregisters it; the documentation promises no automatic deregistration, so the
    // simulator keeps it, and the service deregisters what it launched that died.
    const instance = this.ec2.instances.get(id);
    if (!instance || this.ec2.state(instance) !== 'running') {
      return {
        State: 'unused',
        Reason: 'Target.InvalidState',
        Description: 'Target is in the stopped or terminated state',
      };
    }
    const runningAt = this.ec2.runningSince(instance) ?? now;
    const checksFrom = Math.max(registration.registeredAt, runningAt + this.appStartSeconds * 1000);
    const failingAt = this.failingFrom(instance);
    const healthyAt = checksFrom + group.healthyThreshold * group.intervalSeconds * 1000;
    const healthy = { State: 'healthy' };
    const initial = {
      State: 'initial',
      Reason: 'Elb.InitialHealthChecking',
      Description: 'Initial health checks in progress',
    };
    if (failingAt === undefined) return now >= healthyAt ? healthy : initial;
    const unhealthyAt =
      Math.max(failingAt, registration.registeredAt) +
      group.unhealthyThreshold * group.intervalSeconds * 1000;
    if (now >= unhealthyAt) {
      return {
        State: 'unhealthy',
        Reason: 'Target.ResponseCodeMismatch',
        Description: 'Health checks failed with these codes: [502]',
      };
    }
    // A target that was healthy before its application started failing stays healthy until the threshold.
    return healthyAt <= failingAt && now >= healthyAt ? healthy : initial;
  }

  DescribeTargetGroups(input: { TargetGroupArns?: string[] }) {
    const groups = (input.TargetGroupArns ?? [...this.targetGroups.keys()]).map((arn) => this.group(arn));
    return {
      TargetGroups: groups.map((g) => ({
        TargetGroupArn: g.arn,
        Port: g.port,
        LoadBalancerArns: g.loadBalancerArn ? [g.loadBalancerArn] : [],
      })),
    };
  }

  /** The tags of up to 20 load balancers or target groups (this model holds target groups). */
  DescribeTags(input: { ResourceArns?: string[] }) {
    const arns = input.ResourceArns ?? [];
    if (arns.length === 0 || arns.length > 20)
      throw awsError('ValidationError', 'ResourceArns must name between 1 and 20 resources');
    return {
      TagDescriptions: arns.map((arn) => ({
        ResourceArn: arn,
        Tags: Object.entries(this.group(arn).tags).map(([Key, Value]) => ({ Key, Value })),
      })),
    };
  }

  /** Adds or overwrites tags (AddTags updates the value of a key that exists); 50 tags at most. */
  AddTags(input: { ResourceArns?: string[]; Tags?: { Key?: string; Value?: string }[] }) {
    const groups = (input.ResourceArns ?? []).map((arn) => this.group(arn));
    const tags = input.Tags ?? [];
    const keys = tags.map((t) => t.Key ?? '');
    if (new Set(keys).size !== keys.length)
      throw awsError('DuplicateTagKeys', 'A tag key was specified more than once');
    for (const group of groups) {
      const next = { ...group.tags, ...Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? ''])) };
      if (Object.keys(next).length > 50)
        throw awsError('TooManyTags', "You've reached the limit on the number of tags for this resource");
      group.tags = next;
    }
    return {};
  }

  DescribeTargetGroupAttributes(input: { TargetGroupArn?: string }) {
    const group = this.group(input.TargetGroupArn);
    return {
      Attributes: [
        { Key: 'deregistration_delay.timeout_seconds', Value: String(group.deregistrationDelaySeconds) },
      ],
    };
  }

  RegisterTargets(input: { TargetGroupArn?: string; Targets?: { Id?: string }[] }) {
    const group = this.group(input.TargetGroupArn);
    const ids = (input.Targets ?? []).map((t) => t.Id ?? '');
    const notRunning = ids.filter((id) => {
      const instance = this.ec2.instances.get(id);
      return !instance || this.ec2.state(instance) !== 'running';
    });
    if (notRunning.length > 0) {
      throw awsError(
        'InvalidTarget',
        `The following targets are not in a running state and cannot be registered: '${notRunning.join(', ')}'`,
      );
    }
    const now = this.world.now();
    const registered = new Set(this.registeredTargets(group));
    const after = new Set([...registered, ...ids]).size;
    if (after > TARGETS_PER_GROUP)
      throw awsError('TooManyTargets', "You've reached the limit on the number of targets.");
    for (const id of ids) {
      const existing = group.registrations.get(id);
      if (!existing || existing.deregisteredAt !== undefined)
        group.registrations.set(id, { registeredAt: now });
    }
    return {};
  }

  /** Registered and not deregistered (draining ones are on their way out). */
  private registeredTargets(group: SimTargetGroup): string[] {
    return [...group.registrations.entries()]
      .filter(([, r]) => r.deregisteredAt === undefined)
      .map(([id]) => id);
  }

  DeregisterTargets(input: { TargetGroupArn?: string; Targets?: { Id?: string }[] }) {
    const group = this.group(input.TargetGroupArn);
    const now = this.world.now();
    for (const target of input.Targets ?? []) {
      const registration = group.registrations.get(target.Id ?? '');
      if (registration && registration.deregisteredAt === undefined) registration.deregisteredAt = now;
    }
    return {};
  }

  DescribeTargetHealth(input: { TargetGroupArn?: string; Targets?: { Id?: string }[] }) {
    const group = this.group(input.TargetGroupArn);
    const ids = input.Targets ? input.Targets.map((t) => t.Id ?? '') : [...group.registrations.keys()];
    const descriptions = ids
      .map((id) => ({ Target: { Id: id, Port: group.port }, TargetHealth: this.health(group, id) }))
      .filter((d) => input.Targets || d.TargetHealth.Reason !== 'Target.NotRegistered');
    return { TargetHealthDescriptions: descriptions };
  }
}
