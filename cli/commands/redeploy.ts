import { randomUUID } from 'node:crypto';
import { currentVersion } from '#shared/aws/s3.ts';
import { startExecution, executionArn as toExecutionArn } from '#shared/aws/sfn.ts';
import { ARTIFACT_FORMATS, parseArtifactKey, releaseKeyOf } from '#shared/domain/artifact-key.ts';
import { REQUEST_ID_PATTERN } from '#shared/domain/redeploy.ts';
import { quoted } from '#shared/domain/text.ts';
import { InvalidConfig } from '#shared/errors.ts';
import { redeployRequest } from '#shared/operations/redeploy.ts';
import { consoleLink, handled, type Service, withService } from '../context.ts';
import { parseDuration } from '../duration.ts';
import { CommandError, usageError } from '../errors.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import { follow, followedText } from '../follow.ts';
import { type CommandContext, type Register, withGlobalOptions } from '../main.ts';
import { DEFAULT_TIMEOUT, scenarioOption, timeoutOption } from '../options.ts';

interface RedeployFlags {
  versionId?: string;
  requestId?: string;
  wait: boolean;
  timeout: string;
  scenario?: string;
}

interface Request {
  app: string;
  env: string;
  version: string;
  requestId: string;
  versionId?: string | undefined;
  timeoutMs: number;
  wait: boolean;
}

/** The release keys the version may be under (one per format), each checked by the service's parser. */
function candidateKeys(app: string, env: string, version: string): string[] {
  return ARTIFACT_FORMATS.map((format) => {
    const key = releaseKeyOf({ app, env, version, format });
    const parsed = parseArtifactKey(key);
    if (!parsed.ok) throw usageError(`no release can be at ${quoted(key)}: ${parsed.reason}`);
    return key;
  });
}

/** The release object of app/env/version: the one key of its formats that S3 has. */
async function findRelease(service: Service, request: Request): Promise<string> {
  const keys = candidateKeys(request.app, request.env, request.version);
  const found: string[] = [];
  for (const key of keys) if (await currentVersion(service.bucket, key)) found.push(key);
  const where = (key: string) => `s3://${service.bucket}/${key}`;
  const [key, other] = found;
  if (!key)
    throw new CommandError(
      `no release ${request.version} of ${request.app}/${request.env}: neither ${keys.map(where).join(' nor ')} exists; nothing started`,
      EXIT.failed,
    );
  if (other)
    throw new CommandError(
      `both ${where(key)} and ${where(other)} exist, two releases under one version: which one to deploy again is not clear; nothing started`,
      EXIT.failed,
    );
  return key;
}

/** Starts the execution; a start already made with this request id is that one, not an error. */
async function start(service: Service, name: string, input: unknown): Promise<boolean> {
  try {
    await startExecution(service.deployStateMachineArn, name, input);
    return true;
  } catch (error) {
    if ((error as Error).name === 'ExecutionAlreadyExists') return false;
    throw error;
  }
}

async function redeploy({ out }: CommandContext, request: Request, service: Service): Promise<ExitCode> {
  const key = await findRelease(service, request);
  const { name, input } = await redeployRequest({
    bucket: service.bucket,
    key,
    versionId: request.versionId,
    requestId: request.requestId,
  }).catch((error: unknown) => {
    if (error instanceof InvalidConfig)
      throw new CommandError(`${error.message}; nothing started`, EXIT.failed);
    throw error;
  });
  const started = await start(service, name, input);
  const arn = toExecutionArn(service.deployStateMachineArn, name);
  const link = consoleLink(service.region, arn);
  const document = {
    key: `s3://${service.bucket}/${key}`,
    versionId: input.artifact.versionId,
    requestId: request.requestId,
    started,
    execution: name,
    executionArn: arn,
    consoleUrl: link,
  };
  out.progress(
    started
      ? `started ${name} for s3://${service.bucket}/${key} (version ${input.artifact.versionId})`
      : `${name} was started already with request id ${quoted(request.requestId)}: not started again`,
  );
  if (!request.wait) {
    out.result(document, `${name}\n${link}`);
    return EXIT.ok;
  }
  out.progress(`execution ${name}\n  ${link}`);
  const followed = await follow(service, arn, { deadline: Date.now() + request.timeoutMs, out });
  out.result({ ...document, ...followed }, followedText(followed, name));
  return followed.exitCode;
}

export const registerRedeploy: Register = (program, run) => {
  withGlobalOptions(
    program
      .command('redeploy')
      .description(
        'deploy a release in the bucket again, without baking it again (its AMI is found by its content)',
      )
      .argument('<app>')
      .argument('<env>')
      .argument(
        '<version>',
        'the release version, as uploaded to releases/<app>/<env>/<version>.<zip|tar.gz>',
      )
      .option('--version-id <id>', "the release object's S3 version id (default: its current version)")
      .option(
        '--request-id <id>',
        'names the request (1-128 letters, digits, . _ : -; default: a fresh random id); a CI job passes its run id, so a retried job starts one execution',
      )
      .option(
        '--wait',
        'follow the execution state by state and exit with its outcome, as deploy --wait',
        false,
      )
      .addOption(timeoutOption(DEFAULT_TIMEOUT))
      .addOption(scenarioOption({ uploads: false })),
  ).action(
    run(async (context, app: string, env: string, version: string, flags: RedeployFlags) =>
      // The flags are checked before any AWS call: a bad one starts nothing.
      handled(context.out, async () => {
        const timeoutMs = parseDuration(flags.timeout);
        const requestId = flags.requestId ?? randomUUID();
        if (!REQUEST_ID_PATTERN.test(requestId))
          throw usageError(
            `--request-id ${quoted(requestId.slice(0, 140))} must be 1-128 letters, digits or . _ : -`,
          );
        candidateKeys(app, env, version);
        const request = {
          app,
          env,
          version,
          requestId,
          versionId: flags.versionId,
          timeoutMs,
          wait: flags.wait,
        };
        return withService(context, (service) => redeploy(context, request, service), {
          scenario: flags.scenario,
          uploads: false,
        });
      }),
    ),
  );
};
