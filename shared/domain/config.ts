import { z } from 'zod';

/**
 * The per-app/env deployment config, `config/<app>/<env>.json` in the release bucket.
 * This schema is the single source: the TypeScript types are inferred from it and
 * `schema/deploy-config.schema.json` is generated from it (`npm run schema`).
 */

const printable = /^[^\p{Cc}]*$/u;

const hostname = z
  .string()
  .max(253)
  .regex(
    /^(?=.{1,253}\.?$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}\.?$/,
    'must be a DNS name such as app.example.com',
  );

const hostedZoneId = z
  .string()
  .regex(/^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone id such as Z2ABCDEF123456');

const targetGroupArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/,
    'must be a target group ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID)',
  );

const slotSchema = z
  .strictObject({
    targetGroupArn: targetGroupArn.describe("The slot's target group; green instances are registered here."),
    loadBalancer: z
      .strictObject({
        dnsName: hostname.describe("The slot load balancer's DNS name (the alias target)."),
        hostedZoneId: hostedZoneId.describe(
          "The load balancer's canonical hosted zone id (CanonicalHostedZoneID), not your zone's.",
        ),
      })
      .describe('The load balancer the weighted record of this slot aliases.'),
  })
  .describe('One of the two slots: a load balancer, its target group and one weighted record.');

const launchTemplateSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^lt-[0-9a-f]{8,17}$/, 'must be a launch template id such as lt-0123456789abcdef0')
      .optional()
      .describe('Launch template id. Give id or name, not both.'),
    name: z
      .string()
      .regex(/^[A-Za-z0-9().\-/_]{3,128}$/, 'must be 3-128 characters of letters, digits and ( ) . - / _')
      .optional()
      .describe('Launch template name. Give id or name, not both.'),
    version: z
      .string()
      .regex(/^(\$Latest|\$Default|[1-9][0-9]{0,8})$/, 'must be $Latest, $Default or a version number')
      .default('$Default')
      .describe('Launch template version: a number, $Latest or $Default.'),
  })
  .refine((lt) => (lt.id === undefined) !== (lt.name === undefined), {
    message: 'give exactly one of id or name',
  })
  .describe('The launch template green instances are launched from; the AMI is replaced by the baked one.');

const bakeSchema = z
  .strictObject({
    parentImage: z
      .string()
      .regex(
        /^(ami-[0-9a-f]{8,17}|arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:(\d{12}|aws):image\/[a-z0-9-_]+\/[0-9x.]+(\/\d+)?)$/,
        'must be an AMI id (ami-...) or an Image Builder image ARN',
      )
      .describe('The base image the AMI is built on: an AMI id or an Image Builder image ARN.'),
    infrastructureConfigurationArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:\d{12}:infrastructure-configuration\/[a-z0-9-_]+$/,
        'must be an Image Builder infrastructure configuration ARN',
      )
      .describe('Where Image Builder runs the build (instance type, subnet, instance profile).'),
    installCommand: z
      .string()
      .min(1)
      .max(4096)
      .regex(printable, 'must not contain control characters')
      .describe(
        'Shell command run as root in the unpacked artifact directory while baking, e.g. ./install.sh',
      ),
    installDirectory: z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]{0,255}$/, 'must be an absolute path of letters, digits and . _ - /')
      .refine((path) => !path.split('/').includes('..'), 'must not contain ..')
      .default('/opt/app')
      .describe('Where the artifact is unpacked on the image.'),
    timeoutMinutes: z.int().min(10).max(240).default(120).describe('Give up on the build after this long.'),
    pollSeconds: z
      .int()
      .min(60)
      .max(3600)
      .default(600)
      .describe("How often the build is checked if Image Builder's end-of-build event does not arrive."),
  })
  .describe('How the AMI is baked with EC2 Image Builder.');

const trafficSchema = z
  .strictObject({
    steps: z
      .array(z.int().min(1).max(100))
      .min(1)
      .max(10)
      .default([10, 50, 100])
      .refine((steps) => steps.every((step, i) => i === 0 || step > (steps[i - 1] ?? 0)), {
        message: 'steps must increase',
      })
      .refine((steps) => steps.at(-1) === 100, { message: 'the last step must be 100' })
      .describe('Percent of traffic on green at each step; increasing, ending at 100.'),
    stepWaitSeconds: z
      .int()
      .min(0)
      .max(3600)
      .default(300)
      .describe('How long each step is watched before the next (never less than the record TTL).'),
  })
  .describe('How traffic moves from blue to green.');

const healthSchema = z
  .strictObject({
    timeoutSeconds: z
      .int()
      .min(60)
      .max(3600)
      .default(900)
      .describe('How long green has, from launch, to boot and pass its health checks.'),
    pollSeconds: z.int().min(5).max(300).default(15).describe('How often green target health is checked.'),
    minHealthyPercent: z
      .int()
      .min(1)
      .max(100)
      .default(100)
      .describe('Share of green targets that must be healthy before and while traffic moves.'),
  })
  .describe('When green counts as healthy.');

const terminationSchema = z
  .strictObject({
    waitSeconds: z
      .int()
      .min(0)
      .max(172800)
      .default(3600)
      .describe('How long blue stays up after green carries 100 %, while alarms and health are watched.'),
    checkIntervalSeconds: z
      .int()
      .min(60)
      .max(3600)
      .optional()
      .describe('How often alarms and health are checked during the window (default: wait / 12, 60-900 s).'),
  })
  .describe('The termination window before blue is terminated.');

const approvalSchema = z
  .strictObject({
    before: z
      .array(z.enum(['traffic-shift', 'blue-termination']))
      .min(1)
      .max(2)
      .refine((stages) => new Set(stages).size === stages.length, { message: 'name each stage once' })
      .describe(
        'Where the deployment waits for a person: before the first traffic shift, before blue is terminated, or both.',
      ),
    approvers: z
      .array(z.email('must be an email address').max(254))
      .min(1)
      .max(20)
      .describe('Who may approve; each gets their own signed link.'),
    timeoutSeconds: z
      .int()
      .min(300)
      .max(604800)
      .default(86400)
      .describe('How long to wait for an answer before rolling back (default 24 h).'),
  })
  .describe('Manual approval by link. Without it the deployment never waits for a person.');

export const deployConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    slots: z.strictObject({ a: slotSchema, b: slotSchema }).describe('The two slots of this app/env.'),
    dns: z
      .strictObject({
        hostedZoneId: hostedZoneId.describe('Your hosted zone that holds the weighted records.'),
        recordName: hostname.describe('The name both weighted records share, e.g. app.example.com'),
        recordType: z.enum(['A', 'AAAA']).default('A').describe('The type both weighted records share.'),
        ttlSeconds: z
          .int()
          .min(0)
          .max(3600)
          .default(60)
          .describe(
            'How long resolvers may cache the record; alias records use the target TTL (60 s for ELB).',
          ),
        evaluateTargetHealth: z
          .boolean()
          .default(true)
          .describe('EvaluateTargetHealth on the alias records.'),
      })
      .describe('The Route 53 weighted records that split traffic between the slots.'),
    launchTemplate: launchTemplateSchema,
    instanceCount: z
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe("Green fleet size (default: blue's current registered target count, at least 1)."),
    bake: bakeSchema,
    traffic: trafficSchema.prefault({}),
    health: healthSchema.prefault({}),
    alarms: z
      .array(z.string().min(1).max(255).regex(printable, 'must not contain control characters'))
      .max(100)
      .default([])
      .describe('CloudWatch alarm names; any of them in ALARM rolls the deploy back.'),
    termination: terminationSchema.prefault({}),
    approval: approvalSchema.optional(),
    notifications: z
      .strictObject({
        topicArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be an SNS topic ARN')
          .optional()
          .describe("Topic for this app/env's notifications (default: the service's topic)."),
      })
      .prefault({})
      .describe('Where deployment notifications go.'),
  })
  .refine((config) => config.slots.a.targetGroupArn !== config.slots.b.targetGroupArn, {
    message: 'slots a and b must use different target groups',
    path: ['slots', 'b', 'targetGroupArn'],
  })
  .describe('Blue/green deployment config for one app/env.');

/** The config as written in the bucket (defaults optional). */
export type DeployConfigInput = z.input<typeof deployConfigSchema>;
/** The config after validation, every default filled in. */
export type DeployConfig = z.output<typeof deployConfigSchema>;
export type SlotConfig = DeployConfig['slots']['a'];

export type ConfigParseResult = { ok: true; config: DeployConfig } | { ok: false; problems: string[] };

function pathOf(path: readonly PropertyKey[]): string {
  return path.length === 0
    ? '(root)'
    : path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.');
}

/** Validates parsed JSON; every problem names the field it is about. */
export function validateConfig(json: unknown): ConfigParseResult {
  const result = deployConfigSchema.safeParse(json);
  if (result.success) return { ok: true, config: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((issue) => `${pathOf(issue.path)}: ${issue.message}`),
  };
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

/** The published JSON Schema, for editor completion in config files. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(deployConfigSchema, { io: 'input', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}
