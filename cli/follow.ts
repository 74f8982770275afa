import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { getLock } from '#shared/aws/dynamodb.ts';
import { classifyAwsError } from '#shared/aws/errors.ts';
import { describeExecution, type ExecutionDescription, eventsAfter, executionArn } from '#shared/aws/sfn.ts';
import { rollbackExecutionName } from '#shared/domain/identity.ts';
import { lockId, RECOVERY_GRACE_SECONDS } from '#shared/domain/lock.ts';
import { STATE } from '#shared/domain/states.ts';
import { formatWeights, type Weights } from '#shared/domain/traffic.ts';
import { AwsThrottled, AwsTransient } from '#shared/errors.ts';
import { type Service, sleep } from './context.ts';
import { recoveryOutcome } from './deployments.ts';
import { CommandError, exitCodeOf } from './errors.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { deploymentEnd, EXIT_OF_OUTCOME, OUTCOME_WORDS, type Outcome, rollbackEnd } from './outcome.ts';
import type { Output } from './output.ts';

/** How often the command looks at the execution while a task runs: a DescribeExecution and a page of its history. */
export const POLL_MS = 10_000;

/** How often it looks while the execution waits (a bake, a traffic step settling, a window, an approval, the lock). */
export const WAITING_POLL_MS = 30_000;

/** The states in which an execution waits minutes or more for time or a person to pass. */
const WAITING_STATES: ReadonlySet<string> = new Set([
  STATE.lock,
  STATE.awaitBake,
  STATE.settle,
  STATE.askShiftApproval,
  STATE.askTerminationApproval,
  STATE.waitWindow,
]);

/**
 * How long an upload's execution may take to appear: S3 delivers its event within seconds, and
 * Lambda retries a failed start twice within about three minutes.
 */
export const START_WAIT_MS = 15 * 60_000;

/** The longest pause between two tries of a look that AWS failed for a while (throttling, 5xx). */
const MAX_BACKOFF_MS = 60_000;

/** Whether an AWS error is worth trying again: throttling, a 5xx, the network (the SDK's classifiers). */
export function retryable(error: unknown): boolean {
  const classified = classifyAwsError(error);
  return classified instanceof AwsThrottled || classified instanceof AwsTransient;
}

/**
 * One look at AWS, tried again with growing pauses (1 s, 2 s, 4 s... up to a minute) through
 * errors worth trying again until the deadline; undefined when the deadline passed so. Any other
 * error is thrown.
 */
export async function patiently<T>(
  look: () => Promise<T>,
  deadline: number,
  out: Output,
): Promise<T | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await look();
    } catch (error) {
      if (!retryable(error)) throw error;
      const pause = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt, deadline - Date.now());
      if (pause <= 0) return undefined;
      out.progress(`AWS: ${(error as Error).name}: trying again in ${Math.ceil(pause / 1000)} s`);
      await sleep(pause);
    }
  }
}

/** One execution as the command followed it. */
export interface Ended {
  name: string;
  executionArn: string;
  status: string;
  error?: string;
  cause?: string;
}

export interface Followed {
  deployment: Ended;
  /** The rollback execution the recovery started for a stopped deployment, as it ended. */
  rollback?: Ended;
  outcome: Outcome;
  exitCode: ExitCode;
}

function ended(d: ExecutionDescription): Ended {
  return {
    name: d.name,
    executionArn: d.executionArn,
    status: d.status,
    ...(d.error ? { error: d.error } : {}),
    ...(d.cause ? { cause: d.cause } : {}),
  };
}

/** The weights a task's output says it wrote (a traffic step, a heal, the return to blue). */
function weightsIn(output: string | undefined): Weights | undefined {
  if (!output) return undefined;
  try {
    const state = JSON.parse(output) as {
      shift?: { weights?: Weights };
      rollbackTraffic?: { weights?: Weights | null };
    };
    return state.rollbackTraffic?.weights ?? state.shift?.weights ?? undefined;
  } catch {
    return undefined;
  }
}

/** The states of the longest polling loop of the state machines but their Choice (wait, check). */
const LOOP_LENGTH = 2;

/** Minutes and seconds since the start, as the progress lines show them. */
function elapsed(since: number): string {
  const seconds = Math.max(0, Math.round((Date.now() - since) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `+${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`;
}

/**
 * Follows one execution state by state until it ends or the deadline passes: each state entered
 * is a progress line with the weights last written. Returns its description as it ended, or
 * undefined at the deadline.
 */
async function watch(
  arn: string,
  deadline: number,
  out: Output,
  label: string,
): Promise<ExecutionDescription | undefined> {
  let lastId = 0;
  let weights: Weights | undefined;
  let recent: string[] = [];
  /** The state entered last: its kind decides how soon the next look comes. */
  let current: string | undefined;
  const startedAt = Date.now();
  const report = (events: HistoryEvent[]) => {
    for (const event of events) {
      lastId = Math.max(lastId, event.id ?? 0);
      const written = weightsIn(event.stateExitedEventDetails?.output);
      if (written) weights = written;
      const state = event.stateEnteredEventDetails?.name;
      if (state && event.type?.endsWith('StateEntered')) current = state;
      if (!event.type?.endsWith('StateEntered') || !state || event.type === 'ChoiceStateEntered') continue;
      // A polling loop (wait, check, wait...) is told once, not at every turn.
      if (recent.includes(state)) continue;
      recent = [...recent, state].slice(-LOOP_LENGTH);
      out.progress(
        `${out.style('dim', elapsed(startedAt))} ${label}${state}${weights ? `  (weights ${formatWeights(weights)})` : ''}`,
      );
    }
  };
  for (;;) {
    const look = await patiently(
      async () => {
        const described = await describeExecution(arn);
        if (described) report(await eventsAfter(arn, lastId));
        return { described };
      },
      deadline,
      out,
    );
    if (!look) return undefined;
    const { described } = look;
    if (described) {
      if (described.status !== 'RUNNING') return described;
    } else if (Date.now() - startedAt >= START_WAIT_MS) {
      throw new CommandError(
        `${arn.split(':').at(-1)} did not start within ${START_WAIT_MS / 60_000} minutes: the service ignored the upload or could not start it (the deployments topic says why)`,
        EXIT.failed,
      );
    }
    if (Date.now() >= deadline) return undefined;
    const every = current && WAITING_STATES.has(current) ? WAITING_POLL_MS : POLL_MS;
    await sleep(Math.min(every, Math.max(1, deadline - Date.now())));
  }
}

/**
 * Waits for the rollback execution of a deployment that ended off its own paths: its recovery
 * starts one when anything is to be undone, or releases the lock when nothing is. Returns the
 * rollback's ARN, `none` when the recovery released the lock without one, or undefined when the
 * recovery had not finished within its grace (or the deadline passed).
 */
async function awaitRecovery(
  service: Service,
  deployment: ExecutionDescription,
  deadline: number,
  out: Output,
): Promise<string | 'none' | undefined> {
  const arn = executionArn(service.rollbackStateMachineArn, rollbackExecutionName(deployment.name));
  const { app, env } = JSON.parse(deployment.input ?? '{}') as { app?: string; env?: string };
  const graceEnds = (deployment.stopDate?.getTime() ?? Date.now()) + RECOVERY_GRACE_SECONDS * 1000;
  for (;;) {
    const look = await patiently(
      async () => {
        // The lock first: the recovery starts the rollback before it hands the lock over.
        const lock = app && env ? await getLock(service.locksTable, lockId(app, env)) : undefined;
        return { lock, rollback: await describeExecution(arn) };
      },
      deadline,
      out,
    );
    if (!look) return undefined;
    if (look.rollback) return arn;
    if (look.lock?.owner?.name !== deployment.name) return 'none';
    if (Date.now() >= Math.min(deadline, graceEnds)) return undefined;
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
  }
}

/**
 * Follows a deployment execution to its end, and for one that was stopped, timed out or crashed,
 * its recovery and the rollback execution to theirs: the outcome and its exit code. Through AWS
 * errors worth trying again it keeps looking until the deadline; any other ends the command with
 * EXIT.aws, naming the execution so that `bluegreen wait` can take up where it left.
 */
export async function follow(
  service: Service,
  arn: string,
  options: { deadline: number; out: Output },
): Promise<Followed> {
  const name = arn.split(':').at(-1) ?? arn;
  try {
    return await followed(service, arn, options);
  } catch (error) {
    if (error instanceof CommandError || exitCodeOf(error) !== EXIT.aws) throw error;
    throw new CommandError(
      `AWS: ${(error as Error).name}: ${(error as Error).message} (while following ${name}: it goes on; bluegreen wait ${name} takes up from here)`,
      EXIT.aws,
      { execution: name, executionArn: arn },
    );
  }
}

async function followed(
  service: Service,
  arn: string,
  { deadline, out }: { deadline: number; out: Output },
): Promise<Followed> {
  const result = (outcome: Outcome, deployment: Ended, rollback?: Ended): Followed => ({
    deployment,
    ...(rollback ? { rollback } : {}),
    outcome,
    exitCode: EXIT_OF_OUTCOME[outcome],
  });
  const end = await watch(arn, deadline, out, '');
  const name = arn.split(':').at(-1) ?? arn;
  if (!end) return result('timed-out', { name, executionArn: arn, status: 'RUNNING' });
  const outcome = deploymentEnd(end.status, end.error);
  if (outcome !== 'recovering' && outcome !== 'running') return result(outcome, ended(end));
  out.progress(
    `${end.name} ended ${end.status}${end.error ? ` (${end.error})` : ''}: waiting for its recovery`,
  );
  const rollback = await awaitRecovery(service, end, deadline, out);
  if (rollback === 'none') return result(await recoveryOutcome(service, end.name), ended(end));
  if (rollback === undefined)
    return Date.now() >= deadline
      ? result('timed-out', ended(end))
      : // No rollback and the lock still held past the recovery's grace: the recovery never ran.
        result('rollback-failed', ended(end));
  const back = await watch(rollback, deadline, out, 'rollback: ');
  if (!back)
    return result('timed-out', ended(end), {
      name: rollback.split(':').at(-1) ?? '',
      executionArn: rollback,
      status: 'RUNNING',
    });
  const rolled = rollbackEnd(back.status, back.error);
  return result(rolled === 'running' ? 'timed-out' : rolled, ended(end), ended(back));
}

/**
 * A followed deployment as a person reads it: its name and outcome, then the causes the deployment
 * and its rollback execution gave, each on its own line.
 */
export function followedText(followed: Followed, name = followed.deployment.name): string {
  const causes = [followed.deployment.cause, followed.rollback?.cause].filter((cause) => cause);
  return [`${name} ${OUTCOME_WORDS[followed.outcome]}`, ...causes].join('\n');
}
