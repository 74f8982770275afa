import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { loadFunctionHandlers } from './definition.ts';
import { packageService, ROOT, sdkUse } from './packaging.ts';

export interface ColdStart {
  bundleBytes: number;
  /** Median module init of the packaged bundle, in a fresh process each time. */
  initMs: number;
  /** The same for a bundle of just the SDK clients the function calls, with the commands it sends. */
  sdkInitMs: number;
  clients: string[];
}

/** What the functions read at init (cold start) in Lambda; any value will do to load them. */
const ENVIRONMENT: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:bench',
  NOTIFICATION_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:bench',
  NOTIFICATION_TOPIC_NAMES: 'bluegreen-*',
  MANAGED_LISTENERS:
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/bench/50dc6c495c0c9188/f2f7dc8efc522ab2',
  LOCKS_TABLE: 'bench-locks',
  APPROVALS_TABLE: 'bench-approvals',
  SIGNING_SECRET_ID: 'bench-secret',
  APPROVAL_BASE_URL: 'https://approvals.example.test',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

/** The packaged bundles' own esbuild settings (serverless.yml custom.esbuild), for the SDK-only bundles. */
const BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

const run = promisify(execFile);

/** Milliseconds to import the module in a fresh Node process (what Lambda's init does with it). */
async function importTime(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...ENVIRONMENT },
  });
  return Number(stdout);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Median import times of a bundle and of its baseline, measured in pairs started together (one per
 * core), so that whatever else the machine does weighs on both alike.
 */
async function pairedMedians(file: string, baseline: string, runs: number): Promise<[number, number]> {
  const own: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < runs; i++) {
    const [a, b] = await Promise.all([importTime(file), importTime(baseline)]);
    own.push(a);
    base.push(b);
  }
  const round = (value: number) => Math.round(value * 10) / 10;
  return [round(median(own)), round(median(base))];
}

const CLIENT_CLASS: Record<string, string> = {
  'client-ec2': 'EC2Client',
  'client-sfn': 'SFNClient',
  'client-route-53': 'Route53Client',
  'client-elastic-load-balancing-v2': 'ElasticLoadBalancingV2Client',
  'client-imagebuilder': 'ImagebuilderClient',
  'client-cloudwatch': 'CloudWatchClient',
  'client-sns': 'SNSClient',
  'client-s3': 'S3Client',
  'client-dynamodb': 'DynamoDBClient',
  'client-secrets-manager': 'SecretsManagerClient',
  'client-eventbridge': 'EventBridgeClient',
  'client-auto-scaling': 'AutoScalingClient',
};

/**
 * A bundle of these clients (constructed) and commands (kept) and nothing else, built like the
 * functions are: what the function's init would cost with none of the service's own code.
 */
async function sdkOnlyBundle(commands: Map<string, Set<string>>, dir: string, id: string): Promise<string> {
  const lines = [...commands.entries()].map(([pkg, names], i) => {
    const name = CLIENT_CLASS[pkg];
    if (!name) throw new Error(`no client class known for @aws-sdk/${pkg}`);
    return `import { ${name}, ${[...names].join(', ')} } from '@aws-sdk/${pkg}';\nnew ${name}({});\nexport const commands${i} = [${[...names].join(', ')}];`;
  });
  const entry = join(dir, `sdk-${id}.mjs`);
  writeFileSync(entry, `${lines.join('\n')}\n`);
  const out = entry.replace(/\.mjs$/, '.bundle.mjs');
  await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    banner: { js: BANNER },
    outfile: out,
    nodePaths: [join(ROOT, 'node_modules')],
    logLevel: 'error',
  });
  return out;
}

/**
 * Cold start of every packaged function: the bundle `npm run package` builds, its size, and the
 * median time to load it in fresh processes, next to the same for just the SDK clients it calls.
 */
export async function measureColdStarts(
  runs = 10,
  progress: (line: string) => void = () => undefined,
): Promise<Record<string, ColdStart>> {
  progress('packaging the functions (osls package)...');
  const { dir } = await packageService();
  const work = mkdtempSync(join(tmpdir(), 'bluegreen-coldstart-'));
  const baselines = new Map<string, Promise<string>>();
  const results: Record<string, ColdStart> = {};
  for (const [key, { module }] of Object.entries(loadFunctionHandlers())) {
    const unzipped = join(work, key);
    mkdirSync(unzipped, { recursive: true });
    execFileSync('unzip', ['-q', '-o', join(dir, `${key}.zip`), '-d', unzipped]);
    const functionsDir = join(unzipped, 'functions');
    const bundle = readdirSync(functionsDir).find((f) => f.endsWith('.mjs'));
    if (!bundle) throw new Error(`${key}.zip holds no .mjs bundle`);
    const file = join(functionsDir, bundle);
    const use = await sdkUse(module.replace(`${ROOT}/`, ''));
    const clients = [...use.clients].sort();
    const id = [...use.commands.entries()]
      .map(([pkg, names]) => `${pkg}:${[...names].sort().join(',')}`)
      .sort()
      .join('+');
    if (!baselines.has(id)) baselines.set(id, sdkOnlyBundle(use.commands, work, String(baselines.size)));
    const [initMs, sdkInitMs] = await pairedMedians(file, await (baselines.get(id) as Promise<string>), runs);
    results[key] = { bundleBytes: statSync(file).size, initMs, sdkInitMs, clients };
    progress(
      `${key}: ${initMs} ms init (its SDK clients and commands alone ${sdkInitMs} ms), ${Math.round(statSync(file).size / 1024)} KiB`,
    );
  }
  return results;
}
