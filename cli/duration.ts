import { usageError } from './errors.ts';

/** The longest wait a command takes: 30 days (a deployment's approvals and windows are shorter). */
const MAX_MS = 30 * 86_400_000;

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000 } as const;

/**
 * A duration as `--timeout` takes it: hours, minutes and seconds in that order, each part
 * optional but one (`90m`, `2h`, `3600s`, `1h30m`), in milliseconds; anything else is a usage error.
 */
export function parseDuration(text: string, flag = '--timeout'): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  const ms = match
    ? Number(match[1] ?? 0) * UNIT_MS.h +
      Number(match[2] ?? 0) * UNIT_MS.m +
      Number(match[3] ?? 0) * UNIT_MS.s
    : Number.NaN;
  if (!match || text.trim() === '' || !(ms > 0) || ms > MAX_MS)
    throw usageError(
      `${flag} ${JSON.stringify(text)} is not a duration: write hours, minutes and seconds such as 90m, 2h, 3600s or 1h30m (more than 0, at most 720h)`,
    );
  return ms;
}
