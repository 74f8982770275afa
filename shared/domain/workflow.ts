import * as v from 'valibot';
import { InvalidConfig } from '../errors.ts';
import { parseWith } from '../validation.ts';
import type { DecisionRecord } from './approval.ts';
import { NAME_PATTERN, releaseKeyOf, S3_VERSION_ID_PATTERN, VERSION_PATTERN } from './artifact-key.ts';
import type { DeployConfig, SlotConfig } from './config.ts';
import type { PromotedWatch, Promotion } from './promotion.ts';
import { UPLOADER_PATTERN } from './provenance.ts';
import type { Outcome } from './report.ts';
import type { Slot } from './traffic.ts';

/**
 * The shapes of the data the state machine carries from task to task. Each task writes its result
 * under its own key (ResultPath), so the execution's state in the console reads as a record of
 * the deployment so far.
 */

/** Whether the date part of an ISO timestamp exists (2026-02-30 does not). */
function realDate(timestamp: string): boolean {
  const [year = 0, month = 0, day = 0] = timestamp.slice(0, 10).split('-').map(Number);
  return (
    new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day && !Number.isNaN(Date.parse(timestamp))
  );
}

/**
 * A time with its offset, made one canonical UTC string: uploads are ordered by comparing these
 * as text, which only works when every one is written the same way.
 */
const instant = v.pipe(
  v.string(),
  v.isoTimestamp('must be an ISO 8601 time with its offset, such as 2026-11-26T10:00:00.000Z'),
  v.check(realDate, 'is not a real time: check the date (2026-02-30 does not exist) and the offset (+01:00)'),
  v.transform((timestamp) => new Date(timestamp).toISOString()),
);

/** The execution input, written by the starter from the S3 event (or by a person in the console). */
const deploymentShape = {
  deploymentId: v.pipe(
    v.string(),
    v.regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be 1-80 characters of [A-Za-z0-9_-]'),
  ),
  app: v.pipe(v.string(), v.regex(NAME_PATTERN, 'must be 1-32 lowercase letters, digits or inner hyphens')),
  env: v.pipe(v.string(), v.regex(NAME_PATTERN, 'must be 1-32 lowercase letters, digits or inner hyphens')),
  version: v.pipe(v.string(), v.regex(VERSION_PATTERN, "must be 1-64 letters, digits, '.', '_' or '-'")),
  format: v.picklist(['zip', 'tar.gz']),
  /**
   * When the artifact was uploaded (the S3 event time, never later than its receipt): the newest
   * upload wins the lock.
   */
  uploadedAt: v.optional(instant),
  /**
   * The S3 delivery that started it: the starter's Lambda request id (Lambda keeps it when it
   * retries the invocation). Another delivery of the same event carries another, so Step Functions
   * refuses its start with ExecutionAlreadyExists instead of answering it as this start (same name
   * and same input), and the starter can tell it was a duplicate.
   */
  deliveryId: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
  /**
   * Who uploaded the artifact: the S3 event's principal (userIdentity.principalId), shown to
   * approvers. Absent in an execution started by hand.
   */
  uploadedBy: v.optional(
    v.pipe(v.string(), v.regex(UPLOADER_PATTERN, 'must be 1-256 letters, digits or _ + = , . @ : / -')),
  ),
  /**
   * The caller's id of a request to deploy this object again (a redeploy, identity.ts
   * redeployExecutionName): the same request retried gets the same name and input.
   */
  requestId: v.optional(
    v.pipe(v.string(), v.regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 letters, digits or . _ : -')),
  ),
  artifact: v.strictObject({
    bucket: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')),
    key: v.pipe(v.string(), v.minLength(1), v.maxLength(1024)),
    /** Always there when S3 started the execution (the release bucket is versioned). */
    versionId: v.optional(
      v.pipe(
        v.string(),
        v.regex(S3_VERSION_ID_PATTERN, 'must be an S3 version id: 1-1024 letters, digits, . _ - + / ='),
      ),
    ),
    eTag: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(1024))),
    size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER))),
  }),
};

/**
 * The key must be the one app, env, version and format name: the bake downloads this key, and
 * every name and tag is made from the other four, so they cannot tell different stories.
 */
const KEY_MATCHES =
  'must be releases/<app>/<env>/<version>.<format> with the app, env, version and format given';
type KeyFields = {
  app: string;
  env: string;
  version: string;
  format: 'zip' | 'tar.gz';
  artifact: { key: string };
};
const keyMatches = (input: KeyFields) => input.artifact.key === releaseKeyOf(input);
const KEY_PATHS = [['app'], ['env'], ['version'], ['format'], ['artifact', 'key']] as const;

/** The execution input exactly: a hand-started execution with an unknown key is refused. */
export const deploymentInputSchema = v.pipe(
  v.strictObject(deploymentShape),
  v.forward(v.partialCheck(KEY_PATHS, keyMatches, KEY_MATCHES), ['artifact', 'key']),
);
/** The input's fields within the execution state, which also holds what the tasks wrote. */
export const deploymentFieldsSchema = v.pipe(
  v.object(deploymentShape),
  v.forward(v.partialCheck(KEY_PATHS, keyMatches, KEY_MATCHES), ['artifact', 'key']),
);
export type DeploymentInput = v.InferOutput<typeof deploymentInputSchema>;
/** A deployment whose artifact's S3 version id is known, as Plan makes it before planning. */
export type PinnedDeployment = DeploymentInput & { artifact: { versionId: string } };

/**
 * The deployment's fields out of an execution's input or state (`exact`: nothing else allowed),
 * or InvalidConfig naming every bad field: an execution started by hand gets a clear refusal.
 */
export function readDeployment(raw: unknown, exact = false): DeploymentInput {
  const parsed = parseWith(exact ? deploymentInputSchema : deploymentFieldsSchema, raw);
  if (parsed.ok) return parsed.value;
  throw new InvalidConfig(`execution input is invalid: ${parsed.problems.join('; ')}`);
}

/** The Route 53 weighted records of a route53-mode deployment, and how its changes are polled. */
export type RecordsPlan = NonNullable<DeployConfig['dns']> & { pollSeconds: number; maxPolls: number };

/** The listener (or rule) of an alb-mode deployment, and the stickiness its forward action had at Plan. */
export interface ListenerPlan {
  listenerArn: string;
  ruleArn?: string;
  stickinessSeconds: number;
}

/**
 * fleet.kind autoScalingGroup: green's group, sized, bounded and placed like blue's (or as the
 * config says on a first deploy), and blue's group, held at its size while green takes traffic.
 */
export interface GroupPlan {
  /** Green's group, made by launchGreen (greenGroupName). */
  name: string;
  desired: number;
  min: number;
  max: number;
  /** VPCZoneIdentifier: the subnets, comma-separated. */
  subnets: string;
  gracePeriodSeconds: number;
  /** Blue's group (attached to blue's target group, tagged as the service's); absent on a first deploy. */
  blue?: string;
  /**
   * The processes the service holds both groups by (their scaling policies' alarms, scheduled
   * actions) that blue's group already had suspended at Plan: its owner's choice, left suspended
   * on both groups when the service lets them scale again.
   */
  heldBefore?: string[];
}

export interface Plan {
  deploymentId: string;
  app: string;
  env: string;
  version: string;
  artifactId: string;
  /**
   * The digest of the artifact's content, from the SHA-256 checksum S3 stores with it (identity.ts
   * contentDigest); absent when it has none.
   */
  contentDigest?: string;
  /**
   * The content digest with every other input of the bake (bake.ts bakeKey), when there is a
   * digest: the bake reuses an AMI of this app/env baked from the same content with the same
   * inputs, whatever key or version it came from.
   */
  bakeKey?: string;
  /**
   * The S3 version id of the artifact this deployment bakes: the event's, or for an execution
   * started by hand without one, the version Plan found under the key (and checked against the
   * ETag when one was given). The bake downloads exactly this version.
   */
  artifactVersionId: string;
  /**
   * The config object this deployment read, by its S3 version: tasks that need what the plan does
   * not carry (alarm names, approvers, the install command) read exactly that version, so the
   * state stays small however long the config's lists are, and a config written meanwhile changes
   * nothing of a running deploy.
   */
  config: PinnedConfig;
  startedAt: string;
  /**
   * When the deployment has run longer than its config allows (deadline.ts): every task invoked
   * after it counts a DeploymentOverrun.
   */
  deadline: string;
  /** The slot serving traffic when the deploy started; null on a first deploy. */
  blue: Slot | null;
  green: Slot;
  blueTargetCount: number;
  instanceCount: number;
  slots: Record<Slot, SlotConfig>;
  /** The weighted records the steps write (traffic.mode route53); absent in alb mode. */
  dns?: RecordsPlan;
  /** The listener or rule whose forward action the steps write (traffic.mode alb); absent in route53 mode. */
  listener?: ListenerPlan;
  /**
   * How long a client may still reach a slot after its weight went to 0: the record TTL (resolvers
   * cache the old answer), or the forward action's target group stickiness (a sticky client stays
   * on its group). Nothing of a slot is taken out of service, and the termination window does not
   * begin, before it has passed.
   */
  leaveSeconds: number;
  launchTemplate: DeployConfig['launchTemplate'];
  /** The bake's settings but the install command and directory (read from the config when baking). */
  bake: Omit<DeployConfig['bake'], 'installCommand' | 'installDirectory'> & { maxPolls: number };
  health: DeployConfig['health'] & { maxPolls: number };
  /** Percent on green after each step, and how long each step settles before it is checked. */
  steps: { percent: number; settleSeconds: number }[];
  /** How many alarms the config watches (their names are read from the pinned config). */
  alarmCount: number;
  termination: { waitSeconds: number; checkIntervalSeconds: number; maxChecks: number };
  topicArn: string;
  /** Both slots carried traffic and the config allows healing: everything moves to `to` first. */
  heal?: { to: Slot; from: Slot; weights: Record<Slot, number> };
  /** Where the deployment waits for a person; both false when no approval is configured. */
  approval: { beforeShift: boolean; beforeTermination: boolean; timeoutSeconds: number };
  /**
   * The version blue's fleet runs (its instances' bluegreen:version tag): what green replaces.
   * Absent on a first deploy, or when blue's instances do not say.
   */
  blueVersion?: string;
  /** Where the release came from, for the people asked to approve it; absent when nothing says. */
  release?: ReleaseProvenance;
  /** fleet.kind autoScalingGroup: the groups; absent when the fleet is bare instances. */
  group?: GroupPlan;
}

/**
 * Who uploaded the artifact (the S3 event's principal) and the commit and change note its object
 * metadata carries (x-amz-meta-commit, x-amz-meta-changes). Text from people: each is one line,
 * bounded, and escaped or quoted wherever it is shown.
 */
export interface ReleaseProvenance {
  uploadedBy?: string;
  commit?: string;
  changes?: string;
}

/** Where a deployment's config is, as the version Plan read. */
export interface PinnedConfig {
  bucket: string;
  key: string;
  versionId: string;
}

export interface BakeState {
  status: 'AVAILABLE' | 'BUILDING';
  reused: boolean;
  amiId?: string;
  imageBuildVersionArn?: string;
  startedAt: string;
  completedAt?: string;
  polls: number;
}

/** The green fleet: found by this deployment's tag, so the state carries its size, not its ids. */
export interface GreenFleet {
  slot: Slot;
  amiId: string;
  launched: number;
  launchedAt: string;
}

export interface HealthState {
  status: 'HEALTHY' | 'WAITING';
  polls: number;
  healthyCount: number;
  total: number;
  summary: string;
  healthyAt?: string;
}

export interface DnsChange {
  changeId: string;
  status: 'PENDING' | 'INSYNC';
  polls: number;
  maxPolls: number;
  /** Seconds to wait before the next check (the state machine's Wait reads it). */
  pollSeconds: number;
  submittedAt: string;
  syncedAt?: string;
}

export interface ShiftState {
  index: number;
  percent: number;
  weights: Record<Slot, number>;
  isLast: boolean;
  settleSeconds: number;
  dns: DnsChange;
}

export interface StepCheck {
  checkedAt: string;
  summary: string;
  /** The steps whose settle wait an operator promoted so far (absent while none was). */
  promotions?: Promotion[];
}

export interface WindowState {
  startedAt: string;
  endsAt: string;
  checks: number;
  done: boolean;
  nextCheckSeconds: number;
  /** When this check began: the next one looks for alarms that fired since. */
  checkedAt: string;
  summary: string;
  /** The operator's promote that ended the window early (it ends once started, after its checks). */
  promotions?: Promotion[];
}

/** Blue taken out of service: counts (blue is found by its slot's tags again to be terminated). */
export interface BlueDrain {
  slot: Slot;
  instances: number;
  deregistered: number;
  deregisteredAt: string;
  /** When ELB's deregistration delay is over: draining ends then at the latest. */
  drainUntil: string;
  drained: boolean;
  reason: string;
  polls: number;
  maxPolls: number;
  pollSeconds: number;
  nextCheckSeconds: number;
}

export interface BlueRetirement {
  slot: Slot;
  deregistered: number;
  terminated: number;
  at: string;
}

/** What a Catch puts under $.failure: Error is the thrown name, Cause the message (see parseCause). */
export interface CaughtFailure {
  Error: string;
  Cause?: string;
}

export interface TrafficRollback {
  /**
   * When the watched alarm that caused the rollback went into ALARM (the earliest, when the cause
   * names several): read from the failure's cause, so a retried task records the same time.
   */
  alarmedAt?: string;
  /**
   * How long to wait before green is drained: plan.leaveSeconds, or longer when the listener's
   * forward action keeps a client on its target group longer than it did at Plan.
   */
  leaveSeconds: number;
  changed: boolean;
  weights: Record<Slot, number> | null;
  summary: string;
  dns: DnsChange | null;
}

/** Green taken out of service in a rollback, before it is terminated. */
export interface GreenDrain {
  instances: number;
  deregistered: number;
  /** How long to let requests in flight finish: the target group's deregistration delay. */
  drainSeconds: number;
}

export interface GreenRemoval {
  deregistered: number;
  terminated: number;
  summary: string;
}

/** Healing a traffic split: the slot that lost its traffic, taken out of service, then retired. */
export interface ClearedSlot {
  slot: Slot;
  instances: number;
  deregistered: number;
  /** How long to let the deregistered targets drain: the target group's deregistration delay. */
  drainSeconds: number;
  terminated?: number;
}

/** The final notification as published (its summary is the cause the execution fails with). */
export interface Notification {
  outcome: Outcome;
  subject: string;
  summary: string;
  leftOver: string[];
  messageId: string;
}

export interface LockState {
  acquiredAt: string;
  tookOverFrom?: string;
}

/**
 * The accumulated execution state; each key appears once its task has run. statemachines/deploy.ts
 * writes the ASL's paths against this type: a result key missing here does not compile.
 */
export interface DeploymentState extends DeploymentInput {
  lock?: LockState;
  /** Set while a traffic split is healed (traffic.healSplit). */
  healing?: { to: Slot; from: Slot; dns: DnsChange };
  plan?: Plan;
  /** The slot a heal took the traffic from, on its way out. */
  cleared?: ClearedSlot;
  bake?: BakeState;
  /** How the last wait for the bake ended: the build's final status, or its timeout (checked anyway). */
  bakeEvent?: { status: string } | CaughtFailure;
  green?: GreenFleet;
  health?: HealthState;
  shift?: ShiftState;
  check?: StepCheck;
  /**
   * How the last alarm watch ended: its timeout when no alarm fired (an alarm rolls back), or an
   * operator's promote.
   */
  watch?: CaughtFailure | PromotedWatch;
  window?: WindowState;
  drain?: BlueDrain;
  retired?: BlueRetirement;
  failure?: CaughtFailure;
  /** Set when a rollback step failed after its retries. */
  rollbackFailure?: CaughtFailure;
  shiftApproval?: DecisionRecord;
  terminationApproval?: DecisionRecord;
  rollbackTraffic?: TrafficRollback;
  greenDrain?: GreenDrain;
  greenRemoval?: GreenRemoval;
  notification?: Notification;
  /** Set when the final notification could not be sent; the execution ends all the same. */
  notificationFailure?: CaughtFailure;
}

/** The errors of the state machine's Fail states: the ends it reaches through its own paths. */
export const WORKFLOW_END_ERRORS = [
  'DeploymentFailed',
  'DeploymentRolledBack',
  'RollbackFailed',
  'BlueNotTerminated',
  'DeploymentSuperseded',
] as const;

/**
 * Whether an execution ended through its own paths (succeeded, or failed in one of its Fail
 * states), so nothing is left to recover but the lock; not when stopped, timed out or crashed.
 */
export function endedOnItsOwnPath(status: string | undefined, error: string | null | undefined): boolean {
  return (
    status === 'SUCCEEDED' ||
    (status === 'FAILED' && (WORKFLOW_END_ERRORS as readonly string[]).includes(error ?? ''))
  );
}
