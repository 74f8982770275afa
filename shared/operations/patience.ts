import { classifyAwsError } from '../aws/errors.ts';
import { logger } from '../logger.ts';

/**
 * Kept for what comes after the recovery's last retry: reading what is left, the notification and
 * the lock release, each of them with room for a few retries of its own.
 */
const RESERVE_MS = 40_000;

/** Kept after the notification's last try for the release, and after the release's for the return. */
export const TELL_KEEP_MS = 15_000;
export const RELEASE_KEEP_MS = 2_000;

/** The longest pause between two tries of a step that failed (full jitter below it). */
const MAX_BACKOFF_MS = 20_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `step` until it succeeds, pausing with exponential backoff and full jitter after each
 * failure, for as long as the invocation has time for another try and `keepMs` after it.
 * Only for idempotent steps (the recovery's are: it was built to be run again by Lambda). A
 * throttled account (Route 53 allows 5 requests a second across every deployment) needs more
 * patience than Lambda's two retries: the state machine's own tasks retry throttling twenty times.
 * Throws the last error once time is out.
 */
export async function patiently<T>(
  what: string,
  step: () => Promise<T>,
  remainingMs: () => number,
  keepMs = RESERVE_MS,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      const pause = Math.random() * Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt);
      if (remainingMs() < pause + keepMs) throw error;
      const failure = classifyAwsError(error) as Error;
      logger.warn(`${what} failed; trying again`, {
        attempt: attempt + 1,
        error: failure.name,
        pauseMs: pause,
      });
      await sleep(pause);
    }
  }
}
