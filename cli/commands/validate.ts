import { Option } from 'commander';
import type { DeployConfig } from '#shared/domain/config.ts';
import type { ServiceSide } from '#shared/domain/config-check.ts';
import { DEFAULT_TOPIC_NAMES, validateFile, validateText } from '../config-file.ts';
import type { ExitCode } from '../exit-codes.ts';
import { type CommandContext, type GlobalOptions, type Register, withGlobalOptions } from '../main.ts';

/**
 * Where the service that would deploy this config runs: in the slots' account, in `region` (the
 * slots' Region unless --region says), its topic named by the stack (serverless.yml's
 * DeploymentTopic, `bluegreen-ec2-<stage>-deployments`).
 */
function serviceSide(options: GlobalOptions, topicNames: string): (config: DeployConfig) => ServiceSide {
  return (config) => {
    const [, partition, , slotRegion, account] = config.slots.a.targetGroupArn.split(':');
    const region = options.region ?? slotRegion;
    return {
      topicArn: `arn:${partition}:sns:${region}:${account}:bluegreen-ec2-${options.stage}-deployments`,
      topicNames,
    };
  };
}

async function validate(
  { options, out }: CommandContext,
  file: string,
  flags: { topicNames: string },
): Promise<ExitCode> {
  const { result, code } = await validateFile(file, serviceSide(options, flags.topicNames));
  out.result(result, validateText(result));
  return code;
}

export const registerValidate: Register = (program, run) => {
  withGlobalOptions(
    program
      .command('validate')
      .description(
        'check a deployment config offline with every rule the service applies before it reads your account (exit 0 valid, 1 problems, 2 unreadable file)',
      )
      .argument('<file>', 'the config file, as it goes to config/<app>/<env>.json'),
  )
    .addOption(
      new Option(
        '--topic-names <pattern>',
        'the stack parameter NotificationTopicNames the service was deployed with',
      ).default(DEFAULT_TOPIC_NAMES),
    )
    .action(run(validate));
};
