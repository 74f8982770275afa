import { executionArn } from '#shared/aws/sfn.ts';
import { handled, type Service, sleep, withService } from '../context.ts';
import { executionsOf } from '../deployments.ts';
import { parseDuration } from '../duration.ts';
import { CommandError, usageError } from '../errors.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import { follow, followedText, POLL_MS, START_WAIT_MS } from '../follow.ts';
import type { CommandContext, Register } from '../main.ts';
import { withGlobalOptions } from '../main.ts';
import { DEFAULT_TIMEOUT, scenarioOption, timeoutOption } from '../options.ts';

interface WaitOptions {
  timeout: string;
  since?: string;
  versionId?: string;
  scenario?: string;
}

/** How long before its own start `wait APP ENV VERSION` looks for the release's execution by default. */
export const DEFAULT_SINCE_MS = 5 * 60_000;

/** What picks the execution of a release: started at or after `since`, of that object version. */
interface Pick {
  since: Date;
  versionId?: string;
}

/** `--since`: an ISO 8601 time, or a duration ago (`2h`); by default five minutes before now. */
export function sinceOf(text: string | undefined, now: number): Date {
  if (text === undefined) return new Date(now - DEFAULT_SINCE_MS);
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = Date.parse(text);
    if (Number.isNaN(at)) throw usageError(`--since ${JSON.stringify(text)} is not an ISO 8601 time`);
    return new Date(at);
  }
  return new Date(now - parseDuration(text, '--since'));
}

/** What to wait for: an execution by name or ARN, or the release app/env/version. */
type Target = { execution: string } | { app: string; env: string; version: string };

export function targetOf(args: string[]): Target {
  const [first = '', env, version] = args;
  if (args.length === 1) return { execution: first };
  if (args.length === 3 && env && version) return { app: first, env, version };
  throw usageError('wait takes EXECUTION (a name or an ARN) or APP ENV VERSION');
}

/**
 * The ARN of the execution to follow; for a release, the newest execution of it, looked for until
 * it starts (a CI job's own upload may not have reached the service yet).
 */
async function arnOf(service: Service, target: Target, deadline: number, pick: Pick): Promise<string> {
  if ('execution' in target)
    return target.execution.startsWith('arn:')
      ? target.execution
      : executionArn(service.deployStateMachineArn, target.execution);
  const giveUp = Math.min(deadline, Date.now() + START_WAIT_MS);
  for (;;) {
    const [newest] = await executionsOf(service, target, { limit: 1, ...pick });
    if (newest) return newest.executionArn;
    if (Date.now() >= giveUp)
      throw new CommandError(
        `no execution of ${target.app}/${target.env} ${target.version}${pick.versionId ? ` (S3 version ${pick.versionId})` : ''} started since ${pick.since.toISOString()}: was it uploaded? (an upload the service ignores is told on the deployments topic; --since looks further back)`,
        EXIT.failed,
      );
    await sleep(POLL_MS);
  }
}

async function waitFor(
  { out }: CommandContext,
  target: Target,
  flags: { timeoutMs: number; since?: string | undefined; versionId?: string | undefined },
  service: Service,
): Promise<ExitCode> {
  const deadline = Date.now() + flags.timeoutMs;
  const pick: Pick = {
    since: sinceOf(flags.since, Date.now()),
    ...(flags.versionId ? { versionId: flags.versionId } : {}),
  };
  const arn = await arnOf(service, target, deadline, pick);
  out.progress(`following ${arn.split(':').at(-1)}`);
  const followed = await follow(service, arn, { deadline, out });
  out.result(followed, followedText(followed));
  return followed.exitCode;
}

export const registerWait: Register = (program, run) => {
  withGlobalOptions(
    program
      .command('wait')
      .description(
        'follow a deployment to its end, by execution name or ARN, or by APP ENV VERSION (for CI that uploaded by itself)',
      )
      .argument('<execution-or-app...>', 'EXECUTION, or APP ENV VERSION')
      .addOption(timeoutOption(DEFAULT_TIMEOUT))
      .option(
        '--since <time>',
        'APP ENV VERSION: only an execution started at or after this ISO 8601 time, or this long ago (2h); default: 5 minutes before the command started',
      )
      .option(
        '--version-id <id>',
        'APP ENV VERSION: only the execution of this S3 object version (deploy --json prints it)',
      )
      .addOption(scenarioOption({ uploads: true })),
  ).action(
    run(async (context, args: string[], flags: WaitOptions) =>
      handled(context.out, async () => {
        const timeoutMs = parseDuration(flags.timeout);
        const target = targetOf(args);
        if ('execution' in target && (flags.since !== undefined || flags.versionId !== undefined))
          throw usageError(
            '--since and --version-id pick among the executions of APP ENV VERSION, not of one EXECUTION',
          );
        // Read before any AWS call: a bad --since is a usage error, however the account answers.
        sinceOf(flags.since, Date.now());
        const wanted = { timeoutMs, since: flags.since, versionId: flags.versionId };
        return withService(context, (service) => waitFor(context, target, wanted, service), {
          scenario: flags.scenario,
        });
      }),
    ),
  );
};
