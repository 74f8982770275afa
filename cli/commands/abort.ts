import { getLock } from '#shared/aws/dynamodb.ts';
import { describeExecution, stopExecution } from '#shared/aws/sfn.ts';
import { callerArn } from '#shared/aws/sts.ts';
import { lockId } from '#shared/domain/lock.ts';
import { handled, type Service, withService } from '../context.ts';
import { executionsOf, isExecutionOf } from '../deployments.ts';
import { parseDuration } from '../duration.ts';
import { CommandError } from '../errors.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import { follow } from '../follow.ts';
import type { CommandContext, Register } from '../main.ts';
import { withGlobalOptions } from '../main.ts';
import { scenarioOption, timeoutOption } from '../options.ts';
import { OUTCOME_WORDS } from '../outcome.ts';

/** The error a stopped execution reports, beside the cause naming who stopped it. */
export const ABORT_ERROR = 'AbortedByOperator';

/**
 * The deployment to stop for app/env: the lock's owner when it is a running deployment execution.
 * An owner that is anything else (the rollback execution of a stopped deployment, or a deployment
 * whose recovery has not finished) is refused, naming it: what waits behind it has changed
 * nothing yet and is never stopped for it. Only with no owner is the newest running deployment
 * that is not a listed waiter stopped.
 */
async function runningDeployment(service: Service, app: string, env: string): Promise<string | undefined> {
  const lock = await getLock(service.locksTable, lockId(app, env));
  const owner = lock?.owner;
  if (owner) {
    const described = await describeExecution(owner.executionArn);
    const running = described?.status === 'RUNNING';
    if (running && isExecutionOf(service.deployStateMachineArn, owner.executionArn))
      return owner.executionArn;
    const holder = owner.executionArn.split(':').at(-1);
    throw new CommandError(
      running
        ? `${app}/${env} is held by ${holder}, the rollback of the stopped ${owner.name}: it goes on; nothing else is stopped`
        : `${app}/${env} is held by ${owner.name}, which ended and whose recovery has not finished: nothing is stopped (bluegreen status ${app} ${env} shows when it lets go)`,
      EXIT.failed,
    );
  }
  const waiting = new Set(lock?.waiters.map((w) => w.name));
  const [newest] = await executionsOf(service, { app, env }, { limit: 1, running: true, skip: waiting });
  return newest?.executionArn;
}

async function abort(
  { out }: CommandContext,
  app: string,
  env: string,
  timeoutMs: number,
  service: Service,
): Promise<ExitCode> {
  const arn = await runningDeployment(service, app, env);
  if (!arn)
    throw new CommandError(`no deployment of ${app}/${env} is running: nothing to abort`, EXIT.failed);
  const caller = await callerArn();
  await stopExecution(arn, ABORT_ERROR, `aborted by ${caller} with bluegreen abort`);
  out.progress(`stopped ${arn.split(':').at(-1)} as ${caller}; following its recovery`);
  const followed = await follow(service, arn, { deadline: Date.now() + timeoutMs, out });
  out.result(
    { abortedBy: caller, ...followed },
    followed.outcome === 'timed-out'
      ? `${followed.deployment.name} is stopped; the wait timed out before its recovery ended: the rollback goes on (bluegreen wait ${followed.rollback?.name ?? followed.deployment.name} follows it)`
      : `${followed.deployment.name} ${OUTCOME_WORDS[followed.outcome]}${followed.rollback?.cause ? `\n${followed.rollback.cause}` : ''}`,
  );
  return followed.exitCode;
}

export const registerAbort: Register = (program, run) => {
  withGlobalOptions(
    program
      .command('abort')
      .description('stop the running deployment of an app/env and follow its rollback to the end')
      .argument('<app>')
      .argument('<env>')
      .addOption(timeoutOption('1h'))
      .addOption(scenarioOption({ uploads: true })),
  ).action(
    run(async (context, app: string, env: string, flags: { timeout: string; scenario?: string }) =>
      handled(context.out, async () => {
        const timeoutMs = parseDuration(flags.timeout);
        return withService(context, (service) => abort(context, app, env, timeoutMs, service), {
          scenario: flags.scenario,
        });
      }),
    ),
  );
};
