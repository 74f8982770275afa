import * as v from 'valibot';
import { type Parsed, parseWith } from '../validation.ts';
import { APPROVER_MESSAGE, ROLE_ARN, USER_ARN } from './principal.ts';

/**
 * The per-app/env deployment config, `config/<app>/<env>.json` in the release bucket.
 * This schema is the single source: the TypeScript types are inferred from it and
 * `schema/deploy-config.schema.json` is generated from it (`npm run schema`).
 */

const printable = /^[^\p{Cc}]*$/u;

/** A string matching `pattern` (the message says what it must look like). */
function text(pattern: RegExp, message: string) {
  return v.pipe(v.string(), v.regex(pattern, message));
}

/** An integer within [min, max]. */
function int(min: number, max: number) {
  return v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
}

/**
 * The largest value of each setting that bounds how long a deployment can run: the schema
 * enforces them, and the wait for the lock is derived from them (see longestHoldSeconds).
 */
export const LIMITS = {
  bakeTimeoutMinutes: 240,
  bakePollSeconds: 3600,
  steps: 10,
  stepWaitSeconds: 3600,
  healthTimeoutSeconds: 3600,
  terminationWaitSeconds: 172_800,
  checkIntervalSeconds: 3600,
  approvalStages: 2,
  approvalTimeoutSeconds: 604_800,
  ttlSeconds: 3600,
} as const;

/** What the field means, for the published JSON Schema (validation ignores it). */
function about<const T extends v.GenericSchema>(schema: T, description: string) {
  return v.pipe(schema, v.description(description));
}

/** A part of the config: its settings, described. */
function section<const T extends v.ObjectEntries>(description: string, entries: T) {
  return about(v.strictObject(entries), description);
}

/** An optional setting with its default, described. */
function setting<const T extends v.GenericSchema, const D extends v.Default<T, undefined>>(
  schema: T,
  fallback: D,
  description: string,
) {
  return about(v.optional(schema, fallback), description);
}

/** An optional whole number within [min, max] with its default, described. */
function bounded(min: number, max: number, fallback: number, description: string) {
  return setting(int(min, max), fallback, description);
}

/**
 * The JSON Schema form of a rule across fields, for the published schema (valibot's `check` has
 * none: the generator skips checks and takes this instead). Only rules JSON Schema can state have one;
 * the rest are listed in the published schema's `$comment` (scripts/write-schema.ts).
 */
function jsonSchemaForm<T>(form: Record<string, unknown>) {
  return v.metadata<T, Record<string, unknown>>(form);
}

const hostname = () =>
  v.pipe(
    v.string(),
    v.maxLength(253),
    v.regex(
      /^(?=.{1,253}\.?$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}\.?$/,
      'must be a DNS name such as app.example.com',
    ),
  );

const hostedZoneId = () =>
  text(/^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone id such as Z2ABCDEF123456');

const slotSchema = section(
  'One of the two slots: its target group, and (traffic.mode route53) the load balancer its weighted record aliases.',
  {
    targetGroupArn: about(
      text(
        /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/,
        'must be a target group ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID)',
      ),
      "The slot's target group; green instances are registered here.",
    ),
    loadBalancer: about(
      v.optional(
        v.strictObject({
          dnsName: about(hostname(), "The slot load balancer's DNS name (the alias target)."),
          hostedZoneId: about(
            hostedZoneId(),
            "The load balancer's canonical hosted zone id (CanonicalHostedZoneID), not your zone's.",
          ),
        }),
      ),
      'The load balancer the weighted record of this slot aliases (traffic.mode route53 only: in alb mode both target groups sit behind the one listener).',
    ),
  },
);

const launchTemplateSchema = v.pipe(
  v.strictObject({
    id: about(
      v.optional(text(/^lt-[0-9a-f]{8,17}$/, 'must be a launch template id such as lt-0123456789abcdef0')),
      'Launch template id. Give id or name, not both.',
    ),
    name: about(
      v.optional(
        text(/^[A-Za-z0-9().\-/_]{3,128}$/, 'must be 3-128 characters of letters, digits and ( ) . - / _'),
      ),
      'Launch template name. Give id or name, not both.',
    ),
    version: about(
      v.optional(
        text(/^(\$Latest|\$Default|[1-9][0-9]{0,8})$/, 'must be $Latest, $Default or a version number'),
        '$Default',
      ),
      'Launch template version: a number, $Latest or $Default.',
    ),
  }),
  v.check((lt) => (lt.id === undefined) !== (lt.name === undefined), 'give exactly one of id or name'),
  jsonSchemaForm({ oneOf: [{ required: ['id'] }, { required: ['name'] }] }),
  v.description(
    'The launch template green instances are launched from; the AMI is replaced by the baked one.',
  ),
);

const bakeSchema = section('How the AMI is baked with EC2 Image Builder.', {
  parentImage: about(
    text(
      /^(ami-[0-9a-f]{8,17}|arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:(\d{12}|aws):image\/[a-z0-9-_]+\/[0-9x.]+(\/\d+)?)$/,
      'must be an AMI id (ami-...) or an Image Builder image ARN',
    ),
    'The base image the AMI is built on: an AMI id or an Image Builder image ARN.',
  ),
  infrastructureConfigurationArn: about(
    text(
      /^arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:\d{12}:infrastructure-configuration\/bluegreen-[a-z0-9-_]+$/,
      'must be the ARN of an Image Builder infrastructure configuration named bluegreen-...',
    ),
    'Where Image Builder runs the build (instance type, subnet, instance profile); its name starts with bluegreen- (the only ones the service may build with).',
  ),
  installCommand: about(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.maxLength(4096),
      v.regex(printable, 'must not contain control characters'),
    ),
    'Shell command run as root in the unpacked artifact directory while baking, e.g. ./install.sh',
  ),
  installDirectory: about(
    v.optional(
      v.pipe(
        text(/^\/[A-Za-z0-9._/-]{0,255}$/, 'must be an absolute path of letters, digits and . _ - /'),
        v.check((path) => !path.split('/').includes('..'), 'must not contain ..'),
        jsonSchemaForm({ not: { pattern: '(^|/)\\.\\.(/|$)' } }),
      ),
      '/opt/app',
    ),
    'Where the artifact is unpacked on the image.',
  ),
  timeoutMinutes: bounded(10, LIMITS.bakeTimeoutMinutes, 120, 'Give up on the build after this long.'),
  pollSeconds: bounded(
    60,
    LIMITS.bakePollSeconds,
    600,
    "How often the build is checked if Image Builder's end-of-build event does not arrive.",
  ),
});

/** How traffic is split between the slots: weighted Route 53 records, or one ALB listener's weighted forward. */
export const TRAFFIC_MODES = ['route53', 'alb'] as const;
export type TrafficMode = (typeof TRAFFIC_MODES)[number];

const trafficSchema = section('How traffic moves from blue to green.', {
  // No default written into the config (absent means route53): a config's traffic reads as it did.
  mode: about(
    v.optional(v.picklist(TRAFFIC_MODES)),
    'Default route53. route53: two weighted records (dns), one load balancer per slot. alb: one load balancer whose listener, or one of its rules (listener), forwards to both target groups by weight; a step takes effect at once (no DNS cache).',
  ),
  steps: about(
    v.optional(
      v.pipe(
        v.array(int(1, 100)),
        v.minLength(1),
        v.maxLength(LIMITS.steps),
        v.check(
          (steps) => steps.every((step, i) => i === 0 || step > (steps[i - 1] ?? 0)),
          'steps must increase',
        ),
        v.check((steps) => steps.at(-1) === 100, 'the last step must be 100'),
        // Increasing steps are distinct; the last is 100 (one branch per length).
        jsonSchemaForm({
          uniqueItems: true,
          anyOf: Array.from({ length: LIMITS.steps }, (_, i) => ({
            minItems: i + 1,
            maxItems: i + 1,
            prefixItems: [...Array.from({ length: i }, () => ({})), { const: 100 }],
          })),
        }),
      ),
      [10, 50, 100],
    ),
    'Percent of traffic on green at each step; increasing, ending at 100.',
  ),
  stepWaitSeconds: bounded(
    0,
    LIMITS.stepWaitSeconds,
    300,
    'How long each step is watched before the next (in route53 mode never less than the record TTL).',
  ),
  healSplit: setting(
    v.boolean(),
    false,
    'When both slots carry traffic at the start, move it all to the healthier slot and retire the other first, instead of refusing.',
  ),
});

const LISTENER_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}\/[0-9a-f]{16}$/;
const RULE_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener-rule\/app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}\/[0-9a-f]{16}\/[0-9a-f]{16}$/;

/** The listener a rule belongs to: its ARN names the listener's (listener-rule/app/LB/ID/LISTENER/RULE). */
export function listenerOfRule(ruleArn: string): string {
  return ruleArn.replace(':listener-rule/', ':listener/').replace(/\/[0-9a-f]{16}$/, '');
}

const listenerSchema = v.pipe(
  v.strictObject({
    listenerArn: about(
      text(
        LISTENER_ARN,
        'must be an Application Load Balancer listener ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID)',
      ),
      "The listener whose default action forwards to both slots' target groups.",
    ),
    ruleArn: about(
      v.optional(
        text(
          RULE_ARN,
          'must be a listener rule ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/NAME/ID/ID/ID)',
        ),
      ),
      "A rule of that listener whose forward action splits the traffic instead of the listener's default action (e.g. one host name of a shared load balancer).",
    ),
  }),
  v.forward(
    v.check(
      (listener) =>
        listener.ruleArn === undefined || listenerOfRule(listener.ruleArn) === listener.listenerArn,
      'must be a rule of listener.listenerArn',
    ),
    ['ruleArn'] as const,
  ),
  v.description(
    "traffic.mode alb: the ALB listener (or rule) whose forward action holds both slots' weights; the service changes only the weights (one ModifyListener or ModifyRule call per step).",
  ),
);

const healthSchema = section('When green counts as healthy.', {
  timeoutSeconds: bounded(
    60,
    LIMITS.healthTimeoutSeconds,
    900,
    'How long green has, from launch, to boot and pass its health checks.',
  ),
  pollSeconds: bounded(5, 300, 15, 'How often green target health is checked.'),
  minHealthyPercent: bounded(
    1,
    100,
    100,
    'Share of green targets that must be healthy before and while traffic moves.',
  ),
});

const terminationSchema = section('The termination window before blue is terminated.', {
  waitSeconds: bounded(
    0,
    LIMITS.terminationWaitSeconds,
    3600,
    'How long blue stays up after green carries 100 %, while alarms and health are watched.',
  ),
  checkIntervalSeconds: about(
    v.optional(int(60, LIMITS.checkIntervalSeconds)),
    'How often alarms and health are checked during the window (default: wait / 12, 60-900 s).',
  ),
});

const approvalSchema = section(
  'Manual approval, by link or from a terminal. Without it the deployment never waits for a person.',
  {
    before: about(
      v.pipe(
        v.array(v.picklist(['traffic-shift', 'blue-termination'])),
        v.minLength(1),
        v.maxLength(LIMITS.approvalStages),
        v.check((stages) => new Set(stages).size === stages.length, 'name each stage once'),
        jsonSchemaForm({ uniqueItems: true }),
      ),
      'Where the deployment waits for a person: before the first traffic shift, before blue is terminated, or both.',
    ),
    approvers: about(
      v.pipe(
        v.array(
          v.union(
            [
              v.pipe(v.string(), v.rfcEmail(), v.maxLength(254)),
              v.pipe(v.string(), v.maxLength(2048), v.regex(ROLE_ARN)),
              v.pipe(v.string(), v.maxLength(2048), v.regex(USER_ARN)),
            ],
            APPROVER_MESSAGE,
          ),
        ),
        v.minLength(1),
        v.maxLength(20),
      ),
      'Who may approve: email addresses (each gets their own signed link) and IAM role or user ARNs (they answer from a terminal, `bluegreen approve`; any session of a role counts as the role).',
    ),
    timeoutSeconds: bounded(
      300,
      LIMITS.approvalTimeoutSeconds,
      86400,
      'How long to wait for an answer before rolling back (default 24 h).',
    ),
  },
);

/** What a fleet is: instances the service launches, or an Auto Scaling group per deployment. */
export const FLEET_KINDS = ['instances', 'autoScalingGroup'] as const;
export type FleetKind = (typeof FLEET_KINDS)[number];

const fleetSchema = section("What green's fleet is.", {
  kind: setting(
    v.picklist(FLEET_KINDS),
    'instances',
    "instances: the service launches green's instances itself. autoScalingGroup: green is a new Auto Scaling group per deployment, sized, bounded and scaled like blue's group, which replaces failed instances by itself.",
  ),
  subnetIds: about(
    v.optional(
      v.pipe(
        v.array(text(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id such as subnet-0123456789abcdef0')),
        v.minLength(1),
        v.maxLength(16),
      ),
    ),
    "fleet.kind autoScalingGroup: the subnets green's group launches into (default: blue's group's; required on a first deploy, which has no blue group).",
  ),
  healthCheckGracePeriodSeconds: about(
    v.optional(int(0, 7200)),
    "fleet.kind autoScalingGroup: how long a new instance may fail its target group's health checks before the group replaces it (default: blue's group's, else 300).",
  ),
});

/** The fields each traffic mode needs and the ones it has no use for. */
interface ModeFields {
  traffic?: { mode?: TrafficMode | undefined };
  dns?: unknown;
  listener?: unknown;
  slots: Record<'a' | 'b', { loadBalancer?: unknown }>;
}
const modeOf = (config: ModeFields): TrafficMode => config.traffic?.mode ?? 'route53';

/**
 * What each traffic mode requires: route53 the records (dns) and each slot's load balancer, alb the
 * listener and neither of those (a config naming both would say two things about where traffic goes).
 */
const MODE_RULES = {
  dnsNeeded: (c: ModeFields) => modeOf(c) !== 'route53' || c.dns !== undefined,
  listenerNeeded: (c: ModeFields) => modeOf(c) !== 'alb' || c.listener !== undefined,
  dnsUnused: (c: ModeFields) => modeOf(c) !== 'alb' || c.dns === undefined,
  listenerUnused: (c: ModeFields) => modeOf(c) !== 'route53' || c.listener === undefined,
  loadBalancerNeeded: (slot: 'a' | 'b') => (c: ModeFields) =>
    modeOf(c) !== 'route53' || c.slots[slot].loadBalancer !== undefined,
  loadBalancerUnused: (slot: 'a' | 'b') => (c: ModeFields) =>
    modeOf(c) !== 'alb' || c.slots[slot].loadBalancer === undefined,
};
const ROUTE53_NEEDS = 'required with traffic.mode route53 (the default)';
const LB_NEEDED = 'required with traffic.mode route53 (the load balancer its weighted record aliases)';
const LB_UNUSED =
  'only for traffic.mode route53: in alb mode both target groups sit behind the listener; remove it';

export const deployConfigSchema = v.pipe(
  v.strictObject({
    $schema: v.optional(v.string()),
    slots: about(v.strictObject({ a: slotSchema, b: slotSchema }), 'The two slots of this app/env.'),
    dns: about(
      v.optional(
        v.strictObject({
          hostedZoneId: about(hostedZoneId(), 'Your hosted zone that holds the weighted records.'),
          recordName: about(hostname(), 'The name both weighted records share, e.g. app.example.com'),
          recordType: about(
            v.optional(v.picklist(['A', 'AAAA']), 'A'),
            'The type both weighted records share.',
          ),
          ttlSeconds: bounded(
            0,
            LIMITS.ttlSeconds,
            60,
            'How long resolvers may cache the record; alias records use the target TTL (60 s for ELB).',
          ),
          evaluateTargetHealth: setting(v.boolean(), true, 'EvaluateTargetHealth on the alias records.'),
        }),
      ),
      'The Route 53 weighted records that split traffic between the slots (traffic.mode route53, the default).',
    ),
    listener: about(v.optional(listenerSchema), 'traffic.mode alb only.'),
    launchTemplate: launchTemplateSchema,
    instanceCount: about(
      v.optional(int(1, 1000)),
      "Green fleet size (default: blue's current registered target count, at least 1).",
    ),
    bake: bakeSchema,
    fleet: v.optional(fleetSchema, {}),
    traffic: v.optional(trafficSchema, {}),
    health: v.optional(healthSchema, {}),
    alarms: about(
      v.optional(
        v.pipe(
          v.array(
            v.pipe(
              v.string(),
              v.minLength(1),
              v.maxLength(255),
              v.regex(printable, 'must not contain control characters'),
            ),
          ),
          v.maxLength(100),
        ),
        [],
      ),
      'CloudWatch alarm names; any of them in ALARM rolls the deploy back.',
    ),
    termination: v.optional(terminationSchema, {}),
    approval: v.optional(approvalSchema),
    notifications: about(
      v.optional(
        v.strictObject({
          topicArn: about(
            v.optional(
              text(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be an SNS topic ARN'),
            ),
            "Topic for this app/env's notifications (default: the service's topic).",
          ),
        }),
        {},
      ),
      'Where deployment notifications go.',
    ),
  }),
  v.forward(
    v.check(
      (config) => config.slots.a.targetGroupArn !== config.slots.b.targetGroupArn,
      'slots a and b must use different target groups',
    ),
    ['slots', 'b', 'targetGroupArn'] as const,
  ),
  v.forward(
    v.check((c) => MODE_RULES.dnsNeeded(c), ROUTE53_NEEDS),
    ['dns'] as const,
  ),
  v.forward(
    v.check(
      (c) => MODE_RULES.dnsUnused(c),
      'only for traffic.mode route53: in alb mode the listener splits the traffic; remove dns',
    ),
    ['dns'] as const,
  ),
  v.forward(
    v.check((c) => MODE_RULES.listenerNeeded(c), 'required with traffic.mode alb'),
    ['listener'] as const,
  ),
  v.forward(
    v.check(
      (c) => MODE_RULES.listenerUnused(c),
      'only for traffic.mode alb: set traffic.mode to alb, or remove listener',
    ),
    ['listener'] as const,
  ),
  v.forward(
    v.check((c) => MODE_RULES.loadBalancerNeeded('a')(c), LB_NEEDED),
    ['slots', 'a', 'loadBalancer'] as const,
  ),
  v.forward(
    v.check((c) => MODE_RULES.loadBalancerNeeded('b')(c), LB_NEEDED),
    ['slots', 'b', 'loadBalancer'] as const,
  ),
  v.forward(
    v.check((c) => MODE_RULES.loadBalancerUnused('a')(c), LB_UNUSED),
    ['slots', 'a', 'loadBalancer'] as const,
  ),
  v.forward(
    v.check((c) => MODE_RULES.loadBalancerUnused('b')(c), LB_UNUSED),
    ['slots', 'b', 'loadBalancer'] as const,
  ),
  v.forward(
    v.check(
      (c) => c.fleet.kind === 'autoScalingGroup' || c.fleet.subnetIds === undefined,
      "only for fleet.kind autoScalingGroup: instances launch into the launch template's subnet; remove it",
    ),
    ['fleet', 'subnetIds'] as const,
  ),
  v.forward(
    v.check(
      (c) => c.fleet.kind === 'autoScalingGroup' || c.fleet.healthCheckGracePeriodSeconds === undefined,
      'only for fleet.kind autoScalingGroup; remove it',
    ),
    ['fleet', 'healthCheckGracePeriodSeconds'] as const,
  ),
  // The JSON Schema form of the rules above: which of dns and listener each mode needs and forbids.
  jsonSchemaForm({
    if: {
      required: ['traffic'],
      properties: { traffic: { required: ['mode'], properties: { mode: { const: 'alb' } } } },
    },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keywords.
    then: { required: ['listener'], not: { anyOf: [{ required: ['dns'] }] } },
    else: { required: ['dns'], not: { anyOf: [{ required: ['listener'] }] } },
  }),
  v.description('Blue/green deployment config for one app/env.'),
);

/** The config as written in the bucket (defaults optional). */
export type DeployConfigInput = v.InferInput<typeof deployConfigSchema>;
/** The config after validation, every default filled in. */
export type DeployConfig = v.InferOutput<typeof deployConfigSchema>;
export type SlotConfig = DeployConfig['slots']['a'];

export type ConfigParseResult = { ok: true; config: DeployConfig } | { ok: false; problems: string[] };

function asConfigResult(parsed: Parsed<DeployConfig>): ConfigParseResult {
  return parsed.ok ? { ok: true, config: parsed.value } : parsed;
}

/** Validates parsed JSON; every problem names the field it is about. */
export function validateConfig(json: unknown): ConfigParseResult {
  return asConfigResult(parseWith(deployConfigSchema, json));
}

/** Parses the raw text of a config file. */
export function parseConfigText(text: string): ConfigParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`(file): not valid JSON: ${(error as Error).message}`] };
  }
  return validateConfig(json);
}
