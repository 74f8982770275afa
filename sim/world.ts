import { AsyncLocalStorage } from 'node:async_hooks';
import { AutoScalingModel } from './aws/autoscaling.ts';
import { CloudFormationModel } from './aws/cloudformation.ts';
import type { WorldContext } from './aws/context.ts';
import { DynamoDbModel } from './aws/dynamodb.ts';
import { Ec2Model, type SimInstance } from './aws/ec2.ts';
import { Elbv2Model } from './aws/elbv2.ts';
import { type AfterEffectFault, type FaultKind, faultError, responseLostError } from './aws/errors.ts';
import { EventBusModel } from './aws/eventbridge.ts';
import { IamModel } from './aws/iam.ts';
import { ImagebuilderModel } from './aws/imagebuilder.ts';
import { Route53Model } from './aws/route53.ts';
import { SfnModel } from './aws/sfn.ts';
import { CloudWatchModel, S3Model, SecretsModel, SnsModel, StsModel } from './aws/small.ts';
import { SlidingWindowLimit } from './aws/throttling.ts';
import type { WrittenMetrics } from './metrics.ts';

export const REGION = 'us-east-1';
/** How finely the groups catch up on time that passed without a call, and at most how many steps. */
const GROUP_STEP_MS = 10_000;
const MAX_GROUP_STEPS = 720;
export const ACCOUNT = '123456789012';
export const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:bluegreen-ec2-sim-deploy`;
export const ROLLBACK_STATE_MACHINE_ARN = `${STATE_MACHINE_ARN}-rollback`;
export const DEFAULT_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:bluegreen-ec2-sim-deployments`;
/** The topics the simulated service may notify beside its own (its stack parameter NotificationTopicNames). */
export const TOPIC_NAMES = 'bluegreen-*';
export const APPROVALS_TABLE = 'bluegreen-ec2-sim-approvals';
export const LOCKS_TABLE = 'bluegreen-ec2-sim-locks';
export const SIGNING_SECRET_ID = 'bluegreen-ec2-sim/approval-signing-key';
export const APPROVAL_BASE_URL = 'https://approvals.example.test';

export type Service =
  | 'ec2'
  | 'autoscaling'
  | 'elbv2'
  | 'route53'
  | 'imagebuilder'
  | 'cloudwatch'
  | 'sns'
  | 's3'
  | 'sfn'
  | 'dynamodb'
  | 'secretsmanager'
  | 'cloudformation'
  | 'sts'
  | 'iam'
  | 'events';

/**
 * Makes a call fail: `times` times, optionally only when `when` says so. A FaultKind fails the
 * call before it does anything; an AfterEffectFault lets it take effect and then loses its response.
 */
export interface FaultRule {
  service: Service;
  /** Operation name (e.g. ChangeResourceRecordSets); all operations when absent. */
  operation?: string;
  kind: FaultKind | AfterEffectFault;
  times: number;
  /** Only calls for which this holds are failed (and counted). */
  when?: (input: unknown) => boolean;
}

export interface ApiCall {
  at: number;
  service: Service;
  operation: string;
  error?: string;
  /** The execution whose task made the call (undefined for the starter). */
  actor?: string;
  /** The serverless.yml function whose handler made the call. */
  fn?: string;
}

/** Which execution's task is running, carried through its promise chain. */
export const actor = new AsyncLocalStorage<string>();

/** Which Lambda function's handler is running (its serverless.yml key). */
export const lambdaFunction = new AsyncLocalStorage<string>();

/** Who makes a call that is not the service's: a person, in a test that checks the monitor. */
export const SOMEONE_ELSE = '(someone else)';

/**
 * The operator at the `bluegreen` command line: a person's own credentials, not a role of the
 * service (README "Command line" lists what it needs).
 */
export const OPERATOR = '(operator)';

/** Runs `action` as the operator at the command line. */
export function asOperator<T>(action: () => T): T {
  return lambdaFunction.run(OPERATOR, action);
}

/** Runs `action` as someone other than the service (its calls are not the service's roles'). */
export function asSomeoneElse<T>(action: () => T): T {
  return lambdaFunction.run(SOMEONE_ELSE, action);
}

/**
 * Listeners told of every API call before the world answers it, with its input and the world as
 * it is then (the IAM evaluation turns each call into the requests AWS would authorize).
 */
export const callObservers = new Set<(world: World, call: ApiCall, input: unknown) => void>();

/** A fault every AWS call made inside this scope meets (the fault matrix sets it per task). */
export const ambientFault = new AsyncLocalStorage<FaultKind>();

/** Listeners the safety monitor and scenarios hang on the world. */
export interface WorldHooks {
  beforeTerminate?: (instance: SimInstance) => void;
  afterRecordsChange?: (zoneId: string) => void;
}

/**
 * A simulated AWS account: the service models, the faults injected into them, and a log of every
 * API call. Time is whatever Date.now() says: the virtual clock when the simulator runs.
 */
export class World implements WorldContext {
  readonly ec2: Ec2Model;
  readonly elbv2: Elbv2Model;
  readonly autoscaling: AutoScalingModel;
  readonly route53: Route53Model;
  readonly imagebuilder: ImagebuilderModel;
  readonly cloudwatch: CloudWatchModel;
  readonly sns: SnsModel;
  readonly s3: S3Model;
  readonly sfn: SfnModel;
  readonly dynamodb = new DynamoDbModel();
  readonly events: EventBusModel;
  readonly secretsmanager = new SecretsModel();
  /** People's identities, for requests they sign; instance profiles and the policy simulator. */
  readonly iam = new IamModel(ACCOUNT);
  readonly cloudformation = new CloudFormationModel();
  readonly sts = new StsModel(ACCOUNT);
  readonly faults: FaultRule[] = [];
  readonly calls: ApiCall[] = [];
  readonly hooks: WorldHooks[] = [];
  /** The embedded-metric-format documents the service's functions wrote, in order. */
  readonly metrics: WrittenMetrics[] = [];
  readonly startedAt: number;
  readonly region = REGION;
  private counter = 0;

  constructor() {
    this.startedAt = Date.now();
    this.ec2 = new Ec2Model(this);
    this.elbv2 = new Elbv2Model(this, this.ec2);
    this.autoscaling = new AutoScalingModel(this, this.ec2, this.elbv2, ACCOUNT);
    this.route53 = new Route53Model(this);
    this.cloudwatch = new CloudWatchModel(this);
    this.sns = new SnsModel(this);
    this.s3 = new S3Model(this);
    this.imagebuilder = new ImagebuilderModel(this, this.ec2, this.s3, REGION, ACCOUNT);
    this.sfn = new SfnModel(this, STATE_MACHINE_ARN, ROLLBACK_STATE_MACHINE_ARN);
    this.events = new EventBusModel(ACCOUNT, REGION, () => this.now());
  }

  now(): number {
    return this.replayingAt ?? Date.now();
  }

  /** While the groups catch up on time that passed without a call: the moment they are at. */
  private replayingAt: number | undefined;
  /** When the groups were last brought up to date. */
  private reconciledAt: number | undefined;

  id(prefix: string, hexDigits: number): string {
    this.counter += 1;
    return `${prefix}${this.counter.toString(16).padStart(hexDigits, '0')}`;
  }

  beforeTerminate(instance: SimInstance): void {
    for (const hook of this.hooks) hook.beforeTerminate?.(instance);
  }

  /** Runs `action` at virtual time `at` (the simulation keeps going until then). */
  schedule(at: number, action: () => void): void {
    this.scheduled += 1;
    setTimeout(
      () => {
        this.scheduled -= 1;
        action();
      },
      Math.max(0, at - this.now()),
    );
  }

  /** Scheduled actions still to run. */
  scheduled = 0;

  /** Route 53's account-wide rate limit (requests per second); off unless a scenario sets it. */
  route53RatePerSecond: number | undefined;
  private route53Limit: SlidingWindowLimit | undefined;

  /** Whether the account's rate limits admit the call (a refused one is throttled and takes nothing). */
  private admitted(service: Service, operation: string, input: unknown, now: number): boolean {
    if (service === 'ec2') return this.ec2.rateLimits?.admitRequest(operation, input) ?? true;
    if (service !== 'route53' || this.route53RatePerSecond === undefined) return true;
    if (this.route53Limit?.perSecond !== this.route53RatePerSecond)
      this.route53Limit = new SlidingWindowLimit(this.route53RatePerSecond);
    return this.route53Limit.take(now);
  }

  afterRecordsChange(zoneId: string): void {
    for (const hook of this.hooks) hook.afterRecordsChange?.(zoneId);
  }

  inject(rule: FaultRule): void {
    this.faults.push(rule);
  }

  private model(service: Service): Record<string, unknown> {
    return this[service] as unknown as Record<string, unknown>;
  }

  /**
   * Brings the Auto Scaling groups up to date with the time, as Auto Scaling itself: outside any
   * execution's or function's context, so what the groups launch and terminate is no role's doing.
   */
  reconcileGroups(): void {
    actor.exit(() => lambdaFunction.exit(() => this.catchUpGroups()));
  }

  /**
   * Time passes between calls (a Wait state, a task's backoff) without anyone asking: the groups
   * catch up on it step by step, as if Auto Scaling had been at work all along (an instance failing
   * its checks is replaced, and its replacement boots, while nobody calls), each step at its own
   * moment (now() answers it), then at the present.
   */
  private catchUpGroups(): void {
    const now = Date.now();
    const from = this.reconciledAt ?? now;
    this.reconciledAt = now;
    if (this.autoscaling.groups.size > 0 && now - from > GROUP_STEP_MS) {
      const step = Math.max(GROUP_STEP_MS, Math.ceil((now - from) / MAX_GROUP_STEPS));
      try {
        for (let at = from + step; at < now; at += step) {
          this.replayingAt = at;
          this.autoscaling.reconcile();
        }
      } finally {
        this.replayingAt = undefined;
      }
    }
    this.autoscaling.reconcile();
  }

  /** One API call, as the SDK client would make it. */
  async call(service: Service, operation: string, input: unknown): Promise<unknown> {
    // Auto Scaling works on its own time: whatever it did since the last call is done first.
    this.reconcileGroups();
    const by = actor.getStore();
    const fn = lambdaFunction.getStore();
    const call: ApiCall = {
      at: this.now(),
      service,
      operation,
      ...(by ? { actor: by } : {}),
      ...(fn ? { fn } : {}),
    };
    this.record(call, input);
    const rule = this.faults.find(
      (f) =>
        f.times > 0 &&
        f.service === service &&
        (!f.operation || f.operation === operation) &&
        (!f.when || f.when(input)),
    );
    if (!this.admitted(service, operation, input, call.at)) {
      const error = faultError(service, operation, 'throttle');
      call.error = error.name;
      throw error;
    }
    const ambient = ambientFault.getStore();
    if (ambient) {
      const error = faultError(service, operation, ambient);
      call.error = error.name;
      throw error;
    }
    if (rule) {
      rule.times -= 1;
      if (rule.kind === 'response-lost' || rule.kind === 'response-lost-then-retried') {
        return this.loseResponse(service, operation, input, call, rule.kind);
      }
      const error = faultError(service, operation, rule.kind);
      call.error = error.name;
      throw error;
    }
    return this.answer(service, operation, input, call);
  }

  /** Logs a call and tells the observers, before the world answers it. */
  private record(call: ApiCall, input: unknown): void {
    this.calls.push(call);
    for (const observe of callObservers) observe(this, call, input);
  }

  private answer(service: Service, operation: string, input: unknown, call: ApiCall): unknown {
    const model = this.model(service);
    const handler = model[operation];
    if (typeof handler !== 'function') {
      throw new Error(`the simulated ${service} does not implement ${operation}`);
    }
    try {
      const output = (handler as (input: unknown) => unknown).call(model, input ?? {});
      // What the call asked of a group (a new one, a new size) starts at once, not at the next call.
      if (service === 'autoscaling') this.reconcileGroups();
      return output;
    } catch (error) {
      call.error = (error as Error).name;
      throw error;
    }
  }

  /** The call takes effect; its response is lost, and the SDK may send it once more. */
  private loseResponse(
    service: Service,
    operation: string,
    input: unknown,
    call: ApiCall,
    kind: AfterEffectFault,
  ): unknown {
    try {
      this.answer(service, operation, input, call);
    } catch {
      // Whatever it answered, the caller never hears it.
    }
    const lost = responseLostError(service, operation);
    call.error = lost.name;
    if (kind === 'response-lost') throw lost;
    const retry: ApiCall = { ...call, at: this.now() };
    delete retry.error;
    this.record(retry, input);
    try {
      return this.answer(service, operation, input, retry);
    } catch (error) {
      const metadata = ((error as { $metadata?: object }).$metadata ?? {}) as Record<string, unknown>;
      (error as { $metadata?: object }).$metadata = { ...metadata, attempts: 2 };
      throw error;
    }
  }

  /** API calls by `service:Operation`, for reports. */
  callCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const call of this.calls) {
      const key = `${call.service}:${call.operation}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }
}
