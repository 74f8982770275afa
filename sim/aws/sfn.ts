import type { WorldContext } from './context.ts';
import { awsError } from './errors.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface SimExecution {
  arn: string;
  stateMachineArn: string;
  name: string;
  /** For an execution of the rollback state machine: the deployment (execution name) it rolls back. */
  deployment?: string;
  input: string;
  status: ExecutionStatus;
  startedAt: number;
  stoppedAt?: number;
  error?: string;
  cause?: string;
  output?: unknown;
  transitions: number;
  /** Every state entered, with the virtual time, for reports. */
  states: { at: number; name: string; type: string }[];
  /** Task attempts retried (each writes more history events). */
  retries: number;
  /** The history events GetExecutionHistory returns, oldest first (see SimHistoryEvent). */
  history: SimHistoryEvent[];
  /** The largest input, output or task result of any state, in UTF-8 bytes of JSON (the runner measures). */
  largestPayload?: { bytes: number; state: string; what: string };
  /** Set when a payload exceeded Step Functions' quota: the execution fails with it. */
  dataLimitExceeded?: Error;
}

/**
 * The history events the simulator writes: every state's `<Type>StateEntered` and every Task's
 * TaskStateExited; for a `.waitForTaskToken` task also how its wait went (TaskSubmitted once the
 * function returned, then TaskSucceeded / TaskFailed from the callback, TaskTimedOut, or TaskFailed
 * when the function itself failed). Step Functions writes more (TaskScheduled, TaskStarted, ...);
 * these are the ones the service reads.
 */
export type SimHistoryEvent =
  | { at: number; type: 'TaskStateExited'; name: string; output: string }
  | { at: number; type: `${string}StateEntered`; name: string }
  | { at: number; type: 'TaskSubmitted' }
  | { at: number; type: 'TaskSucceeded'; output: string }
  | { at: number; type: 'TaskFailed' | 'TaskTimedOut'; error: string; cause: string };

/** One simulated history event as GetExecutionHistory shapes it. */
function historyEvent(e: SimHistoryEvent, id: number) {
  const base = { id, previousEventId: id - 1, timestamp: new Date(e.at), type: e.type };
  const task = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' };
  switch (e.type) {
    case 'TaskStateExited':
      return { ...base, stateExitedEventDetails: { name: e.name, output: e.output } };
    case 'TaskSubmitted':
      return { ...base, taskSubmittedEventDetails: task };
    case 'TaskSucceeded':
      return { ...base, taskSucceededEventDetails: { ...task, output: e.output } };
    case 'TaskFailed':
      return { ...base, taskFailedEventDetails: { ...task, error: e.error, cause: e.cause } };
    case 'TaskTimedOut':
      return { ...base, taskTimedOutEventDetails: { ...task, error: e.error, cause: e.cause } };
    default:
      return { ...base, stateEnteredEventDetails: { name: (e as { name: string }).name } };
  }
}

interface WaitingTask {
  execution: string;
  state: string;
  open: boolean;
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
  promise: Promise<unknown>;
}

/**
 * Step Functions (Standard) with two state machines, the deployment's and the rollback's, each with
 * its executions by name. As the starter sees it: names are unique per state machine, a repeated
 * start with the same name and input while the execution runs returns it, anything else with that
 * name is ExecutionAlreadyExists. Starting an execution hands it to the runner.
 */
export class SfnModel {
  /** The deployment state machine's executions. */
  readonly executions = new Map<string, SimExecution>();
  /** The rollback state machine's executions (started by the recovery of a stopped deployment). */
  readonly rollbacks = new Map<string, SimExecution>();
  onStart: ((execution: SimExecution) => void) | undefined;
  /** Stops a running execution in the runner (no Catch runs); false when it runs no more. */
  onStop: ((execution: SimExecution) => boolean) | undefined;
  private readonly waiting = new Map<string, WaitingTask>();

  constructor(
    private readonly world: WorldContext,
    readonly stateMachineArn: string,
    readonly rollbackStateMachineArn: string,
  ) {}

  /** Every execution of both state machines. */
  all(): SimExecution[] {
    return [...this.executions.values(), ...this.rollbacks.values()];
  }

  /** The rollback execution of the named deployment, if its recovery started one. */
  rollbackOf(deployment: string): SimExecution | undefined {
    return [...this.rollbacks.values()].find((e) => e.deployment === deployment);
  }

  /** The executions of one of the two state machines, by its ARN; AWS's error for another. */
  private executionsOf(stateMachineArn: string | undefined): Map<string, SimExecution> {
    if (stateMachineArn !== undefined && stateMachineArn === this.stateMachineArn) return this.executions;
    if (stateMachineArn !== undefined && stateMachineArn === this.rollbackStateMachineArn)
      return this.rollbacks;
    throw awsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
  }

  private byArn(arn: string | undefined): SimExecution | undefined {
    return this.all().find((e) => e.arn === arn);
  }

  StartExecution(input: { stateMachineArn?: string; name?: string; input?: string }) {
    const executions = this.executionsOf(input.stateMachineArn);
    const stateMachineArn = input.stateMachineArn as string;
    const name = input.name ?? this.world.id('', 32);
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw awsError('InvalidName', `Invalid Name: '${name}'`);
    const existing = executions.get(name);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === (input.input ?? '{}')) {
        return { executionArn: existing.arn, startDate: new Date(existing.startedAt) };
      }
      throw awsError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
    }
    const deployment =
      executions === this.rollbacks
        ? (JSON.parse(input.input ?? '{}') as { deploymentId?: string }).deploymentId
        : undefined;
    const execution: SimExecution = {
      arn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
      stateMachineArn,
      name,
      ...(deployment ? { deployment } : {}),
      input: input.input ?? '{}',
      status: 'RUNNING',
      startedAt: this.world.now(),
      transitions: 0,
      states: [],
      retries: 0,
      history: [],
    };
    executions.set(name, execution);
    this.onStart?.(execution);
    return { executionArn: execution.arn, startDate: new Date(execution.startedAt) };
  }

  /** A new task token for a `.waitForTaskToken` state, as Step Functions puts in $$.Task.Token. */
  issueToken(execution: string, state: string): string {
    const token = `AQB${this.world.id('', 24)}${Buffer.from(`${execution}/${state}`).toString('base64url')}`;
    let resolve: (output: unknown) => void = () => undefined;
    let reject: (error: Error) => void = () => undefined;
    const promise = new Promise<unknown>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    this.waiting.set(token, { execution, state, open: true, resolve, reject, promise });
    return token;
  }

  /** Resolves when SendTaskSuccess arrives, rejects (error name = the error code) on SendTaskFailure. */
  waitFor(token: string): Promise<unknown> {
    const task = this.waiting.get(token);
    if (!task) throw new Error(`unknown token ${token}`);
    return task.promise;
  }

  /** The state stopped waiting (answered, timed out, execution ended): its tokens stop working. */
  closeTokens(execution: string, state?: string): void {
    for (const task of this.waiting.values()) {
      if (task.execution === execution && (state === undefined || task.state === state)) task.open = false;
    }
  }

  /** How many tasks of these states wait for a callback now (all states when none are given). */
  openTokens(states?: Set<string>): number {
    return [...this.waiting.values()].filter((t) => t.open && (!states || states.has(t.state))).length;
  }

  private take(token: string | undefined): WaitingTask {
    const task = this.waiting.get(token ?? '');
    if (!task) throw awsError('InvalidToken', 'Invalid token');
    if (!task.open) throw awsError('TaskTimedOut', 'Task Timed Out');
    task.open = false;
    return task;
  }

  /** Writes an event into the history of the named execution (if it is known here). */
  record(execution: string, event: SimHistoryEvent): void {
    (this.executions.get(execution) ?? this.rollbacks.get(execution))?.history.push(event);
  }

  SendTaskSuccess(input: { taskToken?: string; output?: string }) {
    const task = this.take(input.taskToken);
    this.record(task.execution, {
      at: this.world.now(),
      type: 'TaskSucceeded',
      output: input.output ?? 'null',
    });
    task.resolve(JSON.parse(input.output ?? 'null'));
    return {};
  }

  SendTaskFailure(input: { taskToken?: string; error?: string; cause?: string }) {
    const task = this.take(input.taskToken);
    const error = new Error(input.cause ?? '');
    error.name = input.error ?? 'States.TaskFailed';
    this.record(task.execution, {
      at: this.world.now(),
      type: 'TaskFailed',
      error: error.name,
      cause: input.cause ?? '',
    });
    task.reject(error);
    return {};
  }

  GetExecutionHistory(input: {
    executionArn?: string;
    maxResults?: number;
    nextToken?: string;
    reverseOrder?: boolean;
  }) {
    const execution = this.byArn(input.executionArn);
    if (!execution)
      throw awsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${input.executionArn}'`);
    const size = input.maxResults || 100;
    if (size > 1000) throw awsError('ValidationException', 'maxResults must be at most 1000');
    const events = execution.history.map((e, i) => historyEvent(e, i + 1));
    if (input.reverseOrder) events.reverse();
    const start = Number(input.nextToken ?? 0);
    return {
      events: events.slice(start, start + size),
      ...(start + size < events.length ? { nextToken: String(start + size) } : {}),
    };
  }

  /** Newest first, as Step Functions lists them; pages of `maxResults` (default 100, at most 1,000). */
  ListExecutions(input: {
    stateMachineArn?: string;
    statusFilter?: string;
    maxResults?: number;
    nextToken?: string;
  }) {
    const executions = this.executionsOf(input.stateMachineArn);
    const size = input.maxResults || 100;
    if (size > 1000) throw awsError('ValidationException', 'maxResults must be at most 1000');
    const listed = [...executions.values()]
      .filter((e) => !input.statusFilter || e.status === input.statusFilter)
      .sort((x, y) => y.startedAt - x.startedAt)
      .map((e) => ({
        executionArn: e.arn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: new Date(e.startedAt),
        ...(e.stoppedAt !== undefined ? { stopDate: new Date(e.stoppedAt) } : {}),
      }));
    const start = Number(input.nextToken ?? 0);
    return {
      executions: listed.slice(start, start + size),
      ...(start + size < listed.length ? { nextToken: String(start + size) } : {}),
    };
  }

  /** Stops a running execution, with the error and cause it then reports. */
  StopExecution(input: { executionArn?: string; error?: string; cause?: string }) {
    const execution = this.byArn(input.executionArn);
    if (!execution)
      throw awsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${input.executionArn}'`);
    if (execution.status === 'RUNNING' && this.onStop?.(execution)) {
      if (input.error !== undefined) execution.error = input.error;
      if (input.cause !== undefined) execution.cause = input.cause;
    }
    return { stopDate: new Date(this.world.now()) };
  }

  DescribeExecution(input: { executionArn?: string }) {
    const execution = this.byArn(input.executionArn);
    if (!execution)
      throw awsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${input.executionArn}'`);
    return {
      executionArn: execution.arn,
      name: execution.name,
      status: execution.status,
      startDate: new Date(execution.startedAt),
      ...(execution.stoppedAt !== undefined ? { stopDate: new Date(execution.stoppedAt) } : {}),
      ...(execution.error ? { error: execution.error } : {}),
      ...(execution.cause ? { cause: execution.cause } : {}),
      input: execution.input,
    };
  }
}
