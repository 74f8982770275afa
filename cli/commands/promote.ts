import { quoted } from '#shared/domain/text.ts';
import { promoteFromTerminal } from '#shared/operations/promote-from-terminal.ts';
import { handled, operatorPost, type Service, withService } from '../context.ts';
import { parseDuration } from '../duration.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import { follow, followedText } from '../follow.ts';
import { type CommandContext, type Register, withGlobalOptions } from '../main.ts';
import { DEFAULT_TIMEOUT, scenarioOption, timeoutOption } from '../options.ts';

interface PromoteFlags {
  wait: boolean;
  timeout: string;
  scenario?: string;
}

async function promote(
  { options, out }: CommandContext,
  release: { app: string; env: string; timeoutMs: number; wait: boolean },
  service: Service,
): Promise<ExitCode> {
  const { app, env } = release;
  // The promote runs in the service, as the IAM identity the signed request proves (never a name
  // the command sends): the operator needs execute-api:Invoke on the route, nothing of the tokens.
  const answer = await promoteFromTerminal(
    { url: service.promotionApiUrl, app, env },
    operatorPost(service.region, options.profile),
  );
  if (answer.kind === 'refused') {
    // A 5xx may come after the service ended the wait: say it is not known, never "nothing".
    const text =
      answer.status >= 500
        ? `not known whether ${app}/${env} was promoted (HTTP ${answer.status}: ${quoted(answer.message)}): bluegreen status ${app} ${env} shows where it is`
        : `nothing promoted: AWS refused the request (HTTP ${answer.status}): ${quoted(answer.message)}`;
    out.result({ ...answer, exitCode: EXIT.aws }, text);
    return EXIT.aws;
  }
  const { result, text } = answer;
  if (result.outcome !== 'promoted' && result.outcome !== 'already-promoted') {
    out.result({ ...result, exitCode: EXIT.failed }, text);
    return EXIT.failed;
  }
  if (!release.wait) {
    out.result({ ...result, exitCode: EXIT.ok }, text);
    return EXIT.ok;
  }
  out.progress(text);
  const followed = await follow(service, result.executionArn, {
    deadline: Date.now() + release.timeoutMs,
    out,
  });
  out.result({ ...result, ...followed }, followedText(followed));
  return followed.exitCode;
}

export const registerPromote: Register = (program, run) => {
  withGlobalOptions(
    program
      .command('promote')
      .description(
        "skip the rest of the running deployment's wait (a traffic step's, or the termination window's); its checks still run",
      )
      .argument('<app>')
      .argument('<env>')
      .option(
        '--wait',
        'then follow the deployment to its end and exit with its outcome, as deploy --wait',
        false,
      )
      .addOption(timeoutOption(DEFAULT_TIMEOUT))
      .addOption(scenarioOption({ uploads: true })),
  ).action(
    run(async (context, app: string, env: string, flags: PromoteFlags) =>
      handled(context.out, async () => {
        const timeoutMs = parseDuration(flags.timeout);
        return withService(
          context,
          (service) => promote(context, { app, env, timeoutMs, wait: flags.wait }, service),
          { scenario: flags.scenario },
        );
      }),
    ),
  );
};
