import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as realSetImmediate } from 'node:timers/promises';

/** A person gets this long (wall time) to answer before virtual time moves on without them. */
const MAX_HOLD_MS = 30 * 60_000;
/** How long real work in flight (see `whileInFlight`) may take before the simulation counts as stalled. */
const MAX_IN_FLIGHT_MS = 120_000;

/** Captured before the virtual clock replaces the global one. */
const realSetTimeout = globalThis.setTimeout;

import type { Context } from 'aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import type { SimExecution } from './aws/sfn.ts';
import type { InstalledClock } from './clock.ts';
import { functionArn, type LoadedDefinition } from './definition.ts';
import { actor } from './world.ts';

export type Handler = (input: unknown, context: Context) => Promise<unknown>;

/**
 * Inside a task: awaits an AWS call that takes virtual time (a scenario's slow response), letting
 * the clock move meanwhile, as it does not while a handler runs. Outside a task there is none.
 */
export const slowCall = new AsyncLocalStorage<<T>(call: Promise<T>) => Promise<T>>();

/** Task tokens for `.waitForTaskToken` states, which aws-local-stepfunctions does not generate. */
export interface CallbackBroker {
  issueToken(execution: string, state: string): string;
  waitFor(token: string): Promise<unknown>;
  closeTokens(execution: string, state?: string): void;
}

/**
 * Step Functions' payload quota: a state's input (after Parameters) or output, or a task's result,
 * of more than 256 KiB of UTF-8 JSON fails the execution with States.DataLimitExceeded, a terminal
 * error that no Catch, not even States.ALL, catches and no Retry retries
 * (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 */
export const PAYLOAD_LIMIT_BYTES = 262_144;

export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/** The error aws-local-stepfunctions neither retries nor catches (its own States.Runtime is such). */
class DataLimitExceeded extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(state: string, what: string, bytes: number) {
    super(
      `The ${what} of state "${state}" has ${bytes} bytes, more than the ${PAYLOAD_LIMIT_BYTES} bytes Step Functions allows`,
    );
    this.name = 'States.DataLimitExceeded';
  }
}

/** What $$.Task.Token holds until the runner puts a real token in the payload. */
const TOKEN_PLACEHOLDER = 'SIMULATED-TASK-TOKEN-PLACEHOLDER';

function withToken(value: unknown, token: string): unknown {
  if (value === TOKEN_PLACEHOLDER) return token;
  if (Array.isArray(value)) return value.map((v) => withToken(v, token));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withToken(v, token)]));
  }
  return value;
}

/** What the runner reports as an execution moves; the printer and the safety monitor listen. */
export interface ExecutionObserver {
  stateEntered?(execution: SimExecution, state: string, type: string): void;
  stateExited?(execution: SimExecution, state: string, type: string, output: unknown): void;
  stateFailed?(execution: SimExecution, state: string, error: string, cause: string): void;
  stateRetried?(execution: SimExecution, state: string, attempt: number): void;
  /** A Task state's function is about to be invoked with this input (each attempt). */
  taskInvoked?(execution: SimExecution, state: string, input: unknown): void;
  executionEnded?(execution: SimExecution): void;
}

/** Invokes a task as Lambda would: JSON in, JSON out, a context, errors by name and message. */
export type TaskInterceptor = (
  call: { execution: SimExecution; state: string; functionKey: string; input: unknown },
  invoke: () => Promise<unknown>,
) => Promise<unknown>;

function lambdaContext(functionKey: string, requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `bluegreen-ec2-sim-${functionKey}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(functionKey),
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/bluegreen-ec2-sim-${functionKey}`,
    logStreamName: 'simulated',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * State machines by their definition's text: aws-local-stepfunctions validates a definition when it
 * is constructed (most of a short run's time), and one machine runs any number of executions.
 */
const machines = new Map<string, StateMachine>();

function machineFor(definition: unknown): StateMachine {
  const key = JSON.stringify(definition);
  let machine = machines.get(key);
  if (!machine) {
    machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    machines.set(key, machine);
  }
  return machine;
}

/**
 * Runs executions of the real ASL with aws-local-stepfunctions, each Task state mapped to the real
 * handler of the function its Resource names, and drives the virtual clock until every execution
 * has ended. The clock only moves while no handler is running, as time in a Lambda is short next
 * to the waits between tasks.
 */
export class Runner {
  private readonly machine: StateMachine;
  /** Definitions of further state machines, by ARN (the rollback's); others run `loaded`. */
  private readonly others = new Map<string, { loaded: LoadedDefinition; machine: StateMachine }>();
  private readonly running = new Set<Promise<void>>();
  private readonly aborts = new Map<string, () => void>();
  /** Executions stopped by stop(): Step Functions schedules nothing more for them. */
  private readonly stopped = new Set<string>();
  private inFlight = 0;

  /** Whether any execution is still running. */
  get busy(): boolean {
    return this.running.size > 0;
  }
  private requests = 0;
  interceptor: TaskInterceptor | undefined;
  /** Virtual time a task takes before its result reaches the state machine (Lambda and transition latency). */
  taskLatencyMs = 0;
  /** Wait states Step Functions ends late: each lasts this many virtual seconds, every time. */
  lateWaits: Partial<Record<string, number>> = {};

  constructor(
    private readonly loaded: LoadedDefinition,
    private readonly handlers: Record<string, Handler>,
    private readonly observers: ExecutionObserver[],
    private readonly broker?: CallbackBroker,
  ) {
    this.machine = machineFor(loaded.definition);
  }

  /** Runs the executions of the state machine `arn` on this definition. */
  add(arn: string, loaded: LoadedDefinition): void {
    this.others.set(arn, { loaded, machine: machineFor(loaded.definition) });
  }

  private definitionOf(execution: SimExecution) {
    return this.others.get(execution.stateMachineArn) ?? { loaded: this.loaded, machine: this.machine };
  }

  private async invoke(
    execution: SimExecution,
    state: string,
    functionKey: string,
    input: unknown,
  ): Promise<unknown> {
    const handler = this.handlers[functionKey];
    if (!handler) throw new Error(`no handler for function ${functionKey} (state "${state}")`);
    this.inFlight += 1;
    try {
      const run = async () => {
        this.requests += 1;
        const event = JSON.parse(JSON.stringify(input ?? null));
        // A rollback execution acts for the deployment it rolls back (the monitor judges them as one).
        const slow = async <T>(call: Promise<T>): Promise<T> => {
          this.inFlight -= 1;
          try {
            return await call;
          } finally {
            this.inFlight += 1;
          }
        };
        const result = await actor.run(execution.deployment ?? execution.name, () =>
          slowCall.run(slow, () => handler(event, lambdaContext(functionKey, `sim-${this.requests}`))),
        );
        return result === undefined ? null : JSON.parse(JSON.stringify(result));
      };
      for (const o of this.observers) o.taskInvoked?.(execution, state, input);
      const call = { execution, state, functionKey, input };
      return await (this.interceptor ? this.interceptor(call, run) : run());
    } finally {
      this.inFlight -= 1;
      // Outside the in-flight count, so the clock can move through it.
      if (this.taskLatencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.taskLatencyMs));
    }
  }

  /**
   * `lambda:invoke.waitForTaskToken`: invoke the function with the payload (a fresh token in place
   * of $$.Task.Token), then wait for SendTaskSuccess / SendTaskFailure. The wait is not a running
   * handler, so the clock moves on, and the state's own timeout can fire.
   */
  private async invokeAndWait(
    execution: SimExecution,
    state: string,
    functionKey: string,
    input: unknown,
  ): Promise<unknown> {
    if (!this.broker) throw new Error(`state "${state}" waits for a task token but the runner has no broker`);
    const token = this.broker.issueToken(execution.name, state);
    const payload = withToken((input as { Payload?: unknown })?.Payload, token);
    try {
      await this.invoke(execution, state, functionKey, payload);
    } catch (error) {
      this.broker.closeTokens(execution.name, state);
      const { name, message } = error as Error;
      execution.history.push({ at: Date.now(), type: 'TaskFailed', error: name, cause: message });
      throw error;
    }
    execution.history.push({ at: Date.now(), type: 'TaskSubmitted' });
    return this.broker.waitFor(token);
  }

  /** Records the size of a payload; one over the quota fails the execution (see PAYLOAD_LIMIT_BYTES). */
  private measure(execution: SimExecution, state: string, what: string, value: unknown): void {
    const bytes = payloadBytes(value);
    if (bytes > (execution.largestPayload?.bytes ?? -1)) execution.largestPayload = { bytes, state, what };
    if (bytes > PAYLOAD_LIMIT_BYTES && !execution.dataLimitExceeded) {
      const error = new DataLimitExceeded(state, what, bytes);
      execution.dataLimitExceeded = error;
      this.aborts.get(execution.name)?.();
    }
  }

  /**
   * A task as Step Functions runs it: its input after Parameters and its result are within the
   * quota, and it is not started at all once the state it was entered with exceeded it (the
   * runner learns of states a moment after the library enters them, hence the pause).
   */
  private async task(execution: SimExecution, state: string, functionKey: string, input: unknown) {
    this.inFlight += 1;
    try {
      await realSetImmediate();
    } finally {
      this.inFlight -= 1;
    }
    this.measure(execution, state, 'input after Parameters', input);
    if (execution.dataLimitExceeded) throw execution.dataLimitExceeded;
    const result = this.definitionOf(execution).loaded.callbacks.has(state)
      ? await this.invokeAndWait(execution, state, functionKey, input)
      : await this.invoke(execution, state, functionKey, input);
    this.measure(execution, state, 'result', result);
    if (execution.dataLimitExceeded) throw execution.dataLimitExceeded;
    return result;
  }

  start(execution: SimExecution): void {
    const { loaded, machine } = this.definitionOf(execution);
    const taskResourceLocalHandlers = Object.fromEntries(
      Object.entries(loaded.tasks).map(([state, functionKey]) => [
        state,
        (input: unknown) => {
          // After abort() the library still fires a waiting task's timeout and retries it; Step
          // Functions runs nothing more for a stopped execution (a task already in flight goes on).
          if (this.stopped.has(execution.name)) return new Promise<never>(() => undefined);
          const call = this.task(execution, state, functionKey, input);
          // The runner may stop listening (a state's own timeout, a Stop): never leave it unhandled.
          call.catch(() => undefined);
          return call as never;
        },
      ]),
    );
    const run = machine.run(JSON.parse(execution.input), {
      overrides: {
        taskResourceLocalHandlers,
        waitTimeOverrides: Object.fromEntries(
          Object.entries(this.lateWaits).map(([state, seconds]) => [state, (seconds ?? 0) * 1000]),
        ),
      },
      noThrowOnAbort: true,
      context: {
        Execution: {
          Id: execution.arn,
          Name: execution.name,
          StartTime: new Date(execution.startedAt).toISOString(),
        },
        Task: { Token: TOKEN_PLACEHOLDER },
      },
    });
    this.aborts.set(execution.name, run.abort);
    const events = (async () => {
      for await (const event of run.eventLogs) {
        if (event.type === 'StateEntered') {
          this.measure(execution, event.state.name, 'input', event.state.input);
          execution.history.push({
            at: Date.now(),
            type: `${event.state.type}StateEntered`,
            name: event.state.name,
          });
          execution.transitions += 1;
          execution.states.push({ at: Date.now(), name: event.state.name, type: event.state.type });
          for (const o of this.observers) o.stateEntered?.(execution, event.state.name, event.state.type);
        } else if (event.type === 'StateExited') {
          this.measure(execution, event.state.name, 'output', event.state.output);
          this.broker?.closeTokens(execution.name, event.state.name);
          if (event.state.type === 'Task') {
            execution.history.push({
              at: Date.now(),
              type: 'TaskStateExited',
              name: event.state.name,
              output: JSON.stringify(event.state.output),
            });
          }
          for (const o of this.observers)
            o.stateExited?.(execution, event.state.name, event.state.type, event.state.output);
        } else if (event.type === 'StateFailed') {
          // A `.waitForTaskToken` wait that ran out (its own TimeoutSeconds) is a TaskTimedOut.
          if (event.Error === 'States.Timeout' && loaded.callbacks.has(event.state.name)) {
            execution.history.push({
              at: Date.now(),
              type: 'TaskTimedOut',
              error: 'States.Timeout',
              cause: String(event.Cause ?? ''),
            });
          }
          this.broker?.closeTokens(execution.name, event.state.name);
          for (const o of this.observers)
            o.stateFailed?.(execution, event.state.name, event.Error, String(event.Cause));
        } else if (event.type === 'StateRetried') {
          execution.retries += 1;
          for (const o of this.observers) o.stateRetried?.(execution, event.state.name, event.retry.attempt);
        }
      }
    })();
    const done = run.result.then(
      (output) => {
        const limit = execution.dataLimitExceeded;
        if (limit) {
          execution.status = 'FAILED';
          execution.error = limit.name;
          execution.cause = limit.message;
        } else if (output === null && execution.status === 'RUNNING') {
          execution.status = 'ABORTED';
        } else {
          execution.status = 'SUCCEEDED';
          execution.output = output;
        }
      },
      (error: Error & { cause?: Error }) => {
        execution.status = 'FAILED';
        execution.error = error.cause?.name ?? error.name;
        execution.cause = error.cause?.message ?? error.message;
      },
    );
    const settled: Promise<void> = Promise.all([done, events]).then(() => {
      execution.stoppedAt = Date.now();
      this.broker?.closeTokens(execution.name);
      this.running.delete(settled);
      this.aborts.delete(execution.name);
      for (const o of this.observers) o.executionEnded?.(execution);
    });
    this.running.add(settled);
  }

  /** Stops an execution as the console's Stop button does: no Catch runs. */
  stop(name: string): boolean {
    const abort = this.aborts.get(name);
    if (abort) this.stopped.add(name);
    abort?.();
    return abort !== undefined;
  }

  get active(): number {
    return this.running.size;
  }

  /**
   * Advances the virtual clock while `busy` holds, whether executions run or not, and only while
   * `asleep` does: a command at the command line moves time on only while it sleeps between its
   * looks (its sleeps are timers of the virtual clock), as no time passes in its calls.
   */
  async drive(clock: InstalledClock, busy: () => boolean, asleep: () => boolean): Promise<void> {
    while (busy()) {
      if (this.inFlight > 0 || clock.countTimers() === 0 || !asleep()) await realSetImmediate();
      else await clock.nextAsync();
    }
  }

  /**
   * Advances the virtual clock timer by timer until no execution runs and `keepGoing` (pending
   * scenario events) says there is nothing more to wait for.
   */
  /**
   * Work outside any task that virtual time must not move through, as a task's does not: a person's
   * request that does real I/O (reading IAM's reference data) in the middle of it.
   */
  async whileInFlight<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    try {
      return await work();
    } finally {
      this.inFlight -= 1;
    }
  }

  async runUntilSettled(
    clock: InstalledClock,
    keepGoing: () => boolean = () => false,
    hold: () => boolean = () => false,
  ): Promise<void> {
    let idleSpins = 0;
    let heldSince: number | undefined;
    let inFlightSince: number | undefined;
    while (this.running.size > 0 || keepGoing()) {
      const holding = hold();
      if (holding) heldSince ??= performance.now();
      else heldSince = undefined;
      if (holding && performance.now() - (heldSince ?? 0) < MAX_HOLD_MS) {
        // A person is acting in real time (a browser on an approval link): virtual time waits.
        await new Promise((resolve) => realSetTimeout(resolve, 20));
        idleSpins = 0;
        continue;
      }
      if (this.inFlight > 0) {
        // Real work (a signed request judged by the IAM simulator, which reads its data from
        // disk) takes real time, longer on a loaded machine: it is waited for by the clock on the
        // wall, not by a count of turns of the event loop.
        inFlightSince ??= performance.now();
        if (performance.now() - inFlightSince > MAX_IN_FLIGHT_MS)
          throw new Error(`simulation stalled: work in flight for over ${MAX_IN_FLIGHT_MS / 1000} s`);
        await new Promise((resolve) => realSetTimeout(resolve, 1));
        continue;
      }
      inFlightSince = undefined;
      if (clock.countTimers() === 0) {
        await realSetImmediate();
        idleSpins += 1;
        if (idleSpins > 100_000)
          throw new Error('simulation stalled: executions are running but nothing is scheduled');
        continue;
      }
      idleSpins = 0;
      await clock.nextAsync();
    }
  }
}
