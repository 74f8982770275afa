import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { CallbackOutcome } from '../domain/approval-outcome.ts';
import { isNotFound } from './errors.ts';

export const sfn = new SFNClient({});

export function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** The status of an execution, or undefined when it was never started. */
export async function statusOf(arn: string): Promise<string | undefined> {
  return (await executionState(arn))?.status;
}

/** An execution's status, its error if it failed and, once it has ended, when; undefined when it does not exist. */
export async function executionState(
  arn: string,
): Promise<{ status?: string; error?: string; stopDate?: Date } | undefined> {
  const described = await describeExecution(arn);
  if (!described) return undefined;
  const { status, error, stopDate } = described;
  return { status, ...(error ? { error } : {}), ...(stopDate ? { stopDate } : {}) };
}

/** The status of the named execution of the state machine, or undefined when it was never started. */
export function executionStatus(stateMachineArn: string, name: string): Promise<string | undefined> {
  return statusOf(executionArn(stateMachineArn, name));
}

/**
 * Starts the named execution. Standard workflows treat a repeated start with the same name and
 * the same input as idempotent, which is what makes duplicate S3 events harmless.
 */
export async function startExecution(stateMachineArn: string, name: string, input: unknown): Promise<string> {
  const out = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
  );
  return out.executionArn ?? executionArn(stateMachineArn, name);
}

/** Step Functions no longer waits on this token (timed out, already answered, or unknown). */
function isGoneToken(error: unknown): boolean {
  return ['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist'].includes((error as Error)?.name);
}

/**
 * Sends a callback: true when it resumed the task, false when Step Functions no longer waits on
 * the token (timed out, answered already: task tokens are single-use). Any other error throws.
 */
async function callback(send: () => Promise<unknown>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (error) {
    if (isGoneToken(error)) return false;
    throw error;
  }
}

/**
 * What is known of a callback's effect. `delivered`: Step Functions took it. `refused`: Step
 * Functions answered a single attempt with a 4xx (throttled, invalid): it did nothing. `unsure`:
 * anything else. A lost response (a dropped connection, a timeout, a 5xx) may hide a call that took
 * effect, and when the SDK retried, the retry's TaskTimedOut may be the answer to our own first
 * attempt; only the execution's history can tell.
 */
export type Delivery = { delivery: 'delivered' } | { delivery: 'refused' | 'unsure'; error: unknown };

async function deliver(send: () => Promise<unknown>): Promise<Delivery> {
  try {
    await send();
    return { delivery: 'delivered' };
  } catch (error) {
    const metadata = (error as { $metadata?: { attempts?: number; httpStatusCode?: number } })?.$metadata;
    const status = metadata?.httpStatusCode ?? 0;
    const once = (metadata?.attempts ?? 1) <= 1;
    const refused = once && status >= 400 && status < 500 && !isGoneToken(error);
    return { delivery: refused ? 'refused' : 'unsure', error };
  }
}

/** SendTaskSuccess or SendTaskFailure for an answer a person gave, saying what is known of its effect. */
export function deliverAnswer(
  taskToken: string,
  answer: { output: unknown } | { error: string; cause: string },
): Promise<Delivery> {
  return deliver(() =>
    'output' in answer
      ? sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(answer.output) }))
      : sfn.send(
          new SendTaskFailureCommand({ taskToken, error: answer.error, cause: answer.cause.slice(0, 32768) }),
        ),
  );
}

/**
 * The newest 5,000 events, in pages of 200 (each event may carry a state's input or output, and
 * the page function has 10 s): more than the most any deployment writes (4,714, README
 * "Performance"). A state not found in them is `not-entered`, which settles nothing.
 */
const HISTORY_PAGE_SIZE = 200;
const HISTORY_PAGES = 25;

/**
 * An execution's events from the newest back, page by page as they are asked for, at most
 * `pages` pages of `pageSize` (with or without the states' inputs and outputs).
 */
async function* newestEvents(
  executionArn: string,
  { pages = HISTORY_PAGES, pageSize = HISTORY_PAGE_SIZE, data = true } = {},
): AsyncGenerator<HistoryEvent> {
  let nextToken: string | undefined;
  for (let page = 0; page < pages; page++) {
    const out = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        reverseOrder: true,
        maxResults: pageSize,
        includeExecutionData: data,
        nextToken,
      }),
    );
    yield* out.events ?? [];
    nextToken = out.nextToken;
    if (!nextToken) return;
  }
}

/** The state the execution is in now: the newest state it entered, within `pages` pages of 20 events. */
async function newestStateEntered(executionArn: string, pages: number): Promise<string | undefined> {
  for await (const event of newestEvents(executionArn, { pages, pageSize: 20, data: false })) {
    const name = event.stateEnteredEventDetails?.name;
    if (event.type?.endsWith('StateEntered') && name) return name;
  }
  return undefined;
}

/**
 * Reads the execution's history from its newest event back to the newest entry of `stateName`
 * (a sequential state machine writes each state's events together) and says how that state's wait
 * went: the newest of TaskSubmitted, TaskSucceeded, TaskFailed and TaskTimedOut within it.
 * Read-only: states:GetExecutionHistory, with execution data (who answered is in the output).
 */
export async function callbackOutcome(executionArn: string, stateName: string): Promise<CallbackOutcome> {
  let newest: CallbackOutcome | undefined;
  for await (const event of newestEvents(executionArn)) {
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) {
      if (event.stateEnteredEventDetails?.name === stateName) return newest ?? { kind: 'waiting' };
      newest = undefined;
    } else if (newest) {
      // An older event of the same state: the newest one already says how it went.
    } else if (type === 'TaskSubmitted') {
      newest = { kind: 'waiting' };
    } else if (type === 'TaskSucceeded') {
      newest = { kind: 'succeeded', output: event.taskSucceededEventDetails?.output ?? '' };
    } else if (type === 'TaskFailed') {
      const d = event.taskFailedEventDetails;
      newest = { kind: 'failed', error: d?.error ?? '', cause: d?.cause ?? '' };
    } else if (type === 'TaskTimedOut') {
      newest = { kind: 'timed-out' };
    }
  }
  return { kind: 'not-entered' };
}

/**
 * The state the execution is in now: the newest state it entered, read from the newest events of
 * its history (a waiting task's few events, and its retries', come after its entry), without
 * execution data. Undefined when none of the pages read names one. Read-only:
 * states:GetExecutionHistory.
 */
export function currentStateName(executionArn: string, pages = 15): Promise<string | undefined> {
  return newestStateEntered(executionArn, pages);
}

/** Resumes a waiting task with its output; false if the token is gone. */
export function sendTaskSuccess(taskToken: string, output: unknown): Promise<boolean> {
  return callback(() => sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })));
}

/** Fails a waiting task with an error name the ASL catches; false if the token is gone. */
export function sendTaskFailure(taskToken: string, error: string, cause: string): Promise<boolean> {
  return callback(() =>
    sfn.send(new SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32768) })),
  );
}

/**
 * An execution's history, read page by page from the start only as far as the questions asked
 * need (an early state costs one call), each page read once however many states are asked for.
 */
export class ExecutionHistory {
  private readonly exits = new Map<string, unknown>();
  private last: unknown;
  private nextToken: string | undefined;
  private read = false;

  constructor(private readonly executionArn: string) {}

  /** The output the state first exited with (its first TaskStateExited); undefined if it never did. */
  async firstOutput(stateName: string): Promise<unknown> {
    while (!this.exits.has(stateName) && (!this.read || this.nextToken)) await this.readPage();
    return this.exits.get(stateName);
  }

  /** The output of the last task that exited: the execution's last known state (reads every page). */
  async lastOutput(): Promise<unknown> {
    while (!this.read || this.nextToken) await this.readPage();
    return this.last;
  }

  private async readPage(): Promise<void> {
    const out = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: this.executionArn,
        maxResults: 200,
        includeExecutionData: true,
        nextToken: this.nextToken,
      }),
    );
    this.read = true;
    for (const event of out.events ?? []) {
      const exited = event.stateExitedEventDetails;
      if (event.type === 'TaskStateExited' && exited?.name && exited.output) {
        this.last = JSON.parse(exited.output);
        if (!this.exits.has(exited.name)) this.exits.set(exited.name, this.last);
      }
    }
    this.nextToken = out.nextToken;
  }
}

/** An execution as DescribeExecution tells it. */
export interface ExecutionDescription {
  executionArn: string;
  name: string;
  status: string;
  startDate?: Date;
  stopDate?: Date;
  error?: string;
  cause?: string;
  input?: string;
}

/** DescribeExecution, or undefined when the execution does not exist. */
export async function describeExecution(arn: string): Promise<ExecutionDescription | undefined> {
  try {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    return {
      executionArn: out.executionArn ?? arn,
      name: out.name ?? arn.split(':').at(-1) ?? '',
      status: out.status ?? 'RUNNING',
      ...(out.startDate ? { startDate: out.startDate } : {}),
      ...(out.stopDate ? { stopDate: out.stopDate } : {}),
      ...(out.error ? { error: out.error } : {}),
      ...(out.cause ? { cause: out.cause } : {}),
      ...(out.input ? { input: out.input } : {}),
    };
  } catch (error) {
    if (isNotFound(error) || (error as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
}

export interface ExecutionListItem {
  executionArn: string;
  name: string;
  status: string;
  startDate?: Date;
  stopDate?: Date;
}

/** Pages of ListExecutions read at most: 10 pages of 100 executions, newest first. */
const LIST_PAGES = 10;

/**
 * The state machine's executions, newest first (as ListExecutions returns them), those `keep`
 * accepts, until `limit` are found or 1,000 were read.
 */
export async function listExecutions(
  stateMachineArn: string,
  keep: (item: ExecutionListItem) => boolean,
  options: { limit?: number; statusFilter?: 'RUNNING' } = {},
): Promise<ExecutionListItem[]> {
  const found: ExecutionListItem[] = [];
  for await (const item of new ExecutionListing(stateMachineArn, options.statusFilter).items()) {
    if (!keep(item)) continue;
    found.push(item);
    if (options.limit !== undefined && found.length >= options.limit) break;
  }
  return found;
}

/**
 * A state machine's executions, newest first, read page by page as they are asked for and kept:
 * every walk through `items()` reads the pages read before from memory, so one listing serves
 * many searches. At most 10 pages of 100 (1,000 executions) are read.
 */
export class ExecutionListing {
  private readonly read: ExecutionListItem[] = [];
  private nextToken: string | undefined;
  private pages = 0;
  private done = false;

  constructor(
    private readonly stateMachineArn: string,
    private readonly statusFilter?: 'RUNNING',
  ) {}

  /** Whether the listing stopped at its bound with executions left unread. */
  get truncated(): boolean {
    return this.done && this.nextToken !== undefined;
  }

  async *items(): AsyncGenerator<ExecutionListItem> {
    for (let i = 0; ; i++) {
      while (i >= this.read.length && !this.done) await this.nextPage();
      const item = this.read[i];
      if (!item) return;
      yield item;
    }
  }

  private async nextPage(): Promise<void> {
    const out = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: this.stateMachineArn,
        maxResults: 100,
        nextToken: this.nextToken,
        ...(this.statusFilter ? { statusFilter: this.statusFilter } : {}),
      }),
    );
    for (const e of out.executions ?? [])
      this.read.push({
        executionArn: e.executionArn ?? '',
        name: e.name ?? '',
        status: e.status ?? '',
        ...(e.startDate ? { startDate: e.startDate } : {}),
        ...(e.stopDate ? { stopDate: e.stopDate } : {}),
      });
    this.nextToken = out.nextToken;
    this.pages += 1;
    if (!this.nextToken || this.pages >= LIST_PAGES) this.done = true;
  }
}

/** Stops a running execution as the console's Stop does, with an error and a cause for its history. */
export async function stopExecution(arn: string, error: string, cause: string): Promise<void> {
  await sfn.send(new StopExecutionCommand({ executionArn: arn, error, cause: cause.slice(0, 32768) }));
}

/** Pages of newest events read at most per look: a look every few seconds finds a few new ones. */
const NEW_EVENT_PAGES = 25;

/** Events per page of a look after the first: a look every 10 s or more finds a few new ones. */
const NEW_EVENT_PAGE_SIZE = 20;

/**
 * The events of an execution newer than event `afterId`, oldest first, read from the newest back
 * (event ids grow by one per event), with execution data. A first look (`afterId` 0) reads pages
 * of 200; a later one pages of 20, the next only when every event of a page was new.
 */
export async function eventsAfter(executionArn: string, afterId: number): Promise<HistoryEvent[]> {
  const found: HistoryEvent[] = [];
  const pageSize = afterId === 0 ? HISTORY_PAGE_SIZE : NEW_EVENT_PAGE_SIZE;
  for await (const event of newestEvents(executionArn, { pages: NEW_EVENT_PAGES, pageSize })) {
    if ((event.id ?? 0) <= afterId) break;
    found.push(event);
  }
  return found.reverse();
}

/** The state an execution is in now: the newest state it entered (undefined before the first). */
export function currentState(executionArn: string): Promise<string | undefined> {
  return newestStateEntered(executionArn, NEW_EVENT_PAGES);
}
