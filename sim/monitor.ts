import type { DeployConfig } from '#shared/domain/config.ts';
import { requiredHealthy } from '#shared/domain/health.ts';
import { approvalTimedOut } from '#shared/domain/report.ts';
import { failedOnGreen, returnToBlue, type SlotTargets } from '#shared/domain/return-to-blue.ts';
import { STATE } from '#shared/domain/states.ts';
import { MANAGED_BY, TAG } from '#shared/domain/tags.ts';
import { otherSlot, SLOTS, type Slot } from '#shared/domain/traffic.ts';
import type { DeploymentState } from '#shared/domain/workflow.ts';
import type { SimInstance } from './aws/ec2.ts';
import type { SimExecution } from './aws/sfn.ts';
import type { ExecutionObserver } from './runner.ts';
import { APPROVALS_TABLE, actor, lambdaFunction, type World } from './world.ts';

/** The functions that undo a deployment's traffic: the rollback task, and the recovery after a Stop. */
const UNDOING = new Set(['rollbackTraffic', 'recoverExecution']);

/** The calls that launch a fleet: instances (fleet.kind instances), or green's Auto Scaling group. */
const LAUNCHES = new Set(['RunInstances', 'CreateAutoScalingGroup']);

/** The app/env the monitor watches, as the scenario set it up. */
export interface WatchedApp {
  app: string;
  env: string;
  config: DeployConfig;
}

interface WeightsAt {
  at: number;
  weights: Record<Slot, number>;
}

interface HealthSample {
  at: number;
  slot: Slot;
  healthy: boolean;
  detail: string;
}

export interface FleetCount {
  a: number;
  b: number;
  other: number;
}

/**
 * Checks the safety invariants of DESIGN.md against the simulated world: when weights change,
 * when an instance is terminated, after every state of every execution, and when all is over.
 * Every breach is recorded with the virtual time and what was seen; none is thrown, so a run
 * always reports all of them.
 */
export class SafetyMonitor implements ExecutionObserver {
  readonly violations: string[] = [];
  private readonly weightLog: WeightsAt[] = [];
  private readonly samples: HealthSample[] = [];
  /** Slots seen serving several versions (each reported once). */
  private readonly mixedSlots = new Set<string>();
  /** Per execution, the error its rollback was caught with (the rollback task's $.failure). */
  private readonly failures = new Map<string, string>();
  /** Executions whose failure was an approval nobody answered in time. */
  private readonly unapproved = new Set<string>();
  /** The slot a rollback returned all traffic to, under the rollback rule. */
  private returnedTo: Slot | undefined;

  constructor(
    private readonly world: World,
    private readonly watched: WatchedApp,
  ) {
    world.hooks.push({
      afterRecordsChange: () => this.onRecordsChange(),
      beforeTerminate: (instance) => this.onTerminate(instance),
    });
    const start = this.weights();
    if (start) this.weightLog.push({ at: world.now(), weights: start });
  }

  private time(at = this.world.now()): string {
    const s = Math.round((at - this.world.startedAt) / 1000);
    return `+${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }

  private violation(text: string): void {
    const line = `${this.time()} ${text}`;
    if (!this.violations.includes(line)) this.violations.push(line);
  }

  /** Weights of the two slot records, or undefined when neither exists. */
  weights(): Record<Slot, number> | undefined {
    const { dns, listener } = this.watched.config;
    let raw: Partial<Record<Slot, number | undefined>> = {};
    if (listener) {
      const forward = this.world.elbv2.weightsOf(listener.ruleArn ?? listener.listenerArn);
      raw = { a: forward.get(this.targetGroup('a')), b: forward.get(this.targetGroup('b')) };
    } else if (dns) {
      raw = this.world.route53.weights(dns.hostedZoneId, dns.recordName, dns.recordType);
    }
    if (raw.a === undefined && raw.b === undefined) return undefined;
    return { a: raw.a ?? 0, b: raw.b ?? 0 };
  }

  /**
   * How long clients may still reach a slot after its weight went to 0, and why: the record TTL,
   * or the stickiness of the listener's forward action as it is now.
   */
  private leave(): { seconds: number; what: string } {
    const { dns, listener } = this.watched.config;
    if (listener) {
      const seconds = this.world.elbv2.stickinessOf(listener.ruleArn ?? listener.listenerArn);
      return { seconds, what: `the forward action's target group stickiness (${seconds} s)` };
    }
    const seconds = dns?.ttlSeconds ?? 0;
    return { seconds, what: `the record TTL (${seconds} s)` };
  }

  private targetGroup(slot: Slot): string {
    return this.watched.config.slots[slot].targetGroupArn;
  }

  /** Healthy and active targets of a slot, judged as the deploy judges green. */
  slotHealth(slot: Slot): { healthy: boolean; healthyCount: number; active: number } {
    const arn = this.targetGroup(slot);
    const group = this.world.elbv2.targetGroups.get(arn);
    if (!group) return { healthy: false, healthyCount: 0, active: 0 };
    const active = this.world.elbv2.activeTargets(arn);
    const healthyCount = active.filter((id) => this.world.elbv2.health(group, id).State === 'healthy').length;
    const required = requiredHealthy(active.length, this.watched.config.health.minHealthyPercent);
    return { healthy: active.length > 0 && healthyCount >= required, healthyCount, active: active.length };
  }

  /**
   * The releases (versions the service launched) among the running instances a slot's target
   * group sends requests to. An instance someone registered by hand is not a release; the
   * deployment's own checks stop at it (scenario foreign-instance-in-green).
   */
  private servingVersions(slot: Slot): string[] {
    const versions = this.world.elbv2
      .activeTargets(this.targetGroup(slot))
      .map((id) => this.world.ec2.instances.get(id))
      .filter((i): i is SimInstance => i !== undefined && this.world.ec2.state(i) === 'running')
      .filter((i) => i.tags[TAG.managedBy] === MANAGED_BY)
      .map((i) => i.tags[TAG.version] ?? '?');
    return [...new Set(versions)].sort();
  }

  /** A slot carrying traffic serves one release: two deployments in one slot serve two. */
  private checkOneVersionPerSlot(weights: Record<Slot, number>): void {
    for (const slot of SLOTS) {
      if (weights[slot] === 0) continue;
      const versions = this.servingVersions(slot);
      const key = `${slot} ${versions.join(' ')}`;
      if (versions.length > 1 && !this.mixedSlots.has(key)) {
        this.mixedSlots.add(key);
        this.violation(
          `slot ownership: slot ${slot} carries traffic (${weights[slot]}) and serves ${versions.length} versions at once (${versions.join(', ')})`,
        );
      }
    }
  }

  /** Registered (not draining) and healthy targets of a slot, as the rollback rule counts them. */
  slotTargets(slot: Slot): SlotTargets {
    const health = this.slotHealth(slot);
    return { registered: health.active, healthy: health.healthyCount };
  }

  /**
   * A rollback or a recovery putting all traffic back on `blue`: judged by the rollback rule
   * (README, Safety: invariant 1 as it applies to undoing a deployment) on the world's target
   * health at that moment, and on the error the rollback was caught with (or, for the recovery,
   * on how the execution ended).
   */
  private checkReturn(blue: Slot, fn: string, execution: string | undefined): void {
    const green = otherSlot(blue);
    const name = execution ?? '';
    const greenFailed = failedOnGreen(
      fn === 'rollbackTraffic'
        ? { error: this.failures.get(name), unapproved: this.unapproved.has(name) }
        : { status: this.world.sfn.executions.get(name)?.status },
    );
    const decision = returnToBlue({
      slots: { blue, green },
      blue: this.slotTargets(blue),
      green: this.slotTargets(green),
      minHealthyPercent: this.watched.config.health.minHealthyPercent,
      greenFailed,
    });
    if (decision.toBlue) this.returnedTo = blue;
    else
      this.violation(
        `invariant 1 (rollback rule): all traffic returned to slot ${blue} although ${decision.why}`,
      );
  }

  taskInvoked(execution: SimExecution, _state: string, input: unknown): void {
    const error = (input as { failure?: { Error?: unknown } } | null)?.failure?.Error;
    // A rollback execution is judged as part of the deployment it rolls back.
    const name = execution.deployment ?? execution.name;
    if (typeof error === 'string') this.failures.set(name, error);
    if (input && typeof input === 'object' && approvalTimedOut(input as DeploymentState)) {
      this.unapproved.add(name);
    }
  }

  private onRecordsChange(): void {
    const weights = this.weights();
    if (!weights) return;
    this.weightLog.push({ at: this.world.now(), weights });
    this.checkOneVersionPerSlot(weights);
    if (weights.a + weights.b === 0)
      this.violation(
        this.watched.config.listener
          ? "invariant 1: both target groups' weights in the forward action were set to 0"
          : 'invariant 1: all weighted records were set to 0',
      );
    const before = this.weightLog.at(-2)?.weights;
    for (const slot of SLOTS) {
      if (weights[slot] === 0) continue;
      if (
        before &&
        before[slot] === 0 &&
        this.requiresApproval('traffic-shift') &&
        !this.approved('traffic-shift')
      ) {
        this.violation(`approval: traffic sent to slot ${slot} without an approval to shift traffic`);
      }
      // A write that gives the slot no larger share sends it no traffic: lowering an unhealthy
      // blue's share, or writing the same weights again, is what moves traffic away from it.
      const share = (w: Record<Slot, number>) => w[slot] / (w.a + w.b || 1);
      if (before && share(weights) <= share(before)) continue;
      const fn = lambdaFunction.getStore();
      if (fn && UNDOING.has(fn) && weights[otherSlot(slot)] === 0) {
        this.checkReturn(slot, fn, actor.getStore());
        continue;
      }
      const health = this.slotHealth(slot);
      if (!health.healthy) {
        this.violation(
          `invariant 1: traffic (${weights[slot]}) sent to slot ${slot} with ${health.healthyCount} of ${health.active} targets healthy`,
        );
      }
    }
  }

  private requiresApproval(stage: 'traffic-shift' | 'blue-termination'): boolean {
    return this.watched.config.approval?.before.includes(stage) ?? false;
  }

  /** Whether an approver's decision to go ahead with the stage is on record. */
  private approved(stage: 'traffic-shift' | 'blue-termination'): boolean {
    const table = this.world.dynamodb.tables.get(APPROVALS_TABLE);
    if (!table) return false;
    return this.world.dynamodb.items(APPROVALS_TABLE).some((item) => {
      const decision = item.decision as { stage?: string; decision?: string } | undefined;
      return decision?.stage === stage && decision.decision === 'approved';
    });
  }

  private slotOf(instanceId: string): Slot | undefined {
    return SLOTS.find((slot) => this.world.elbv2.activeTargets(this.targetGroup(slot)).includes(instanceId));
  }

  /** When the slot's weight last went from above 0 to 0 (undefined if it never did or has weight now). */
  private trafficLostAt(slot: Slot): number | undefined {
    let lost: number | undefined;
    let before = 0;
    for (const entry of this.weightLog) {
      if (before > 0 && entry.weights[slot] === 0) lost = entry.at;
      if (entry.weights[slot] > 0) lost = undefined;
      before = entry.weights[slot];
    }
    return lost;
  }

  /** Since when the slot has held all traffic without a break, or undefined if it does not now. */
  private allTrafficSince(slot: Slot): number | undefined {
    let since: number | undefined;
    for (const entry of this.weightLog) {
      const all = entry.weights[slot] > 0 && entry.weights[otherSlot(slot)] === 0;
      if (all && since === undefined) since = entry.at;
      if (!all) since = undefined;
    }
    return since;
  }

  private isWatched(instance: SimInstance): boolean {
    return instance.tags[TAG.app] === this.watched.app && instance.tags[TAG.env] === this.watched.env;
  }

  /**
   * An instance is about to be terminated: the invariants every termination keeps, then, when it
   * retires blue, those of the termination window (DESIGN.md invariants 1 to 3).
   */
  private onTerminate(instance: SimInstance): void {
    if (instance.terminateRequestedAt !== undefined) return;
    const slot = this.slotOf(instance.id);
    this.checkNotServing(instance, slot);
    // Another app's fleet (many apps share one world at scale): its own monitor judges it.
    if (!this.isWatched(instance)) return;
    // A group replacing a member that failed its checks, or shrinking to its desired capacity, is
    // Auto Scaling at work on a fleet, not the service retiring blue.
    if (this.groupsOwn(instance)) return;
    this.checkPastTtl(instance);
    const green = this.retiredBlueOf(instance, slot);
    if (!green) return;
    const since = this.allTrafficSince(green);
    if (since === undefined) {
      this.violation(
        `invariant 2: blue ${instance.id} terminated while slot ${green} does not carry all traffic`,
      );
      return;
    }
    this.checkWindowWaited(instance, since);
    this.checkNoAlarmInWindow(instance, since);
    this.checkDrained(instance);
    this.checkApproved(instance);
    this.checkGreenHealthyInWindow(instance, green, since);
  }

  /** Invariant 3: no instance is terminated while registered in a slot that carries traffic. */
  private checkNotServing(instance: SimInstance, slot: Slot | undefined): void {
    const weights = this.weights();
    if (slot && weights && weights[slot] > 0) {
      this.violation(
        `invariant 3: ${instance.id} terminated while registered in slot ${slot}, which carries traffic`,
      );
    }
  }

  /**
   * Invariant 1: resolvers may hand out the old answer for a TTL after a slot's weight went to 0
   * (and a sticky client stays on its target group for the stickiness duration), so none of its
   * instances is terminated inside that time.
   */
  private checkPastTtl(instance: SimInstance): void {
    const tagged = instance.tags[TAG.slot] as Slot | undefined;
    const lostAt = tagged ? this.trafficLostAt(tagged) : undefined;
    const leave = this.leave();
    if (lostAt !== undefined && this.world.now() - lostAt < leave.seconds * 1000) {
      this.violation(
        `invariant 1: ${instance.id} terminated ${Math.round((this.world.now() - lostAt) / 1000)} s after slot ${tagged} stopped taking traffic, inside ${leave.what}`,
      );
    }
  }

  /** Whether the instance's group is taking it out by itself (a replacement or a scale-in). */
  private groupsOwn(instance: SimInstance): boolean {
    const reason = this.world.autoscaling.memberOf(instance.id)?.member.terminationReason;
    return reason === 'replacement' || reason === 'scale-in';
  }

  /**
   * The green slot, when terminating `instance` retires blue; undefined when no window applies: a
   * deployment (or its recovery) removing its own green, which never went live, or clearing a slot
   * before it launches anything (healing a split). Blue is a fleet from a deployment that
   * succeeded, or from before this world.
   */
  private retiredBlueOf(instance: SimInstance, slot: Slot | undefined): Slot | undefined {
    const owner = this.world.sfn.executions.get(instance.tags[TAG.deploymentId] ?? '');
    if (owner && owner.status !== 'SUCCEEDED') return undefined;
    const by = actor.getStore();
    if (by && !this.world.calls.some((c) => c.actor === by && LAUNCHES.has(c.operation))) return undefined;
    const blue = (instance.tags[TAG.slot] as Slot | undefined) ?? slot;
    return blue ? otherSlot(blue) : undefined;
  }

  /**
   * When an operator promoted the termination window (a promote ended a wait of its window state
   * with success) since green took all traffic, read from the deployment's own history.
   */
  private windowPromotedAt(since: number): number | undefined {
    const history = this.world.sfn.executions.get(actor.getStore() ?? '')?.history ?? [];
    let state: string | undefined;
    for (const event of history) {
      if (event.type.endsWith('StateEntered')) state = (event as { name: string }).name;
      else if (event.type === 'TaskSucceeded' && state === STATE.waitWindow && event.at >= since) {
        const output = JSON.parse((event as { output: string }).output) as { promoted?: { by?: unknown } };
        if (typeof output?.promoted?.by === 'string') return event.at;
      }
    }
    return undefined;
  }

  /**
   * Invariant 2: green carried all traffic for the whole termination window before blue goes, or
   * until an operator promoted the window (the issue's `bluegreen promote`): the window's checks,
   * the TTL, the drain and the approval are judged all the same.
   */
  private checkWindowWaited(instance: SimInstance, since: number): void {
    const now = this.world.now();
    const { waitSeconds } = this.watched.config.termination;
    if (now - since < waitSeconds * 1000 && this.windowPromotedAt(since) === undefined) {
      this.violation(
        `invariant 2: blue ${instance.id} terminated ${Math.round((now - since) / 1000)} s after green took all traffic (window ${waitSeconds} s)`,
      );
    }
  }

  /** Invariant 2: no watched alarm fired during the window. */
  private checkNoAlarmInWindow(instance: SimInstance, since: number): void {
    for (const alarm of this.watched.config.alarms) {
      if (this.world.cloudwatch.alarmedDuring(alarm, since, this.world.now())) {
        this.violation(
          `invariant 2: blue ${instance.id} terminated although alarm ${alarm} fired during the window`,
        );
      }
    }
  }

  /** Invariant 2: where the config asks for it, a person approved terminating blue. */
  private checkApproved(instance: SimInstance): void {
    if (this.requiresApproval('blue-termination') && !this.approved('blue-termination')) {
      this.violation(`invariant 2: blue ${instance.id} terminated without an approval to terminate blue`);
    }
  }

  /** Invariant 2: green was healthy at every sample of the window. */
  private checkGreenHealthyInWindow(instance: SimInstance, green: Slot, since: number): void {
    const bad = this.samples.find((s) => s.slot === green && s.at >= since && !s.healthy);
    if (bad) {
      this.violation(
        `invariant 2: blue ${instance.id} terminated although green was unhealthy at ${this.time(bad.at)}`,
      );
    }
  }

  /** Blue is terminated only once deregistered and drained (ELB done, idle, or the delay over). */
  private checkDrained(instance: SimInstance): void {
    const now = this.world.now();
    for (const slot of SLOTS) {
      const group = this.world.elbv2.targetGroups.get(this.targetGroup(slot));
      const registration = group?.registrations.get(instance.id);
      if (!group || !registration) continue;
      if (registration.deregisteredAt === undefined) {
        this.violation(`invariant 2: blue ${instance.id} terminated while still registered in slot ${slot}`);
        continue;
      }
      const draining = now < registration.deregisteredAt + group.deregistrationDelaySeconds * 1000;
      const targetGroup = group.arn.slice(group.arn.indexOf('targetgroup/'));
      if (draining && this.world.cloudwatch.requests(targetGroup, now - 120_000, now) > 0) {
        this.violation(
          `invariant 2: blue ${instance.id} terminated while slot ${slot} still drains requests`,
        );
      }
    }
  }

  private sample(): void {
    const at = this.world.now();
    for (const slot of SLOTS) {
      const health = this.slotHealth(slot);
      this.samples.push({
        at,
        slot,
        healthy: health.healthy,
        detail: `${health.healthyCount}/${health.active}`,
      });
    }
    const weights = this.weights();
    if (weights) this.checkOneVersionPerSlot(weights);
    if (weights && weights.a + weights.b === 0 && this.weightLog.some((w) => w.weights.a + w.weights.b > 0)) {
      this.violation(
        this.watched.config.listener
          ? "invariant 1: both target groups' weights in the forward action are 0"
          : 'invariant 1: every weighted record has weight 0',
      );
    }
  }

  stateExited(): void {
    this.sample();
  }

  executionEnded(): void {
    this.sample();
  }

  /** The version running in a slot (undefined when none or mixed). */
  liveVersion(slot: Slot | undefined): string | undefined {
    if (!slot) return undefined;
    const active = this.world.elbv2.activeTargets(this.targetGroup(slot));
    const versions = new Set(
      active
        .map((id) => this.world.ec2.instances.get(id))
        .filter((i) => i && ['pending', 'running'].includes(this.world.ec2.state(i)))
        .map((i) => i?.tags[TAG.version]),
    );
    return versions.size === 1 ? [...versions][0] : undefined;
  }

  /**
   * Running instances of the app/env per slot (active in its target group), and in neither. A
   * member of a group counts for its slot while Pending (the group registers it once it runs), and
   * not at all once the group is taking it out (it drains, then goes).
   */
  fleets(): FleetCount {
    const count: FleetCount = { a: 0, b: 0, other: 0 };
    for (const instance of this.world.ec2.instances.values()) {
      const state = this.world.ec2.state(instance);
      if (state !== 'pending' && state !== 'running') continue;
      if (!this.isWatched(instance)) continue;
      if (instance.tags[TAG.managedBy] !== MANAGED_BY) continue;
      const own = this.world.autoscaling.memberOf(instance.id);
      if (own?.member.lifecycleState === 'Terminating') continue;
      const pendingIn =
        own?.member.lifecycleState === 'Pending'
          ? SLOTS.find((s) => own.group.targetGroupArns.includes(this.targetGroup(s)))
          : undefined;
      count[this.slotOf(instance.id) ?? pendingIn ?? 'other'] += 1;
    }
    return count;
  }

  /**
   * Invariant 4: the spans in which two executions for this app/env changed its fleets, slots or
   * records never overlap. Baking an image (the recipe, the build, the AMI's tags) makes things of
   * the deployment's own, named by its artifact: two bakes at once change nothing the other has.
   */
  private checkOverlap(mutating: (operation: string) => boolean): void {
    // Spans in call order, not time: two calls at the same virtual instant still happen in turn.
    const spans = new Map<string, { first: number; last: number }>();
    for (const [index, call] of this.world.calls.entries()) {
      if (
        !call.actor ||
        call.error ||
        !mutating(call.operation) ||
        call.service === 'imagebuilder' ||
        (call.service === 'ec2' && call.operation === 'CreateTags') ||
        !this.isWatchedExecution(call.actor)
      )
        continue;
      const span = spans.get(call.actor) ?? { first: index, last: index };
      span.last = index;
      spans.set(call.actor, span);
    }
    const list = [...spans.entries()];
    for (const [i, [a, x]] of list.entries()) {
      for (const [b, y] of list.slice(i + 1)) {
        if (x.first <= y.last && y.first <= x.last) {
          this.violation(`invariant 4: ${a} and ${b} changed things at the same time`);
        }
      }
    }
  }

  /** Whether the named execution deploys the watched app/env. */
  private isWatchedExecution(name: string): boolean {
    const input = JSON.parse(this.world.sfn.executions.get(name)?.input ?? '{}') as {
      app?: string;
      env?: string;
    };
    return input.app === this.watched.app && input.env === this.watched.env;
  }

  /** Invariants 3 and 4, once every execution has ended. */
  finish(options: {
    wasLiveAtStart: boolean;
    mutating: (operation: string) => boolean;
    /** The weights the world started with; a split nobody touched is not the service's doing. */
    startWeights?: Record<Slot, number> | undefined;
  }): void {
    this.checkOverlap(options.mutating);
    const fleets = this.fleets();
    const weights = this.weights() ?? { a: 0, b: 0 };
    // Group fleets: no group of the app/env left but the one serving the live slot.
    const carrying = SLOTS.find((slot) => weights[slot] > 0 && weights[otherSlot(slot)] === 0);
    for (const breach of groupsLeftAtEnd(this.world, this.watched, carrying)) this.violation(breach);
    if (fleets.other > 0)
      this.violation(`invariant 3: ${fleets.other} instance(s) of ours run outside both slots`);
    const launched = this.world.calls.some(
      (c) => LAUNCHES.has(c.operation) && !c.error && c.actor && this.isWatchedExecution(c.actor),
    );
    const untouchedSplit =
      !launched &&
      options.startWeights !== undefined &&
      options.startWeights.a > 0 &&
      options.startWeights.b > 0 &&
      JSON.stringify(options.startWeights) === JSON.stringify(weights);
    const withFleet = SLOTS.filter((slot) => fleets[slot] > 0);
    // Both slots serving a split the run found and left alone is the world's state, not the run's.
    if (withFleet.length > 1 && !untouchedSplit) {
      // Left by a rollback that could not finish: no slot is the live one to judge further.
      this.violation(`invariant 3: both slots run instances at the end (a=${fleets.a}, b=${fleets.b})`);
      return;
    }
    if (withFleet.length === 0) {
      if (options.wasLiveAtStart) this.violation('invariant 3: no fleet runs at the end');
      return;
    }
    const [live] = withFleet as [Slot];
    const other = otherSlot(live);
    if (!(weights[live] > 0 && weights[other] === 0) && !untouchedSplit) {
      this.violation(
        `invariant 3: the running fleet (slot ${live}) does not carry all traffic (a=${weights.a} b=${weights.b})`,
      );
    }
    // A slot a rollback returned traffic to may be only partly healthy (the rollback rule), but
    // never without a healthy target.
    const health = this.slotHealth(live);
    if (live === this.returnedTo ? health.healthyCount === 0 : !health.healthy)
      this.violation(`invariant 1: the live slot ${live} is not healthy at the end`);
  }
}

/**
 * Invariant 3 for group fleets (fleet.kind autoScalingGroup), once every execution has ended: no
 * Auto Scaling group of the app/env is left but the one serving the live slot (attached to its
 * target group). A group being deleted is on its way out. Returns the breaches, for a scenario to
 * add to its monitor's.
 */
export function groupsLeftAtEnd(world: World, watched: WatchedApp, live: Slot | undefined): string[] {
  const ours = [...world.autoscaling.groups.values()].filter(
    (g) =>
      g.deletingSince === undefined &&
      g.tags[TAG.managedBy] === MANAGED_BY &&
      g.tags[TAG.app] === watched.app &&
      g.tags[TAG.env] === watched.env,
  );
  const liveTargetGroup = live ? watched.config.slots[live].targetGroupArn : undefined;
  const serving = ours.filter((g) => liveTargetGroup && g.targetGroupArns.includes(liveTargetGroup));
  const breaches = ours
    .filter((g) => !serving.includes(g))
    .map(
      (g) =>
        `invariant 3: Auto Scaling group ${g.name} (slot ${g.tags[TAG.slot] ?? '?'}, ${g.members.size} instance(s)) is left at the end, where ${live ? `only the live slot ${live}'s group may be` : 'no slot is live'}`,
    );
  if (serving.length > 1)
    breaches.push(
      `invariant 3: ${serving.length} Auto Scaling groups serve the live slot ${live} at the end (${serving.map((g) => g.name).join(', ')})`,
    );
  return breaches;
}
