import { endedOnItsOwnPath, type WORKFLOW_END_ERRORS } from '#shared/domain/workflow.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';

/** How a deployment ended, as the command line reports it (each has its exit code). */
export type Outcome =
  | 'succeeded'
  | 'failed'
  | 'rolled-back'
  | 'superseded'
  | 'blue-not-terminated'
  | 'rollback-failed'
  | 'stopped'
  | 'left-to-a-person'
  | 'timed-out';

type WorkflowEnd = (typeof WORKFLOW_END_ERRORS)[number];

/** The state machines' Fail states, by their error. */
const OUTCOME_OF_ERROR: Record<WorkflowEnd, Outcome> = {
  DeploymentFailed: 'failed',
  DeploymentRolledBack: 'rolled-back',
  RollbackFailed: 'rollback-failed',
  BlueNotTerminated: 'blue-not-terminated',
  DeploymentSuperseded: 'superseded',
};

export const EXIT_OF_OUTCOME: Record<Outcome, ExitCode> = {
  succeeded: EXIT.ok,
  failed: EXIT.failed,
  // Stopped before anything needed undoing: nothing was deployed, as when it failed early.
  stopped: EXIT.failed,
  // Stopped, and its recovery could not put everything back (it gave up, came too late, or named
  // leftovers): as when a rollback fails, a person acts.
  'left-to-a-person': EXIT.rollbackFailed,
  'rolled-back': EXIT.rolledBack,
  superseded: EXIT.superseded,
  'timed-out': EXIT.timedOut,
  'blue-not-terminated': EXIT.blueNotTerminated,
  'rollback-failed': EXIT.rollbackFailed,
};

/** What a person reads for each outcome. */
export const OUTCOME_WORDS: Record<Outcome, string> = {
  succeeded: 'succeeded: green is live and blue is terminated',
  failed: 'failed before any traffic moved',
  stopped: 'stopped before anything needed rolling back',
  'left-to-a-person':
    'stopped, and its recovery left things for a person to finish (the deployments topic says what)',
  'rolled-back': 'rolled back: traffic is on blue again and green is gone',
  superseded: 'superseded by a newer upload',
  'timed-out': 'still running: the wait timed out (the deployment goes on)',
  'blue-not-terminated': 'green is live, but blue could not be terminated: a person finishes',
  'rollback-failed': 'the rollback failed: a person must fix what is left',
};

/**
 * How a deployment execution ended, from its status and error: `recovering` when it ended off
 * its own paths (stopped, timed out, crashed), so its recovery decides, `running` while it runs.
 */
export function deploymentEnd(status: string, error: string | undefined): Outcome | 'recovering' | 'running' {
  if (status === 'RUNNING') return 'running';
  if (status === 'SUCCEEDED') return 'succeeded';
  if (!endedOnItsOwnPath(status, error)) return 'recovering';
  return OUTCOME_OF_ERROR[error as WorkflowEnd];
}

/**
 * How a rollback execution (of a stopped deployment) ended. It ends in one of its Fail states; one
 * that was itself stopped or crashed is rolled back by nobody, so a person finishes.
 */
export function rollbackEnd(status: string, error: string | undefined): Outcome | 'running' {
  if (status === 'RUNNING') return 'running';
  return error === 'DeploymentRolledBack' ? 'rolled-back' : 'rollback-failed';
}
