import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { putArtifact, readObject, versionsOf } from '#shared/aws/s3.ts';
import { executionArn } from '#shared/aws/sfn.ts';
import { ARTIFACT_FORMATS, configKey, parseArtifactKey, releaseKeyOf } from '#shared/domain/artifact-key.ts';
import { checkConfigText } from '#shared/domain/config-check.ts';
import { executionName } from '#shared/domain/identity.ts';
import { PROVENANCE_LIMITS, provenanceProblem } from '#shared/domain/provenance.ts';
import { consoleLink, handled, type Service, withService } from '../context.ts';
import { parseDuration } from '../duration.ts';
import { CommandError, usageError } from '../errors.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import { follow, followedText } from '../follow.ts';
import { type CommandContext, type Register, withGlobalOptions } from '../main.ts';
import { DEFAULT_TIMEOUT, scenarioOption, timeoutOption } from '../options.ts';

interface DeployOptions {
  app: string;
  env: string;
  version: string;
  wait: boolean;
  timeout: string;
  scenario?: string;
  commit?: string;
  changes?: string;
}

/**
 * CI systems' variables for the commit a job builds, tried in this order when --commit is not
 * given: GitHub Actions' and GitLab CI's (both the full SHA of the commit).
 */
export const COMMIT_VARIABLES = ['GITHUB_SHA', 'CI_COMMIT_SHA'] as const;

/**
 * The artifact's user metadata, x-amz-meta-commit and x-amz-meta-changes, which Plan reads and
 * shows approvers: from --commit (else the first CI variable set) and --changes, each checked as
 * Plan reads it (one line of printable ASCII, at most 100 and 500 characters). A value that would
 * not arrive as written is refused, naming where it came from, before anything is uploaded; a
 * blank one is not sent (Plan reads blank metadata as none), so a CI variable may be empty.
 */
export function releaseMetadata(
  flags: Pick<DeployOptions, 'commit' | 'changes'>,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const fromEnv = COMMIT_VARIABLES.find((name) => env[name]);
  const given = {
    commit:
      flags.commit !== undefined
        ? { value: flags.commit, from: '--commit' }
        : fromEnv
          ? { value: env[fromEnv] ?? '', from: `${fromEnv} (the default of --commit)` }
          : undefined,
    changes: flags.changes !== undefined ? { value: flags.changes, from: '--changes' } : undefined,
  };
  const metadata: Record<string, string> = {};
  for (const field of ['commit', 'changes'] as const) {
    const source = given[field];
    if (!source) continue;
    const problem = provenanceProblem(field, source.value);
    if (problem) throw usageError(`${source.from} ${problem}; nothing was uploaded`);
    const text = source.value.trim();
    if (text) metadata[field] = text;
  }
  return metadata;
}

/**
 * The key the release goes to, checked with the service's own parser: a key the service would
 * ignore is refused here, before anything is uploaded.
 */
export function releaseKeyFor(artifact: string, { app, env, version }: DeployOptions): string {
  const format = ARTIFACT_FORMATS.find((suffix) => artifact.endsWith(`.${suffix}`));
  if (!format) throw usageError(`${basename(artifact)}: the artifact must be a .zip or a .tar.gz file`);
  const key = releaseKeyOf({ app, env, version, format });
  const parsed = parseArtifactKey(key);
  const same =
    parsed.ok &&
    parsed.artifact.app === app &&
    parsed.artifact.env === env &&
    parsed.artifact.version === version;
  if (!parsed.ok || !same)
    throw usageError(
      `the service would ignore key ${JSON.stringify(key)}: ${parsed.ok ? 'the app, env and version do not read back as given' : parsed.reason}`,
    );
  return key;
}

/**
 * The app/env's config as Plan reads it (the release bucket's config/<app>/<env>.json), valid by
 * Plan's own rules: the schema, and where notifications may go (the stack's topic and its
 * NotificationTopicNames parameter).
 */
async function checkConfig(service: Service, app: string, env: string): Promise<void> {
  const where = `s3://${service.bucket}/${configKey(app, env)}`;
  const object = await readObject(service.bucket, configKey(app, env));
  if (!object)
    throw new CommandError(
      `${where} not found: every app/env needs a config before its first release (bluegreen validate checks one)`,
      EXIT.failed,
    );
  const parsed = checkConfigText(object.text, { topicArn: service.topicArn, topicNames: service.topicNames });
  if (!parsed.ok)
    throw new CommandError(
      `${where} is invalid, so the service would refuse the release:\n  ${parsed.problems.join('\n  ')}`,
      EXIT.failed,
    );
}

/** The refusal of a release key that held an object before. */
function writtenBefore(service: Service, key: string, how: string): CommandError {
  return new CommandError(
    `s3://${service.bucket}/${key} exists already (written ${how}): release keys are immutable, so the service would refuse it; upload this build as a new version`,
    EXIT.failed,
  );
}

/** The upload and, with --wait, the following: after the local checks passed. */
async function deploy(
  out: CommandContext['out'],
  release: { key: string; body: Uint8Array; metadata: Record<string, string>; timeoutMs: number },
  flags: DeployOptions,
  service: Service,
): Promise<ExitCode> {
  const { key, body, metadata, timeoutMs } = release;
  await checkConfig(service, flags.app, flags.env);
  // As Plan checks: any version or delete marker the key ever had, not only a current object.
  const [before] = await versionsOf(service.bucket, key);
  if (before) throw writtenBefore(service, key, `version ${before.versionId}`);
  const uploaded = await putArtifact(service.bucket, key, body, metadata).catch((error: Error) => {
    // Another upload of the key got there first (the write is conditional on no object).
    if (error.name === 'PreconditionFailed' || error.name === 'ConditionalRequestConflict')
      throw writtenBefore(service, key, 'by another upload just now');
    throw error;
  });
  const name = executionName(flags.app, flags.env, flags.version, {
    bucket: service.bucket,
    key,
    versionId: uploaded.versionId,
    eTag: uploaded.eTag?.replace(/"/g, ''),
  });
  const arn = executionArn(service.deployStateMachineArn, name);
  const link = consoleLink(service.region, arn);
  const document = {
    key: `s3://${service.bucket}/${key}`,
    versionId: uploaded.versionId ?? null,
    checksumSha256: uploaded.checksumSha256,
    ...metadata,
    execution: name,
    executionArn: arn,
    consoleUrl: link,
  };
  out.progress(`uploaded s3://${service.bucket}/${key} (version ${uploaded.versionId ?? '-'})`);
  out.progress(`execution ${name}\n  ${link}`);
  if (!flags.wait) {
    out.result(document, `${name}\n${link}`);
    return EXIT.ok;
  }
  const followed = await follow(service, arn, { deadline: Date.now() + timeoutMs, out });
  out.result({ ...document, ...followed }, followedText(followed, name));
  return followed.exitCode;
}

export const registerDeploy: Register = (program, run) => {
  withGlobalOptions(
    program
      .command('deploy')
      .description(
        'check the key and the config, upload a release, print its execution; with --wait, follow it to its end',
      )
      .argument('<artifact>', 'the release file, .zip or .tar.gz')
      .requiredOption('--app <app>', 'the app (1-32 lowercase letters, digits, inner hyphens)')
      .requiredOption('--env <env>', 'the environment (same rule as the app)')
      .requiredOption('--version <version>', "the release's version (1-64 letters, digits, . _ -)")
      .option(
        '--commit <text>',
        `the commit built, sent as x-amz-meta-commit and shown to approvers (printable ASCII, at most ${PROVENANCE_LIMITS.commit} characters; default: $${COMMIT_VARIABLES.join(' or $')}, when set)`,
      )
      .option(
        '--changes <text>',
        `what the release changes, one line sent as x-amz-meta-changes and shown to approvers (printable ASCII, at most ${PROVENANCE_LIMITS.changes} characters)`,
      )
      .option('--wait', 'follow the execution state by state and exit with its outcome', false)
      .addOption(timeoutOption(DEFAULT_TIMEOUT))
      .addOption(scenarioOption({ uploads: false })),
  ).action(
    run(async (context, artifact: string, flags: DeployOptions) =>
      // The flags, the key and the file are checked before any AWS call: a bad one uploads nothing.
      handled(context.out, async () => {
        const timeoutMs = parseDuration(flags.timeout);
        const key = releaseKeyFor(artifact, flags);
        const metadata = releaseMetadata(flags);
        const body = await readFile(artifact).catch((error: Error) => {
          throw usageError(`cannot read ${artifact}: ${error.message}`);
        });
        return withService(
          context,
          (service) => deploy(context.out, { key, body, metadata, timeoutMs }, flags, service),
          // The deploy makes the upload itself: the scenario's own are not made.
          { scenario: flags.scenario, uploads: false },
        );
      }),
    ),
  );
};
