import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { validateConfig } from '#shared/domain/config.ts';

/**
 * Writes an app/env's deploy config from the outputs of its app stack (examples/app-stack.cfn.yml,
 * in traffic.mode alb examples/alb-app-stack.cfn.yml, with fleet.kind autoScalingGroup
 * examples/asg-app-stack.cfn.yml):
 *
 *   aws cloudformation describe-stacks --stack-name web-prod --query Stacks[0].Outputs > outputs.json
 *   npm run --silent config:from-stack -- --outputs outputs.json [--base config.json] > config.json
 *
 * (--silent keeps npm's banner, which it prints on stdout, out of config.json.)
 *
 * No AWS call: the outputs are turned into the config's fields one to one, and the result is
 * validated with the service's own schema, so what this prints is what Plan will accept. Fields
 * the stack does not know (alarms, traffic, approval...) come from --base, a config the stack's
 * fields are written over.
 */

/** Each output of the app stack, and the config field it is (the output's description says so too). */
export const OUTPUT_FIELDS = {
  SlotATargetGroupArn: 'slots.a.targetGroupArn',
  SlotALoadBalancerDnsName: 'slots.a.loadBalancer.dnsName',
  SlotALoadBalancerHostedZoneId: 'slots.a.loadBalancer.hostedZoneId',
  SlotBTargetGroupArn: 'slots.b.targetGroupArn',
  SlotBLoadBalancerDnsName: 'slots.b.loadBalancer.dnsName',
  SlotBLoadBalancerHostedZoneId: 'slots.b.loadBalancer.hostedZoneId',
  DnsHostedZoneId: 'dns.hostedZoneId',
  DnsRecordName: 'dns.recordName',
  LaunchTemplateId: 'launchTemplate.id',
  BakeInfrastructureConfigurationArn: 'bake.infrastructureConfigurationArn',
  BakeParentImage: 'bake.parentImage',
  BakeInstallCommand: 'bake.installCommand',
} as const;

/**
 * The same for the app stack of traffic.mode alb (examples/alb-app-stack.cfn.yml): its listener in
 * place of the records and the load balancers. Its output LoadBalancerDnsName is for your own DNS
 * record, not a config field.
 */
export const ALB_OUTPUT_FIELDS = {
  SlotATargetGroupArn: 'slots.a.targetGroupArn',
  SlotBTargetGroupArn: 'slots.b.targetGroupArn',
  ListenerArn: 'listener.listenerArn',
  LaunchTemplateId: 'launchTemplate.id',
  BakeInfrastructureConfigurationArn: 'bake.infrastructureConfigurationArn',
  BakeParentImage: 'bake.parentImage',
  BakeInstallCommand: 'bake.installCommand',
} as const;

/**
 * The same for the app stack of fleet.kind autoScalingGroup (examples/asg-app-stack.cfn.yml, in
 * traffic.mode alb): the alb stack's, and the subnets of the groups the service makes, which one
 * output holds comma-separated.
 */
export const GROUP_OUTPUT_FIELDS = {
  ...ALB_OUTPUT_FIELDS,
  FleetSubnetIds: 'fleet.subnetIds',
} as const;

/** Which stack the outputs come from, and the template it is made from. */
const STACKS = {
  route53: { fields: OUTPUT_FIELDS, template: 'examples/app-stack.cfn.yml' },
  alb: { fields: ALB_OUTPUT_FIELDS, template: 'examples/alb-app-stack.cfn.yml' },
  groups: { fields: GROUP_OUTPUT_FIELDS, template: 'examples/asg-app-stack.cfn.yml' },
} as const;

export type ConfigFromStack =
  | { ok: true; config: Record<string, unknown> }
  | { ok: false; problems: string[] };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The outputs as `describe-stacks --query Stacks[0].Outputs` prints them, or the whole answer. */
function outputList(raw: unknown): unknown[] | undefined {
  if (Array.isArray(raw)) return raw;
  if (isObject(raw) && Array.isArray(raw.Stacks)) {
    if (raw.Stacks.length !== 1) return undefined;
    const [stack] = raw.Stacks;
    return isObject(stack) && Array.isArray(stack.Outputs) ? stack.Outputs : undefined;
  }
  return undefined;
}

function setPath(target: Json, path: string, value: string): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  let node = target;
  for (const key of keys) {
    const next = node[key];
    if (isObject(next)) {
      node = next;
    } else {
      const created: Json = {};
      node[key] = created;
      node = created;
    }
  }
  node[last] = value;
}

/**
 * The config the stack's outputs describe, written over `base` when one is given: the slots are
 * the stack's alone; dns and bake keep the base's other fields (TTL, install directory...); the
 * launch template is the stack's, in the base's version if it names one.
 */
export function configFromOutputs(rawOutputs: unknown, base?: unknown): ConfigFromStack {
  const list = outputList(rawOutputs);
  if (!list) {
    return {
      ok: false,
      problems: [
        'outputs: expected the JSON of `aws cloudformation describe-stacks --stack-name STACK --query Stacks[0].Outputs` (a list of {"OutputKey", "OutputValue"}), or the whole describe-stacks answer for one stack',
      ],
    };
  }
  const values = new Map<string, string>();
  const problems: string[] = [];
  list.forEach((entry, i) => {
    if (!isObject(entry) || typeof entry.OutputKey !== 'string' || typeof entry.OutputValue !== 'string') {
      problems.push(`outputs[${i}]: must be {"OutputKey": string, "OutputValue": string}`);
      return;
    }
    values.set(entry.OutputKey, entry.OutputValue);
  });
  // The group stack is told by its subnets, the alb stack by its listener.
  const groups = values.has('FleetSubnetIds');
  const alb = groups || values.has('ListenerArn');
  const { fields, template }: { fields: Record<string, string>; template: string } =
    STACKS[groups ? 'groups' : alb ? 'alb' : 'route53'];
  const missing = Object.keys(fields).filter((key) => !values.has(key));
  if (missing.length > 0) {
    problems.push(
      `outputs: missing ${missing.join(', ')} (are these the outputs of a stack made from ${template}?)`,
    );
  }
  if (base !== undefined && !isObject(base)) problems.push('base: must be a JSON object (a deploy config)');
  if (problems.length > 0) return { ok: false, problems };

  const fromStack: Json = {};
  for (const [key, field] of Object.entries(fields)) setPath(fromStack, field, values.get(key) ?? '');
  const start: Json = isObject(base) ? base : {};
  const section = (name: string): Json => (isObject(start[name]) ? start[name] : {});
  const baseVersion = section('launchTemplate').version;
  // A base of the other mode keeps its traffic settings, not where its traffic went.
  const { dns: _records, ...withoutRecords } = start;
  const { listener: _listener, ...withoutListener } = start;
  const { fleet: _fleet, ...kept } = alb ? withoutRecords : withoutListener;
  const traffic = alb
    ? {
        traffic: { ...section('traffic'), mode: 'alb' },
        listener: { ...section('listener'), ...(fromStack.listener as Json) },
      }
    : { dns: { ...section('dns'), ...(fromStack.dns as Json) } };
  // The group stack's fleet is groups in its subnets (the base's grace period kept); the others'
  // launch templates name their instances' subnet, so a base's group settings do not apply.
  const fleet = groups
    ? {
        fleet: {
          ...section('fleet'),
          kind: 'autoScalingGroup',
          subnetIds: (values.get('FleetSubnetIds') ?? '').split(',').map((id) => id.trim()),
        },
      }
    : section('fleet').kind === 'autoScalingGroup' || start.fleet === undefined
      ? {}
      : { fleet: start.fleet };
  if (!alb && section('traffic').mode === 'alb') {
    const { mode: _mode, ...rest } = section('traffic');
    kept.traffic = rest;
  }
  const config: Json = {
    ...kept,
    slots: fromStack.slots,
    ...traffic,
    ...fleet,
    launchTemplate: {
      ...(fromStack.launchTemplate as Json),
      ...(baseVersion === undefined ? {} : { version: baseVersion }),
    },
    bake: { ...section('bake'), ...(fromStack.bake as Json) },
  };
  const checked = validateConfig(config);
  return checked.ok ? { ok: true, config } : { ok: false, problems: checked.problems };
}

const USAGE =
  'usage: npm run --silent config:from-stack -- --outputs outputs.json [--base config.json] > config.json';

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `${what} ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} ${path}: is not JSON (${(error as Error).message})`);
  }
}

/** The command: prints the config on stdout and returns 0, or prints every problem and returns 1 (2: usage). */
export function main(args: string[], out: (text: string) => void, err: (text: string) => void): number {
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const [flag = '', value] = [args[i], args[i + 1]];
    if (!['--outputs', '--base'].includes(flag) || value === undefined || options.has(flag)) {
      err(
        `${flag ? `unexpected argument ${JSON.stringify(flag)}${value === undefined ? ' (no value)' : ''}` : 'no arguments'}\n${USAGE}\n`,
      );
      return 2;
    }
    options.set(flag, value);
  }
  const outputsPath = options.get('--outputs');
  if (!outputsPath) {
    err(`--outputs is required\n${USAGE}\n`);
    return 2;
  }
  let result: ConfigFromStack;
  try {
    const basePath = options.get('--base');
    const base = basePath === undefined ? undefined : readJson(basePath, 'base config');
    result = configFromOutputs(readJson(outputsPath, 'outputs'), base);
  } catch (error) {
    err(`${(error as Error).message}\n`);
    return 1;
  }
  if (!result.ok) {
    err(`no config written from ${outputsPath}:\n${result.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  out(`${JSON.stringify(result.config, null, 2)}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.exitCode = main(
    process.argv.slice(2),
    (text) => process.stdout.write(text),
    (text) => process.stderr.write(text),
  );
}
