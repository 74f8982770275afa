import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { getLock } from '#shared/aws/dynamodb.ts';
import { describeExecution, type ExecutionDescription, eventsAfter, executionArn } from '#shared/aws/sfn.ts';
import { rollbackExecutionName } from '#shared/domain/identity.ts';
import { lockId, RECOVERY_GRACE_SECONDS } from '#shared/domain/lock.ts';
import { formatWeights, type Weights } from '#shared/domain/traffic.ts';
import { type Service, sleep } from './context.ts';
import { recoveryOutcome } from './deployments.ts';
import { CommandError } from './errors.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { deploymentEnd, EXIT_OF_OUTCOME, type Outcome, rollbackEnd } from './outcome.ts';
import type { Output } from './output.ts';

/** How often the command looks at the execution: a DescribeExecution and a page of its history. */
export const POLL_MS = 10_000;

/**
 * How long an upload's execution may take to appear: S3 delivers its event within seconds, and
 * Lambda retries a failed start twice within about three minutes.
 */
export const START_WAIT_MS = 15 * 60_000;

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
  const startedAt = Date.now();
  const report = (events: HistoryEvent[]) => {
    for (const event of events) {
      lastId = Math.max(lastId, event.id ?? 0);
      const written = weightsIn(event.stateExitedEventDetails?.output);
      if (written) weights = written;
      const state = event.stateEnteredEventDetails?.name;
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
    const described = await describeExecution(arn);
    if (described) {
      report(await eventsAfter(arn, lastId));
      if (described.status !== 'RUNNING') return described;
    } else if (Date.now() - startedAt >= START_WAIT_MS) {
      throw new CommandError(
        `${arn.split(':').at(-1)} did not start within ${START_WAIT_MS / 60_000} minutes: the service ignored the upload or could not start it (the deployments topic says why)`,
        EXIT.failed,
      );
    }
    if (Date.now() >= deadline) return undefined;
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
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
): Promise<string | 'none' | undefined> {
  const arn = executionArn(service.rollbackStateMachineArn, rollbackExecutionName(deployment.name));
  const { app, env } = JSON.parse(deployment.input ?? '{}') as { app?: string; env?: string };
  const graceEnds = (deployment.stopDate?.getTime() ?? Date.now()) + RECOVERY_GRACE_SECONDS * 1000;
  for (;;) {
    // The lock first: the recovery starts the rollback before it hands the lock over.
    const lock = app && env ? await getLock(service.locksTable, lockId(app, env)) : undefined;
    if (await describeExecution(arn)) return arn;
    if (lock?.owner?.name !== deployment.name) return 'none';
    if (Date.now() >= Math.min(deadline, graceEnds)) return undefined;
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
  }
}

/**
 * Follows a deployment execution to its end, and for one that was stopped, timed out or crashed,
 * its recovery and the rollback execution to theirs: the outcome and its exit code.
 */
export async function follow(
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
  const rollback = await awaitRecovery(service, end, deadline);
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
