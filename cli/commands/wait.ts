import { executionArn } from '#shared/aws/sfn.ts';
import { handled, type Service, sleep, withService } from '../context.ts';
import { executionsOf } from '../deployments.ts';
import { parseDuration } from '../duration.ts';
import { CommandError, usageError } from '../errors.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import { follow, POLL_MS, START_WAIT_MS } from '../follow.ts';
import type { CommandContext, Register } from '../main.ts';
import { withGlobalOptions } from '../main.ts';
import { DEFAULT_TIMEOUT, scenarioOption, timeoutOption } from '../options.ts';
import { OUTCOME_WORDS } from '../outcome.ts';

interface WaitOptions {
  timeout: string;
  scenario?: string;
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
async function arnOf(service: Service, target: Target, deadline: number): Promise<string> {
  if ('execution' in target)
    return target.execution.startsWith('arn:')
      ? target.execution
      : executionArn(service.deployStateMachineArn, target.execution);
  const giveUp = Math.min(deadline, Date.now() + START_WAIT_MS);
  for (;;) {
    const [newest] = await executionsOf(service, target, { limit: 1 });
    if (newest) return newest.executionArn;
    if (Date.now() >= giveUp)
      throw new CommandError(
        `no execution of ${target.app}/${target.env} ${target.version} started in time: was it uploaded? (an upload the service ignores is told on the deployments topic)`,
        EXIT.failed,
      );
    await sleep(POLL_MS);
  }
}

async function waitFor(
  { out }: CommandContext,
  target: Target,
  timeoutMs: number,
  service: Service,
): Promise<ExitCode> {
  const deadline = Date.now() + timeoutMs;
  const arn = await arnOf(service, target, deadline);
  out.progress(`following ${arn.split(':').at(-1)}`);
  const followed = await follow(service, arn, { deadline, out });
  out.result(
    followed,
    `${followed.deployment.name} ${OUTCOME_WORDS[followed.outcome]}${followed.deployment.cause ? `\n${followed.deployment.cause}` : ''}${followed.rollback?.cause ? `\n${followed.rollback.cause}` : ''}`,
  );
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
      .addOption(scenarioOption({ uploads: true })),
  ).action(
    run(async (context, args: string[], flags: WaitOptions) =>
      handled(context.out, async () => {
        const timeoutMs = parseDuration(flags.timeout);
        const target = targetOf(args);
        return withService(context, (service) => waitFor(context, target, timeoutMs, service), {
          scenario: flags.scenario,
        });
      }),
    ),
  );
};
