import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

export const ROOT = resolve(import.meta.dirname, '..');

export type Json = Record<string, unknown>;

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/**
 * Runs `osls package` into a folder (offline: no credentials, no network) and returns the folder
 * and the generated CloudFormation template. The framework is called by its own bin: with
 * serverless-step-functions installed, node_modules/.bin/serverless may be v4.
 */
export async function packageService(
  out = mkdtempSync(join(tmpdir(), 'bluegreen-package-')),
  stage = 'prod',
): Promise<{
  dir: string;
  template: Json;
}> {
  await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules/osls/bin/serverless.js'),
      'package',
      '--stage',
      stage,
      '--region',
      'us-east-1',
      '--package',
      out,
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_PROFILE: 'bluegreen-no-such-profile',
      },
      timeout: 170_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return {
    dir: out,
    template: JSON.parse(
      readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as Json,
  };
}

/**
 * The template of `osls package` for a stage, from a cache under node_modules/.cache kept per
 * content of what it is made from (serverless.yml, the ASL, the lockfile): packaging takes
 * 20-50 s, and the template does not depend on the functions' code.
 */
export async function cachedTemplatePath(stage: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [
    'serverless.yml',
    'package-lock.json',
    // The local osls plugin changes the template too.
    'scripts/osls-drop-unused-default-role.js',
    ...readdirSync(join(ROOT, 'statemachines')).map((f) => `statemachines/${f}`),
  ])
    hash.update(`${file}\0${readFileSync(join(ROOT, file))}\0`);
  const dir = join(ROOT, 'node_modules', '.cache', 'bluegreen-package');
  const path = join(dir, `${stage}-${hash.digest('hex').slice(0, 16)}.json`);
  if (existsSync(path)) return path;
  const { template } = await packageService(undefined, stage);
  mkdirSync(dir, { recursive: true });
  const partial = `${path}.${process.pid}`;
  writeFileSync(partial, JSON.stringify(template));
  renameSync(partial, path);
  return path;
}

export async function packageTemplate(): Promise<Json> {
  return (await packageService()).template;
}

/** IAM action prefix of each AWS SDK client package. */
const SERVICE_PREFIX: Record<string, string> = {
  'client-ec2': 'ec2',
  'client-auto-scaling': 'autoscaling',
  'client-elastic-load-balancing-v2': 'elasticloadbalancing',
  'client-route-53': 'route53',
  'client-imagebuilder': 'imagebuilder',
  'client-cloudwatch': 'cloudwatch',
  'client-sns': 'sns',
  'client-eventbridge': 'events',
  'client-s3': 's3',
  'client-sfn': 'states',
  'client-dynamodb': 'dynamodb',
  'client-ssm': 'ssm',
  'client-secrets-manager': 'secretsmanager',
};

/** Operations whose IAM action has another name. */
const ACTION_NAME: Record<string, string> = {
  's3:HeadObject': 's3:GetObject',
  's3:ListObjectVersions': 's3:ListBucketVersions',
};

/**
 * The AWS actions a function's code can call: its handler is bundled (our code only, packages
 * external, tree-shaken) and every `new XCommand(` left in it is an operation it calls.
 */
export async function actionsCalledBy(handlerModule: string): Promise<Set<string>> {
  return (await sdkUse(handlerModule)).actions;
}

/** A function's handler bundled in memory and tree-shaken, for reading what it holds. */
function bundleInMemory(handlerModule: string, options: { packagesExternal: boolean }) {
  return build({
    entryPoints: [join(ROOT, handlerModule)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    treeShaking: true,
    logLevel: 'error',
    metafile: true,
    outdir: 'unused',
    ...(options.packagesExternal ? { packages: 'external' as const } : {}),
  });
}

/** The SDK client packages whose code a function's bundle contains (tree-shaken, as deployed). */
export async function clientsBundled(handlerModule: string): Promise<Set<string>> {
  const result = await bundleInMemory(handlerModule, { packagesExternal: false });
  const clients = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const input of Object.keys(output.inputs)) {
      const match = input.match(/node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\//);
      if (match?.[1] && output.inputs[input]?.bytesInOutput) clients.add(match[1]);
    }
  }
  return clients;
}

/** The actions a function calls and the client packages they come from. */
export async function sdkUse(
  handlerModule: string,
): Promise<{ actions: Set<string>; clients: Set<string>; commands: Map<string, Set<string>> }> {
  const result = await bundleInMemory(handlerModule, { packagesExternal: true });
  const text = result.outputFiles[0]?.text ?? '';
  const packageOf = new Map<string, string>();
  for (const match of text.matchAll(/import\s*{([^}]*)}\s*from\s*"@aws-sdk\/([^"]+)"/g)) {
    for (const name of (match[1] ?? '').split(',').map((n) => n.trim())) packageOf.set(name, match[2] ?? '');
  }
  const actions = new Set<string>();
  const clients = new Set<string>();
  const commands = new Map<string, Set<string>>();
  for (const match of text.matchAll(/new (\w+)Command\(/g)) {
    const command = match[1] ?? '';
    const pkg = packageOf.get(`${command}Command`) ?? '';
    const prefix = SERVICE_PREFIX[pkg];
    if (!prefix) throw new Error(`${handlerModule}: no IAM prefix known for ${command}Command from ${pkg}`);
    const action = `${prefix}:${command}`;
    actions.add(ACTION_NAME[action] ?? action);
    clients.add(pkg);
    commands.set(pkg, (commands.get(pkg) ?? new Set()).add(`${command}Command`));
  }
  return { actions, clients, commands };
}

export function asList<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The statements of a function's own role (serverless-iam-roles-per-function). */
export function roleStatements(template: Json, functionKey: string): Statement[] {
  const resources = template.Resources as Record<string, { Properties: Json }>;
  const logical = `${functionKey[0]?.toUpperCase()}${functionKey.slice(1)}`;
  const role = resources[`${logical}IamRoleLambdaExecution`];
  if (!role) throw new Error(`no role for ${functionKey}`);
  const policies = (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}
