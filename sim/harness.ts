import type { Context, S3Event, S3EventRecord } from 'aws-lambda';
import { RELEASE_PREFIX } from '#shared/domain/artifact-key.ts';
import type { SimExecution } from './aws/sfn.ts';
import type { UploadOptions } from './aws/small.ts';
import type { InstalledClock } from './clock.ts';
import {
  type LoadedDefinition,
  loadDefinition,
  loadEventRules,
  loadScheduleRules,
  ROLLBACK_ASL_PATH,
  type ScheduleRule,
} from './definition.ts';
import type { Printer } from './printer.ts';
import { type ExecutionObserver, type Handler, Runner, type TaskInterceptor } from './runner.ts';
import { actor, type World } from './world.ts';
import { BUCKET, s3Record } from './worlds.ts';

/**
 * The wiring every simulation shares: S3 deliveries to the starter (retried as Lambda retries an
 * async invocation), EventBridge rules of serverless.yml routing AWS events to their functions,
 * Step Functions status-change events, and the runner that executes the state machine. Keeps count
 * of what is still to happen, so the clock runs until everything has.
 */
/** Lambda retries a failed asynchronous invocation twice (its default). */
const ASYNC_RETRIES = 2;

export class Harness {
  readonly runner: Runner;
  private pending = 0;

  /** Each event-driven function's timeout in seconds, from serverless.yml. */
  private readonly timeouts = new Map<string, number>();

  constructor(
    readonly world: World,
    private readonly handlers: Record<string, Handler>,
    loaded: LoadedDefinition,
    private readonly printer: Printer,
    observers: ExecutionObserver[],
    options: {
      intercept?: TaskInterceptor | undefined;
      taskLatencyMs?: number | undefined;
      /** Wait states that last this many seconds instead of their own (Step Functions late). */
      lateWaits?: Partial<Record<string, number>> | undefined;
    } = {},
  ) {
    const rules = loadEventRules({
      DeployStateMachine: world.sfn.stateMachineArn,
      RollbackStateMachine: world.sfn.rollbackStateMachineArn,
    });
    world.events.rules.push(...rules);
    for (const rule of rules) this.timeouts.set(rule.target, rule.timeoutSeconds);
    world.events.deliver = (target, event) => this.after(1, () => this.onEvent(target, event));
    this.schedules = loadScheduleRules();
    for (const rule of this.schedules) this.timeouts.set(rule.target, rule.timeoutSeconds);
    const statusEvents: ExecutionObserver = {
      executionEnded: (execution: SimExecution) =>
        world.events.put({
          source: 'aws.states',
          'detail-type': 'Step Functions Execution Status Change',
          resources: [execution.arn],
          detail: {
            executionArn: execution.arn,
            stateMachineArn: execution.stateMachineArn,
            name: execution.name,
            status: execution.status,
            startDate: execution.startedAt,
            stopDate: execution.stoppedAt ?? null,
            input: execution.input,
            error: execution.error ?? null,
            cause: execution.cause ?? null,
          },
        }),
    };
    this.runner = new Runner(loaded, handlers, [...observers, printer, statusEvents], world.sfn);
    this.runner.add(world.sfn.rollbackStateMachineArn, loadDefinition(ROLLBACK_ASL_PATH));
    if (options.intercept) this.runner.interceptor = options.intercept;
    if (options.taskLatencyMs) this.runner.taskLatencyMs = options.taskLatencyMs;
    if (options.lateWaits) this.runner.lateWaits = options.lateWaits;
    world.sfn.onStart = (execution) => this.runner.start(execution);
    world.sfn.onStop = (execution) => this.runner.stop(execution.name);
    // The release bucket notifies the starter of every release upload (serverless.yml's S3 event).
    world.s3.onPut = (bucket, key, object) => {
      if (bucket === BUCKET && key.startsWith(RELEASE_PREFIX) && /\.(zip|tar\.gz)$/.test(key))
        this.deliver([s3Record(bucket, key, object, world.now())]);
    };
  }

  /** Scheduled rules of serverless.yml, and which of them have their next invocation set. */
  private readonly schedules: ScheduleRule[];
  private readonly armed = new Set<string>();
  private clock: InstalledClock | undefined;

  /**
   * A scheduled rule invokes its function on the rate's boundaries of virtual time while anything
   * runs (unless the world switched it off). Its invocations keep nothing waiting (the clock runs
   * until the executions end, not until a scheduled function has), and a schedule that is the only
   * thing left stops, so an execution that nothing else would move is still reported as stalled.
   */
  private arm(rule: ScheduleRule, alone = 0): void {
    if (this.armed.has(rule.target)) return;
    this.armed.add(rule.target);
    const every = rule.everySeconds * 1000;
    const now = this.world.now();
    setTimeout(
      () => {
        this.armed.delete(rule.target);
        const lonely = (this.clock?.countTimers() ?? 0) === 0 ? alone + 1 : 0;
        if (!this.runner.busy && this.pending === 0) return;
        if (!this.world.events.schedulesOff.has(rule.target)) {
          this.world.events.scheduled.push({ at: this.world.now(), target: rule.target });
          this.invokeScheduled(rule.target);
        }
        if (lonely < 2) this.arm(rule, lonely);
      },
      Math.ceil((now + 1) / every) * every - now,
    );
  }

  private invokeScheduled(target: string): void {
    const handler = this.handlers[target];
    if (!handler) throw new Error(`a schedule targets ${target}, which serverless.yml does not define`);
    const deadline = this.world.now() + (this.timeouts.get(target) ?? 3) * 1000;
    const context = {
      awsRequestId: `schedule-${target}-${this.world.now()}`,
      getRemainingTimeInMillis: () => deadline - this.world.now(),
    } as Context;
    const event = { source: 'aws.events', 'detail-type': 'Scheduled Event', time: new Date().toISOString() };
    void Promise.resolve(handler(event, context)).catch((error: Error) =>
      this.printer.note(`${target} failed on its schedule: ${error.name}: ${error.message}`),
    );
  }

  /** Something more will happen later: the clock must keep running until it has. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.pending += 1;
    return promise.finally(() => {
      this.pending -= 1;
    });
  }

  /** Runs something after `seconds` of virtual time. */
  after(seconds: number, action: () => void): void {
    this.pending += 1;
    setTimeout(() => {
      this.pending -= 1;
      action();
    }, seconds * 1000);
  }

  /** Writes an object and returns the S3 event record S3 would send for it. */
  upload(key: string, body = 'artifact', options: UploadOptions = {}): S3EventRecord {
    const object = this.world.s3.put(BUCKET, key, body, options);
    return s3Record(BUCKET, key, { ...object, size: body.length }, this.world.now());
  }

  private deliveries = 0;

  /** Delivers an S3 event to the starter after `afterSeconds`. */
  deliver(records: S3EventRecord[], afterSeconds = 0): void {
    // Each delivery is its own asynchronous invocation, with its own request id.
    const requestId = `s3-delivery-${++this.deliveries}`;
    this.after(afterSeconds, () => void this.track(this.start({ Records: records }, requestId, 0)));
  }

  // S3 invokes the starter asynchronously: Lambda retries a failed invocation twice, with the
  // invocation's own request id.
  private async start(event: S3Event, requestId: string, attempt: number): Promise<void> {
    try {
      const result = await this.handlers.startDeployment?.(event, {
        awsRequestId: requestId,
        getRemainingTimeInMillis: () => 60_000,
      } as Context);
      this.printer.delivery(result as Parameters<Printer['delivery']>[0]);
    } catch (error) {
      this.printer.note(
        `starter failed (attempt ${attempt + 1}): ${(error as Error).name}: ${(error as Error).message}`,
      );
      if (attempt < 2) {
        await this.track(new Promise((resolve) => setTimeout(resolve, 60_000 * (attempt + 1))));
        await this.start(event, requestId, attempt + 1);
      }
    }
  }

  /**
   * One asynchronous invocation of an event rule's target, as Lambda makes it: a function error is
   * retried twice, after about 1 and 2 minutes (Lambda's default for asynchronous invocations).
   */
  private onEvent(
    target: string,
    event: Parameters<NonNullable<World['events']['deliver']>>[1],
    attempt = 0,
  ): void {
    const handler = this.handlers[target];
    if (!handler) throw new Error(`an event rule targets ${target}, which serverless.yml does not define`);
    const name = event.source === 'aws.states' ? String(event.detail.name) : undefined;
    // The function's own timeout (serverless.yml), on the virtual clock.
    const deadline = this.world.now() + (this.timeouts.get(target) ?? 3) * 1000;
    const context = {
      awsRequestId: event.id,
      getRemainingTimeInMillis: () => deadline - this.world.now(),
    } as Context;
    const run = () => handler(event, context);
    void this.track(name ? actor.run(name, run) : run()).then(
      (result) => {
        const r = result as { actions?: string[]; leftOver?: string[] } | undefined;
        if (r?.actions?.length) this.printer.note(`recovery of ${name}: ${r.actions.join('; ')}`);
        if (r?.leftOver?.length) this.printer.note(`left for a person: ${r.leftOver.join('; ')}`);
      },
      (error: Error) => {
        const retryIn = attempt < ASYNC_RETRIES ? 60 * (attempt + 1) : undefined;
        this.printer.note(
          `${target} failed on ${event['detail-type']}: ${error.name}: ${error.message}${retryIn ? `; Lambda retries in ${retryIn} s` : '; Lambda gives up'}`,
        );
        if (retryIn) this.after(retryIn, () => this.onEvent(target, event, attempt + 1));
      },
    );
  }

  /** Runs the clock until every execution has ended and nothing else is due. */
  run(clock: InstalledClock, hold: () => boolean = () => false): Promise<void> {
    this.clock = clock;
    for (const rule of this.schedules) this.arm(rule);
    return this.runner.runUntilSettled(clock, () => this.pending > 0, hold);
  }
}
