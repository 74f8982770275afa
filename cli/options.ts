import { Option } from 'commander';

/**
 * `--scenario NAME`, beside --simulate on the commands that touch the service. A deploy makes its
 * own upload; the other commands find the scenario's made.
 */
export function scenarioOption({ uploads }: { uploads: boolean }): Option {
  return new Option(
    '--scenario <name>',
    `with --simulate: the scenario of \`npm run simulate\` whose world and faults to simulate (${uploads ? 'with its uploads made' : 'without its own uploads'}), e.g. alarm-during-shift`,
  );
}

/** `--timeout DURATION`: how long the command waits before it gives up (the deployment goes on). */
export function timeoutOption(defaultValue: string): Option {
  return new Option(
    '--timeout <duration>',
    'how long to wait, as 90m, 2h, 3600s or 1h30m; then exit 5 (the deployment goes on)',
  ).default(defaultValue);
}

/** The wait of a command that follows a deployment to its end, by default. */
export const DEFAULT_TIMEOUT = '24h';
