import { Option } from 'commander';
import { quoted } from '#shared/domain/text.ts';
import { decideFromTerminal, type TerminalDecision } from '#shared/operations/decide-from-terminal.ts';
import { handled, operatorPost, type Service, withService } from '../context.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import { type CommandContext, type Register, withGlobalOptions } from '../main.ts';
import { scenarioOption } from '../options.ts';

type Decision = 'approve' | 'reject';

/** The exit code of each answer: 0 only when this command decided. */
const EXIT_OF: Record<TerminalDecision['kind'], ExitCode> = {
  decided: EXIT.ok,
  waiting: EXIT.failed,
  'not-this-approval': EXIT.failed,
  'decided-already': EXIT.failed,
  'not-an-approver': EXIT.failed,
  'nothing-waiting': EXIT.failed,
  'not-known': EXIT.failed,
  'try-again': EXIT.failed,
  'bad-request': EXIT.usage,
  refused: EXIT.aws,
};

/** The answer as one line; every text from a person (approver, comment, refusal) quoted. */
export function decisionText(result: TerminalDecision, app: string, env: string): string {
  const id = `${app}/${env}`;
  switch (result.kind) {
    case 'decided':
      return `${id} ${result.deployment.version}: ${result.decision} by ${quoted(result.approver)} at ${result.at}${result.comment ? ` (comment ${quoted(result.comment)})` : ''}`;
    case 'waiting':
      return `nothing decided: ${id} ${result.deployment.version} waits for its ${result.deployment.stage} approval`;
    case 'not-this-approval':
      return `nothing decided: ${id} ${quoted(result.deployment.version)} waits for its ${result.deployment.stage} approval, not the one asked for (${quoted(JSON.stringify(result.asked))})`;
    case 'decided-already':
      return `nothing decided: ${id} ${result.deployment.version} was already ${result.decision} by ${quoted(result.approver)} at ${result.at}`;
    case 'not-an-approver':
      return `nothing decided: ${quoted(result.principal)} is not one of the approvers of ${id}`;
    case 'nothing-waiting':
      return `nothing decided: no approval of ${id} waits for an answer (${result.reason})`;
    case 'not-known':
      return `the answer for ${id} may or may not have arrived (${result.reason}): run the command again to see which`;
    case 'try-again':
      return `nothing decided: Step Functions refused the answer for now (${result.reason}); try again`;
    case 'bad-request':
      return `nothing decided: the service refused the request: ${result.problems.join('; ')}`;
    case 'refused':
      return `nothing decided: AWS refused the request (HTTP ${result.status}): ${quoted(result.message)}`;
  }
}

async function decide(
  { options, out }: CommandContext,
  input: {
    app: string;
    env: string;
    decision: Decision;
    comment?: string | undefined;
    version?: string | undefined;
    stage?: 'traffic-shift' | 'blue-termination' | undefined;
  },
  service: Service,
): Promise<ExitCode> {
  const { app, env, decision, comment, version, stage } = input;
  const result = await decideFromTerminal(
    {
      url: service.decisionApiUrl,
      app,
      env,
      decision,
      ...(comment !== undefined ? { comment } : {}),
      ...(version !== undefined ? { version } : {}),
      ...(stage !== undefined ? { stage } : {}),
    },
    operatorPost(service.region, options.profile),
  );
  const code = EXIT_OF[result.kind];
  out.result({ ...result, exitCode: code }, decisionText(result, app, env));
  return code;
}

/** `approve` and `reject`: one command each, the same but for the decision. */
function registerDecision(decision: Decision, description: string): Register {
  return (program, run) => {
    withGlobalOptions(
      program
        .command(decision)
        .description(description)
        .argument('<app>')
        .argument('<env>')
        .option('--comment <text>', 'why, recorded with the decision and quoted in the notification')
        .option('--version <version>', 'decide only if this release waits (the one you reviewed)')
        .addOption(
          new Option('--approval <stage>', 'decide only if this approval of it waits').choices([
            'traffic-shift',
            'blue-termination',
          ]),
        )
        .addOption(scenarioOption({ uploads: true })),
    ).action(
      run(
        async (
          context,
          app: string,
          env: string,
          flags: {
            comment?: string;
            version?: string;
            approval?: 'traffic-shift' | 'blue-termination';
            scenario?: string;
          },
        ) =>
          handled(context.out, () =>
            withService(
              context,
              (service) =>
                decide(
                  context,
                  {
                    app,
                    env,
                    decision,
                    comment: flags.comment,
                    version: flags.version,
                    stage: flags.approval,
                  },
                  service,
                ),
              { scenario: flags.scenario },
            ),
          ),
      ),
    );
  };
}

export const registerApprove = registerDecision(
  'approve',
  "approve the app/env's waiting approval as your IAM identity (one of the config's approvers)",
);

export const registerReject = registerDecision(
  'reject',
  "reject the app/env's waiting approval as your IAM identity: the deployment rolls back",
);
