import type { EventBridgeEvent } from 'aws-lambda';
import type { LockStanding } from './lock.ts';
import { oneLine } from './text.ts';
import type { DeploymentInput } from './workflow.ts';

/** The detail of a Step Functions "Execution Status Change" event, as the recovery reads it. */
export interface ExecutionStatusChange {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: string;
  /** When it ended (epoch milliseconds), as the status-change event carries it. */
  stopDate?: number | null;
  input?: string | null;
  error?: string | null;
  cause?: string | null;
}

/** The status-change event of an execution, as EventBridge delivers it. */
export type StatusChangeEvent = EventBridgeEvent<string, ExecutionStatusChange>;

/**
 * How one try of a recovery ended: done here (told and released next), done by an earlier
 * delivery, or handed to a rollback execution (which tells and releases).
 */
export type Recovery = 'recovered' | 'recovered-already' | 'rolling-back';

export interface RecoverySettings {
  locksTable: string;
  defaultTopicArn: string;
  /** The rollback state machine (statemachines/rollback.asl.yml): the rollback of a stopped execution. */
  rollbackStateMachineArn: string;
  /** Time left before the function times out (the Lambda context's); waits never outlast it. */
  remainingMs: () => number;
}

export interface RecoveryReport {
  execution: string;
  status: string;
  /** What it found that a person should know, though it could finish (the lock item gone). */
  found: string[];
  actions: string[];
  leftOver: string[];
  /** It gave up before it could read what the deployment had done. */
  blind?: boolean;
}

export function freshReport(detail: Pick<ExecutionStatusChange, 'name' | 'status'>): RecoveryReport {
  return { execution: detail.name, status: detail.status, found: [], actions: [], leftOver: [] };
}

/** The lock's part of the story: released, unless nobody held it or it was taken over. */
export function lockEnd(lock: LockStanding | undefined): string {
  if (lock?.kind === 'unheld') return 'no lock of its to release';
  if (lock?.kind === 'another') return `its lock already taken over by ${lock.holder}`;
  return 'lock released';
}

/** The failure a rollback execution starts from: how the execution ended, and what was found. */
export function rollbackFailure(
  detail: Pick<ExecutionStatusChange, 'name' | 'status' | 'error' | 'cause'>,
  found: readonly string[],
): { Error: string; Cause: string } {
  const how = ({ ABORTED: 'stopped', TIMED_OUT: 'timed out' } as Record<string, string>)[detail.status];
  const why = detail.error ? ` (${detail.error}${detail.cause ? `: ${oneLine(detail.cause)}` : ''})` : '';
  return {
    Error: detail.status,
    Cause: [`the execution ${detail.name} ${how ?? 'failed'}${why}`, ...found].join('; '),
  };
}

/** The recovery's one message: what was done and what is left for a person. */
export function recoveryMessage(
  deployment: Pick<DeploymentInput, 'app' | 'env' | 'version'>,
  status: string,
  report: RecoveryReport,
  lockText: string,
  /** It changed nothing: stopped before the plan, and its history could be read to know. */
  unchanged: boolean,
): { subject: string; message: string } {
  const who = `${deployment.app}/${deployment.env} ${deployment.version}`;
  const done = [...report.found, ...report.actions, lockText].join('; ');
  const left = report.leftOver.length > 0 ? `. Left for a person: ${report.leftOver.join('; ')}` : '';
  const before = unchanged ? ' before it changed anything' : '';
  return {
    subject: `Stopped: ${who}`,
    message: `${who} was ${status.toLowerCase().replace('_', ' ')}${before}; ${done}${left}.`,
  };
}
