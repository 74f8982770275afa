import { UnsafeToDeploy } from '../errors.ts';
import { configKey } from './artifact-key.ts';
import { bakeKey } from './bake.ts';
import { type DeployConfig, LIMITS } from './config.ts';
import { deadlineOf } from './deadline.ts';
import { artifactId } from './identity.ts';
import { findLiveSlot, formatWeights, otherSlot, type Slot, type Weights } from './traffic.ts';
import type { PinnedDeployment, Plan } from './workflow.ts';

/**
 * How often a Route 53 change is checked, and how many times before the step gives up. Route 53
 * propagates within 60 s as a rule; three minutes without INSYNC is a fault.
 */
export const DNS_POLL_SECONDS = 10;
export const DNS_MAX_POLLS = 18;

/**
 * A change that puts all traffic back on the slot that serves (a rollback, healing a split) is not
 * given up after three minutes: Route 53 applies every change it accepted, and giving up would
 * leave both fleets running for a person to clean up. It is checked every 10 s for three minutes,
 * then every minute up to 30 minutes, the bound of the SDKs' own Route 53 waiter
 * (ResourceRecordSetsChanged: 60 checks, 30 s apart).
 */
export const DNS_RETURN_MAX_POLLS = DNS_MAX_POLLS + 27;
export const DNS_SLOW_POLL_SECONDS = 60;

/** How long to wait before the next check of a change that has been checked `polls` times. */
export function dnsPollSeconds(polls: number): number {
  return polls < DNS_MAX_POLLS ? DNS_POLL_SECONDS : DNS_SLOW_POLL_SECONDS;
}

/**
 * The most polls any waiting loop may take. A Standard execution may write 25,000 history
 * events and each poll writes 9 (Wait, Task, Choice), so every loop is bounded by count, and a long
 * timeout polls less often instead of more times.
 */
export const MAX_POLLS = 60;
export const MAX_WINDOW_CHECKS = 100;

/** The poll interval that keeps a wait of `timeoutSeconds` within MAX_POLLS polls. */
export function boundedPoll(
  timeoutSeconds: number,
  pollSeconds: number,
): { pollSeconds: number; maxPolls: number } {
  const every = Math.max(pollSeconds, Math.ceil(timeoutSeconds / MAX_POLLS));
  return { pollSeconds: every, maxPolls: Math.ceil(timeoutSeconds / every) + 1 };
}

/** Default check interval of the termination window: about 12 checks, between 1 and 15 minutes apart. */
export function defaultCheckInterval(waitSeconds: number): number {
  return Math.min(900, Math.max(60, Math.round(waitSeconds / 12)));
}

/** The window's check interval, never so short that the window takes more than MAX_WINDOW_CHECKS. */
export function windowCheckInterval(waitSeconds: number, configured: number | undefined): number {
  const wanted = configured ?? defaultCheckInterval(waitSeconds);
  return Math.max(wanted, Math.ceil(waitSeconds / MAX_WINDOW_CHECKS));
}

/** Healthy and registered targets of a slot's target group. */
export interface SlotHealth {
  healthy: number;
  registered: number;
}

/**
 * The slot a split heals toward: the larger share of healthy targets, then more healthy targets,
 * then more traffic. Undefined when neither slot has a healthy target (nothing to heal toward).
 */
export function healthierSlot(
  weights: Record<Slot, number>,
  health: Record<Slot, SlotHealth>,
): Slot | undefined {
  const score = (slot: Slot) => [
    health[slot].registered === 0 ? 0 : health[slot].healthy / health[slot].registered,
    health[slot].healthy,
    weights[slot],
  ];
  const [a, b] = [score('a'), score('b')];
  const first = a.findIndex((value, i) => value !== b[i]);
  const best: Slot = first === -1 || (a[first] ?? 0) > (b[first] ?? 0) ? 'a' : 'b';
  return health[best].healthy > 0 ? best : undefined;
}

export interface PlanInputs {
  /** The deployment, its artifact's version id known (Plan finds it when the input had none). */
  deployment: PinnedDeployment;
  config: DeployConfig;
  /** The S3 version of the config object read (the tasks read that version again). */
  configVersionId: string;
  weights: Weights;
  /** Targets registered in blue's target group (0 when there is no blue). */
  blueTargetCount: number;
  defaultTopicArn: string;
  now: Date;
  /** Both slots' target health, read when a split may be healed. */
  slotHealth?: Record<Slot, SlotHealth> | undefined;
  /** The digest of the artifact's content, when S3 has a SHA-256 checksum of it. */
  contentDigest?: string | undefined;
  /** traffic.mode alb: the target group stickiness of the listener's forward action (0 when off). */
  stickinessSeconds?: number | undefined;
}

/**
 * Decides everything the rest of the workflow needs: which slot is blue, which is green, the
 * fleet size, the traffic steps and the bounds of every loop.
 */
export function buildPlan({
  deployment,
  config,
  configVersionId,
  weights,
  blueTargetCount,
  defaultTopicArn,
  now,
  slotHealth,
  contentDigest,
  stickinessSeconds = 0,
}: PlanInputs): Plan {
  const live = findLiveSlot(weights);
  let heal: Plan['heal'];
  if (live.kind === 'split') {
    const toward =
      config.traffic.healSplit && slotHealth ? healthierSlot(live.weights, slotHealth) : undefined;
    if (!toward) {
      const why = config.traffic.healSplit
        ? 'and neither has a healthy target to heal toward'
        : '; set one weight to 0 by hand, or finish the other deployment, then upload again (or set traffic.healSplit)';
      throw new UnsafeToDeploy(
        `both slots carry traffic (${formatWeights(weights)}) ${why}`.replace(' ;', ';'),
      );
    }
    heal = { to: toward, from: otherSlot(toward), weights: live.weights };
  }
  const blue = heal ? heal.to : live.kind === 'live' ? live.slot : null;
  const green = blue === null ? 'a' : otherSlot(blue);
  const traffic = trafficPlan(config, stickinessSeconds);
  // Step Functions takes no task timeout under 1 s, and both may be 0. Resolvers move only after
  // the record TTL; a listener's weights apply at once (a sticky client stays where it was, and
  // only leaving a slot waits for it).
  const settle = Math.max(config.traffic.stepWaitSeconds, traffic.dns?.ttlSeconds ?? 0, 1);
  // A first deploy has nothing to shift away from: it goes to 100 % at once.
  const percents = blue === null ? [100] : config.traffic.steps;
  const checkIntervalSeconds = windowCheckInterval(
    config.termination.waitSeconds,
    config.termination.checkIntervalSeconds,
  );

  const plan: Omit<Plan, 'deadline'> = {
    deploymentId: deployment.deploymentId,
    app: deployment.app,
    env: deployment.env,
    version: deployment.version,
    artifactId: artifactId(deployment.artifact),
    ...(contentDigest
      ? {
          contentDigest,
          bakeKey: bakeKey(contentDigest, {
            bucket: deployment.artifact.bucket,
            format: deployment.format,
            parentImage: config.bake.parentImage,
            installCommand: config.bake.installCommand,
            installDirectory: config.bake.installDirectory,
            infrastructureConfigurationArn: config.bake.infrastructureConfigurationArn,
          }),
        }
      : {}),
    artifactVersionId: deployment.artifact.versionId,
    config: {
      bucket: deployment.artifact.bucket,
      key: configKey(deployment.app, deployment.env),
      versionId: configVersionId,
    },
    startedAt: now.toISOString(),
    blue,
    green,
    blueTargetCount,
    instanceCount: config.instanceCount ?? Math.max(1, blueTargetCount),
    slots: config.slots,
    ...traffic,
    launchTemplate: config.launchTemplate,
    bake: {
      parentImage: config.bake.parentImage,
      infrastructureConfigurationArn: config.bake.infrastructureConfigurationArn,
      timeoutMinutes: config.bake.timeoutMinutes,
      ...boundedPoll(config.bake.timeoutMinutes * 60, config.bake.pollSeconds),
    },
    health: { ...config.health, ...boundedPoll(config.health.timeoutSeconds, config.health.pollSeconds) },
    steps: percents.map((percent) => ({ percent, settleSeconds: settle })),
    alarmCount: config.alarms.length,
    termination: {
      waitSeconds: config.termination.waitSeconds,
      checkIntervalSeconds,
      // The window begins once clients have left blue. A record TTL is over by the first check (the
      // last step settles at least that long); a listener's stickiness may not be, and the checks
      // go on meanwhile, so they count too.
      maxChecks:
        Math.ceil(
          (config.termination.waitSeconds + (traffic.listener ? traffic.leaveSeconds : 0)) /
            checkIntervalSeconds,
        ) + 2,
    },
    topicArn: config.notifications.topicArn ?? defaultTopicArn,
    ...(heal ? { heal } : {}),
    approval: {
      // A first deploy shifts nothing away from anyone, but is still a change a person may gate.
      beforeShift: config.approval?.before.includes('traffic-shift') ?? false,
      beforeTermination: (config.approval?.before.includes('blue-termination') ?? false) && blue !== null,
      timeoutSeconds: config.approval?.timeoutSeconds ?? 86400,
    },
  };
  return { ...plan, deadline: deadlineOf(plan, now) };
}

/**
 * Where the steps write, and how long a client may still reach a slot after its weight went to 0:
 * the records and their TTL, or the listener and its forward action's stickiness.
 */
export function trafficPlan(
  config: DeployConfig,
  stickinessSeconds: number,
): Pick<Plan, 'dns' | 'listener' | 'leaveSeconds'> {
  if (config.traffic.mode === 'alb') {
    const { listener } = config;
    if (!listener) throw new UnsafeToDeploy('traffic.mode alb needs listener');
    if (stickinessSeconds > LIMITS.ttlSeconds) {
      throw new UnsafeToDeploy(
        `the forward action of ${listener.ruleArn ?? listener.listenerArn} keeps a client on its target group for ${stickinessSeconds} s (target group stickiness), longer than the ${LIMITS.ttlSeconds} s the service waits for clients to leave a slot; set its duration to at most ${LIMITS.ttlSeconds} s`,
      );
    }
    return {
      listener: {
        listenerArn: listener.listenerArn,
        ...(listener.ruleArn ? { ruleArn: listener.ruleArn } : {}),
        stickinessSeconds,
      },
      leaveSeconds: stickinessSeconds,
    };
  }
  const { dns } = config;
  if (!dns) throw new UnsafeToDeploy('traffic.mode route53 needs dns');
  return {
    dns: { ...dns, pollSeconds: DNS_POLL_SECONDS, maxPolls: DNS_MAX_POLLS },
    leaveSeconds: dns.ttlSeconds,
  };
}

/** Where the termination window stands at `now`, and when to look again. */
export function windowProgress(
  startedAt: Date,
  waitSeconds: number,
  checkIntervalSeconds: number,
  now: Date,
): { endsAt: Date; done: boolean; nextCheckSeconds: number } {
  const endsAt = new Date(startedAt.getTime() + waitSeconds * 1000);
  const remaining = Math.ceil((endsAt.getTime() - now.getTime()) / 1000);
  return {
    endsAt,
    done: remaining <= 0,
    nextCheckSeconds: Math.max(0, Math.min(checkIntervalSeconds, remaining)),
  };
}
