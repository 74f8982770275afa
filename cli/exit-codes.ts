/**
 * The command line's exit codes, one per outcome a CI job may want to tell apart. Documented in the
 * README's "Command line" section; `bluegreen --help` lists them too.
 */
export const EXIT = {
  /** Done: the deployment succeeded, the config is valid, the plan found no problem. */
  ok: 0,
  /** The deployment failed before anything needed rolling back, or problems were found. */
  failed: 1,
  /** The command line itself was wrong: an unknown command or flag, a missing argument. */
  usage: 2,
  /** The deployment rolled back: traffic is on blue again and green is gone. */
  rolledBack: 3,
  /** A newer upload for the same app/env took over before this one went live. */
  superseded: 4,
  /** The wait ended (--timeout) before the deployment did; it goes on running. */
  timedOut: 5,
  /** Green is live, but the blue fleet could not be terminated: a person finishes. */
  blueNotTerminated: 6,
  /** The rollback itself failed: a person must look at what is left (the notification says). */
  rollbackFailed: 7,
  /** AWS could not be reached or refused the call (credentials, permissions, region). */
  aws: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each exit code means, for --help. */
export const EXIT_MEANINGS: Record<ExitCode, string> = {
  0: 'succeeded / valid / no problem found',
  1: 'failed, or problems found',
  2: 'usage error',
  3: 'rolled back',
  4: 'superseded by a newer upload',
  5: 'timed out waiting (the deployment goes on)',
  6: 'blue not terminated',
  7: 'rollback failed',
  8: 'AWS error (credentials, permissions, region)',
};
