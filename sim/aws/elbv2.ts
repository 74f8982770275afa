import type { ListenerAction } from '#shared/domain/listener.ts';
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

/** A listener's default actions, or one of its rules' actions, and the tags on it. */
export interface SimForwarding {
  arn: string;
  actions: ListenerAction[];
  tags: Record<string, string>;
}

export interface SimListener extends SimForwarding {
  loadBalancerArn: string;
  rules: Map<string, SimForwarding>;
}

/** A weight written to a target group in a forward action, with when. */
export interface ForwardWeightAt {
  at: number;
  /** The listener or rule whose actions were written. */
  arn: string;
  targetGroupArn: string;
  weight: number;
  stickinessSeconds: number;
}

/** Each target group's weight in a forward action (a lone TargetGroupArn forwards with weight 1). */
function forwardWeights(actions: ListenerAction[]): {
  weights: Map<string, number>;
  stickinessSeconds: number;
} {
  const weights = new Map<string, number>();
  let stickinessSeconds = 0;
  for (const action of actions) {
    if (action.Type !== 'forward') continue;
    const tuples = action.ForwardConfig?.TargetGroups?.length
      ? action.ForwardConfig.TargetGroups
      : [{ TargetGroupArn: action.TargetGroupArn, Weight: 1 }];
    for (const t of tuples) weights.set(t.TargetGroupArn ?? '', t.Weight ?? 1);
    const sticky = action.ForwardConfig?.TargetGroupStickinessConfig;
    if (sticky?.Enabled) stickinessSeconds = sticky.DurationSeconds ?? 0;
  }
  return { weights, stickinessSeconds };
}

/**
 * ELBv2 target groups: a registered target is `initial` until the application answers and
 * healthy-threshold × interval has passed, `unhealthy` when its application fails checks,
 * `draining` for the deregistration delay after deregistration. Only running instances can be
 * registered, as on AWS.
 */
export class Elbv2Model {
  readonly targetGroups = new Map<string, SimTargetGroup>();
  readonly listeners = new Map<string, SimListener>();
  /** Every weight a forward action was written with (the seeded ones at time 0). */
  readonly forwardLog: ForwardWeightAt[] = [];
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

  /** A listener whose default actions are `actions`, on `loadBalancerArn`, tagged with `tags`. */
  addListener(
    arn: string,
    loadBalancerArn: string,
    actions: ListenerAction[],
    tags: Record<string, string> = {},
  ): SimListener {
    const listener: SimListener = { arn, loadBalancerArn, actions, tags, rules: new Map() };
    this.listeners.set(arn, listener);
    this.logForward(arn, actions, 0);
    return listener;
  }

  /** A rule of the listener, with its actions. */
  addRule(listenerArn: string, arn: string, actions: ListenerAction[], tags: Record<string, string> = {}) {
    const listener = this.listener(listenerArn);
    listener.rules.set(arn, { arn, actions, tags });
    this.logForward(arn, actions, 0);
  }

  private logForward(arn: string, actions: ListenerAction[], at: number): void {
    const { weights, stickinessSeconds } = forwardWeights(actions);
    for (const [targetGroupArn, weight] of weights)
      this.forwardLog.push({ at, arn, targetGroupArn, weight, stickinessSeconds });
  }

  private listener(arn: string | undefined): SimListener {
    const listener = this.listeners.get(arn ?? '');
    if (!listener) throw awsError('ListenerNotFound', `One or more listeners not found: '${arn}'`);
    return listener;
  }

  private rule(arn: string | undefined): SimForwarding {
    for (const listener of this.listeners.values()) {
      const rule = listener.rules.get(arn ?? '');
      if (rule) return rule;
    }
    throw awsError('RuleNotFound', `One or more rules not found: '${arn}'`);
  }

  /** The listener or rule of that ARN (undefined when there is none). */
  forwarding(arn: string): SimForwarding | undefined {
    const listener = this.listeners.get(arn);
    if (listener) return listener;
    for (const l of this.listeners.values()) {
      const rule = l.rules.get(arn);
      if (rule) return rule;
    }
    return undefined;
  }

  /** The weight of each target group in the forward action of a listener or rule (none: empty). */
  weightsOf(arn: string): Map<string, number> {
    const forwarding = this.forwarding(arn);
    return forwarding ? forwardWeights(forwarding.actions).weights : new Map();
  }

  /** The target group stickiness of the forward action of that listener or rule, in seconds (0 when off). */
  stickinessOf(arn: string): number {
    const forwarding = this.forwarding(arn);
    return forwarding ? forwardWeights(forwarding.actions).stickinessSeconds : 0;
  }

  /**
   * Whether requests reached the target group through a forward action at any moment of [from, to]:
   * while it had weight, and for the stickiness duration after (a sticky client stays on its group).
   */
  carriedTraffic(targetGroupArn: string, from: number, to: number): boolean {
    const log = this.forwardLog.filter((e) => e.targetGroupArn === targetGroupArn);
    const arns = new Set(log.map((e) => e.arn));
    for (const arn of arns) {
      const own = log.filter((e) => e.arn === arn);
      for (const [i, entry] of own.entries()) {
        if (entry.weight === 0) continue;
        const until = own[i + 1]?.at;
        const reach = until === undefined ? Number.POSITIVE_INFINITY : until + entry.stickinessSeconds * 1000;
        if (entry.at <= to && reach >= from) return true;
      }
    }
    return false;
  }

  /** A forward action ALB accepts: target groups that exist, weights 0-999, at most 5 groups. */
  private checkActions(actions: ListenerAction[] | undefined): ListenerAction[] {
    if (!actions || actions.length === 0) throw awsError('ValidationError', 'Actions must not be empty');
    for (const action of actions) {
      if (action.Type !== 'forward') continue;
      const tuples = action.ForwardConfig?.TargetGroups ?? [
        { TargetGroupArn: action.TargetGroupArn, Weight: 1 },
      ];
      if (tuples.length > 5)
        throw awsError('TooManyTargetGroups', 'You can specify at most 5 target groups in a forward action');
      for (const tuple of tuples) {
        this.group(tuple.TargetGroupArn);
        const weight = tuple.Weight ?? 1;
        if (!Number.isInteger(weight) || weight < 0 || weight > 999)
          throw awsError('ValidationError', `Weight ${weight} is not between 0 and 999`);
      }
    }
    return structuredClone(actions);
  }

  DescribeListeners(input: { ListenerArns?: string[] }) {
    return {
      Listeners: (input.ListenerArns ?? []).map((arn) => {
        const listener = this.listener(arn);
        return {
          ListenerArn: listener.arn,
          LoadBalancerArn: listener.loadBalancerArn,
          Port: 443,
          Protocol: 'HTTPS',
          DefaultActions: structuredClone(listener.actions),
        };
      }),
    };
  }

  DescribeRules(input: { RuleArns?: string[] }) {
    return {
      Rules: (input.RuleArns ?? []).map((arn) => {
        const rule = this.rule(arn);
        return {
          RuleArn: rule.arn,
          Priority: '10',
          IsDefault: false,
          Actions: structuredClone(rule.actions),
        };
      }),
    };
  }

  /** A listener's or rule's actions replaced by a write now: logged, and the monitor told. */
  private replaceActions(forwarding: SimForwarding, actions: ListenerAction[]): void {
    forwarding.actions = this.checkActions(actions);
    this.logForward(forwarding.arn, forwarding.actions, this.world.now());
    this.world.afterRecordsChange(forwarding.arn);
  }

  /** Replaces the listener's default actions (what is not given stays as it is). */
  ModifyListener(input: { ListenerArn?: string; DefaultActions?: ListenerAction[] }) {
    const listener = this.listener(input.ListenerArn);
    if (input.DefaultActions) this.replaceActions(listener, input.DefaultActions);
    return this.DescribeListeners({ ListenerArns: [listener.arn] });
  }

  /** Replaces the rule's actions. */
  ModifyRule(input: { RuleArn?: string; Actions?: ListenerAction[] }) {
    const rule = this.rule(input.RuleArn);
    if (input.Actions) this.replaceActions(rule, input.Actions);
    return this.DescribeRules({ RuleArns: [rule.arn] });
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

  /** The tags of up to 20 target groups, listeners or rules (this model holds those). */
  DescribeTags(input: { ResourceArns?: string[] }) {
    const arns = input.ResourceArns ?? [];
    if (arns.length === 0 || arns.length > 20)
      throw awsError('ValidationError', 'ResourceArns must name between 1 and 20 resources');
    return {
      TagDescriptions: arns.map((arn) => ({
        ResourceArn: arn,
        Tags: Object.entries(this.forwarding(arn)?.tags ?? this.group(arn).tags).map(([Key, Value]) => ({
          Key,
          Value,
        })),
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
