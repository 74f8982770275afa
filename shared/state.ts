import type { DeploymentState } from './domain/workflow.ts';

type Required<K extends keyof DeploymentState> = DeploymentState & {
  [P in K]-?: NonNullable<DeploymentState[P]>;
};

/**
 * Asserts that the earlier tasks have written what this task reads. A missing key means the
 * execution was started by hand with a partial input, or the ASL routes wrongly: say which.
 */
export function need<K extends keyof DeploymentState>(state: DeploymentState, ...keys: K[]): Required<K> {
  const missing = keys.filter((key) => state?.[key] === undefined || state?.[key] === null);
  if (missing.length > 0) {
    throw new TypeError(
      `execution state is missing ${missing.join(', ')}; was the execution started by hand?`,
    );
  }
  return state as Required<K>;
}

export function nowIso(): string {
  return new Date().toISOString();
}

export function secondsSince(iso: string, now = new Date()): number {
  return (now.getTime() - Date.parse(iso)) / 1000;
}
