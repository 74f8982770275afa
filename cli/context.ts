import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { cloudformation, describeStack } from '#shared/aws/cloudformation.ts';
import { type SignedPost, signedPost } from '#shared/aws/signed-request.ts';
import { CommandError, exitCodeOf, usageError } from './errors.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import type { CommandContext } from './main.ts';
import type { Output } from './output.ts';

/**
 * How a command reaches the service: the resources of its stack, read from the stack's outputs
 * (serverless.yml `Outputs`), with the operator's own credentials.
 */
export interface Service {
  stackName: string;
  region: string;
  bucket: string;
  deployStateMachineArn: string;
  rollbackStateMachineArn: string;
  locksTable: string;
  approvalsTable: string;
  topicArn: string;
  /** Where `approve` and `reject` POST a decision (the decision API's route). */
  decisionApiUrl: string;
  promotionApiUrl: string;
  /** The stack parameter NotificationTopicNames: the topics beside its own a config may name. */
  topicNames: string;
}

/** The service stack's name for a stage: serverless.yml's `service` and the stage. */
export function stackName(stage: string): string {
  return `bluegreen-ec2-${stage}`;
}

/** Each field of Service and the stack output that holds it. */
export const STACK_OUTPUTS = {
  bucket: 'ReleaseBucketName',
  deployStateMachineArn: 'StateMachineArn',
  rollbackStateMachineArn: 'RollbackStateMachineArn',
  locksTable: 'LocksTableName',
  approvalsTable: 'ApprovalsTableName',
  topicArn: 'DeploymentTopicArn',
  decisionApiUrl: 'DecisionApiUrl',
  promotionApiUrl: 'PromotionApiUrl',
} as const satisfies Record<string, string>;

/** The stack parameter naming the topics a config may notify beside the service's own. */
export const TOPIC_NAMES_PARAMETER = 'NotificationTopicNames';

/** The service of `stage`, from its stack's outputs; a missing stack or output is named. */
export async function findService(stage: string, region: string): Promise<Service> {
  const name = stackName(stage);
  const stack = await describeStack(name);
  if (!stack)
    throw new CommandError(
      `no stack ${name} in ${region}: deploy the service with --stage ${stage}, or give the --stage and --region it was deployed with`,
      EXIT.failed,
    );
  const { outputs, parameters } = stack;
  const missing = Object.values(STACK_OUTPUTS).filter((key) => !outputs[key]);
  if (missing.length > 0)
    throw new CommandError(
      `stack ${name} has no output ${missing.join(', ')}: it was deployed by an older version of the service; deploy this one`,
      EXIT.failed,
    );
  const topicNames = parameters[TOPIC_NAMES_PARAMETER];
  if (topicNames === undefined)
    throw new CommandError(
      `stack ${name} has no parameter ${TOPIC_NAMES_PARAMETER}: it was deployed by an older version of the service; deploy this one`,
      EXIT.failed,
    );
  const field = (key: keyof typeof STACK_OUTPUTS) => outputs[STACK_OUTPUTS[key]] as string;
  return {
    stackName: name,
    region,
    bucket: field('bucket'),
    deployStateMachineArn: field('deployStateMachineArn'),
    rollbackStateMachineArn: field('rollbackStateMachineArn'),
    locksTable: field('locksTable'),
    approvalsTable: field('approvalsTable'),
    topicArn: field('topicArn'),
    decisionApiUrl: field('decisionApiUrl'),
    promotionApiUrl: field('promotionApiUrl'),
    topicNames,
  };
}

/**
 * How a request to the decision API is signed and sent: with the operator's own credentials (the
 * SDK's chain: environment, profile, SSO, instance role) through `fetch`, unless a simulated
 * account is in use, which signs with its operator's identity and serves the request itself.
 */
export const decisionRequests: { simulated?: SignedPost | undefined } = {};

/** The SignedPost of the operator's identity in `region`. */
export function operatorPost(region: string, profile: string | undefined): SignedPost {
  return decisionRequests.simulated ?? signedPost(region, fromNodeProviderChain(profile ? { profile } : {}));
}

/** The Step Functions console page of an execution. */
export function consoleLink(region: string, executionArn: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/**
 * A pause between two looks at AWS. On the global timer, so under --simulate it is virtual time
 * and the simulated account moves on meanwhile.
 */
export function sleep(ms: number): Promise<void> {
  sleeping.count += 1;
  return new Promise<void>((resolve) => setTimeout(resolve, ms)).finally(() => {
    sleeping.count -= 1;
  });
}

/** How many of the command's sleeps are under way: the simulated clock moves only during them. */
export const sleeping = { count: 0 };

/** A command's body: given the service, it returns its exit code. */
export type ServiceCommand = (service: Service) => Promise<ExitCode>;

/**
 * Runs a command against the service of the options' stage: the operator's account, or with
 * --simulate a fresh simulated one. The SDK clients are the module-scope ones of shared/aws; the
 * Region and profile reach them through the environment they read on their first call.
 */
export function withService(
  { options, out }: CommandContext,
  command: ServiceCommand,
  simulation: { scenario?: string | undefined; uploads?: boolean } = {},
): Promise<ExitCode> {
  const { scenario } = simulation;
  return handled(out, async () => {
    if (options.simulate) {
      // The simulated account has the service deployed with stage sim (its names say so).
      const { inSimulation, SIMULATED_STAGE } = await import('./simulated.ts');
      return inSimulation(SIMULATED_STAGE, scenario, command, { uploads: simulation.uploads ?? true });
    }
    if (scenario !== undefined) throw usageError('--scenario needs --simulate');
    if (options.region) process.env.AWS_REGION = options.region;
    if (options.profile) process.env.AWS_PROFILE = options.profile;
    const region = await resolvedRegion();
    if (!region)
      throw usageError('no Region: give --region, set AWS_REGION, or name one in the profile (region = ...)');
    // Every client then agrees on it.
    process.env.AWS_REGION = region;
    return command(await findService(options.stage, region));
  });
}

/**
 * The Region as the SDK finds it: AWS_REGION, else the profile's `region` in the shared config
 * files (the clients' own provider chain, read on its first call); undefined when none says.
 */
async function resolvedRegion(): Promise<string | undefined> {
  return cloudformation.config.region().catch(() => undefined);
}

/**
 * Runs a command's action; a CommandError or an AWS error ends it with its exit code and its
 * message on stderr (and as the JSON document with --json). Anything else is a bug and throws.
 */
export async function handled(out: Output, action: () => Promise<ExitCode>): Promise<ExitCode> {
  try {
    return await action();
  } catch (error) {
    const code = exitCodeOf(error);
    if (code === undefined) throw error;
    const message =
      error instanceof CommandError
        ? error.message
        : `AWS: ${(error as Error).name}: ${(error as Error).message}`;
    const details = error instanceof CommandError ? error.details : {};
    if (out.json) out.result({ error: message, exitCode: code, ...details }, message);
    else out.progress(`bluegreen: ${out.style('red', message)}`);
    return code;
  }
}
