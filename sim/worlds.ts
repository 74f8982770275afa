import type { S3EventRecord } from 'aws-lambda';
import { startExecution } from '#shared/aws/sfn.ts';
import { encodeEventKey } from '#shared/domain/artifact-key.ts';
import type { DeployConfigInput } from '#shared/domain/config.ts';
import { greenGroupName } from '#shared/domain/groups.ts';
import { artifactId, executionName } from '#shared/domain/identity.ts';
import { lockId } from '#shared/domain/lock.ts';
import { fleetTags, MANAGED_BY, TAG } from '#shared/domain/tags.ts';
import { SLOTS, type Slot } from '#shared/domain/traffic.ts';
import { redeployRequest } from '#shared/operations/redeploy.ts';
import type { SimInstance } from './aws/ec2.ts';
import type { UploadOptions } from './aws/small.ts';
import {
  ACCOUNT,
  APPROVALS_TABLE,
  asSomeoneElse,
  DEFAULT_TOPIC_ARN,
  LOCKS_TABLE,
  REGION,
  SIGNING_SECRET_ID,
  type World,
} from './world.ts';

// The simulated account and its worlds: the seeded apps, the default config, and the changes
// scenarios make to them (faults, timings, an operator's Stop).
export const APP = 'web';
export const ENV = 'prod';
export const BUCKET = `bluegreen-ec2-sim-releases-${ACCOUNT}`;
export const ALARM = 'web-prod-5xx';
export const ZONE = 'Z0123456789ABCDEFGHIJ';
const ELB_ZONE = 'Z35SXDOTRQ7X7K';
/** The names of one app's slots in the simulated account (web/prod unless said otherwise). */
export function appNames(app = APP) {
  return {
    targetGroups: {
      a: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${app}-prod-a/0123456789abcdef`,
      b: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${app}-prod-b/fedcba9876543210`,
    } as Record<Slot, string>,
    loadBalancers: {
      a: `${app}-prod-a-1234567890.${REGION}.elb.amazonaws.com`,
      b: `${app}-prod-b-0987654321.${REGION}.elb.amazonaws.com`,
    } as Record<Slot, string>,
    record: `${app}.example.com`,
    alarm: `${app}-prod-5xx`,
    /** traffic.mode alb: the one load balancer in front of both slots, and its HTTPS listener. */
    albArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/${app}-prod/50dc6c495c0c9188`,
    listenerArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/${app}-prod/50dc6c495c0c9188/f2f7dc8efc522ab2`,
    /** A rule of that listener (a host name of a shared load balancer), for listener.ruleArn. */
    ruleArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener-rule/app/${app}-prod/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`,
  };
}

/** How long the simulated ALB listener's forward action keeps a client on its target group. */
export const ALB_STICKINESS_SECONDS = 600;
export const TARGET_GROUPS = appNames().targetGroups;
const INFRA = `arn:aws:imagebuilder:${REGION}:${ACCOUNT}:infrastructure-configuration/bluegreen-web-prod`;
/** The launch template every simulated app launches from, as examples/ creates it. */
export const LAUNCH_TEMPLATE = {
  id: 'lt-0123456789abcdef0',
  name: 'web-prod',
  // The service launches only from templates that carry its tag.
  tags: { [TAG.managedBy]: MANAGED_BY },
  // Under the path the service's iam:PassRole is scoped to (stack parameter InstanceRoleNames).
  instanceProfile: {
    arn: `arn:aws:iam::${ACCOUNT}:instance-profile/bluegreen-ec2/web-prod-instance`,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/bluegreen-ec2/web-prod-instance`,
  },
  subnetId: 'subnet-0a1b2c3d4e5f60718',
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  securityGroupIds: ['sg-0123456789abcdef0'],
};

/** The instance profile the builds of app/env run with, and its role. */
export function buildProfile(app = APP, env = ENV) {
  const name = `${app}-${env}-build`;
  return {
    name,
    arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
  };
}

/** The config of the default world, as an operator would write it. */
export function defaultConfig(app = APP): DeployConfigInput {
  const names = appNames(app);
  return {
    slots: {
      a: {
        targetGroupArn: names.targetGroups.a,
        loadBalancer: {
          dnsName: names.loadBalancers.a,
          hostedZoneId: ELB_ZONE,
        },
      },
      b: {
        targetGroupArn: names.targetGroups.b,
        loadBalancer: {
          dnsName: names.loadBalancers.b,
          hostedZoneId: ELB_ZONE,
        },
      },
    },
    dns: { hostedZoneId: ZONE, recordName: names.record },
    launchTemplate: { id: LAUNCH_TEMPLATE.id },
    bake: {
      parentImage: 'ami-0abcdef1234567890',
      infrastructureConfigurationArn: INFRA,
      installCommand: './install.sh',
    },
    alarms: [names.alarm],
  };
}

/**
 * The config of the default world in traffic.mode alb: one load balancer whose listener forwards
 * to both slots' target groups by weight, with target group stickiness (ALB_STICKINESS_SECONDS).
 */
export function albConfig(app = APP, rule = false): DeployConfigInput {
  const names = appNames(app);
  const { dns: _records, slots, ...rest } = defaultConfig(app);
  return {
    ...rest,
    slots: { a: { targetGroupArn: slots.a.targetGroupArn }, b: { targetGroupArn: slots.b.targetGroupArn } },
    traffic: { mode: 'alb' },
    listener: { listenerArn: names.listenerArn, ...(rule ? { ruleArn: names.ruleArn } : {}) },
  };
}

/**
 * One app/env of the simulated account and the config its resources are built from: the built-in
 * web/prod (defaultConfig), or a user's own config (`simulate --config`).
 */
export interface SimApp {
  app: string;
  env: string;
  config: DeployConfigInput;
}

/**
 * The built-in app/env of the simulated account: `alb`, its traffic.mode alb form, whose listener's
 * default action (or, `rule`, one of its rules) forwards to both target groups.
 */
export function builtInApp(app = APP, alb: boolean | 'rule' = false, groups = false): SimApp {
  const config = alb ? albConfig(app, alb === 'rule') : defaultConfig(app);
  return { app, env: ENV, config: groups ? groupConfig(config) : config };
}

/**
 * A config whose fleets are Auto Scaling groups (fleet.kind autoScalingGroup), in the launch
 * template's subnet; blue's group, when there is one, is seeded by seedApp (seedBlueGroup).
 */
export function groupConfig(config: DeployConfigInput): DeployConfigInput {
  return { ...config, fleet: { kind: 'autoScalingGroup', subnetIds: [LAUNCH_TEMPLATE.subnetId] } };
}

/** The target tracking policy of blue's seeded group: 1,000 requests a target (ALBRequestCountPerTarget). */
export const BLUE_POLICY = 'requests-per-target';

/** What a scenario can change before the upload, and how it delivers S3 events. */
export interface ScenarioContext {
  world: World;
  /** The app/env deployed: web/prod unless a config of the user's says otherwise. */
  app: string;
  env: string;
  config: DeployConfigInput;
  /**
   * Writes an object and returns the S3 event record S3 would send for it; `options` say how it is
   * uploaded (the checksum the uploader sends, multipart), which sets the checksum S3 stores.
   */
  upload(key: string, body?: string, options?: UploadOptions): S3EventRecord;
  /** Delivers an S3 event to the starter function after `afterSeconds` of virtual time. */
  deliver(records: S3EventRecord[], afterSeconds?: number): void;
  /** Stops an execution as the console's Stop button does. */
  stop(name: string): boolean;
  /** Runs something after `seconds` of virtual time; the simulation waits for it. */
  after(seconds: number, action: () => void): void;
  /** The simulation waits for this to settle (a person's own calls, such as a redeploy). */
  track<T>(promise: Promise<T>): Promise<T>;
  /** Runs a person's request in one virtual moment (the clock waits for it, as for a task). */
  inFlight<T>(work: () => Promise<T>): Promise<T>;
}

export function releaseKey(version: string, suffix = 'zip', app = APP, env = ENV): string {
  return `releases/${app}/${env}/${version}.${suffix}`;
}

export function s3Record(
  bucket: string,
  key: string,
  object: { versionId: string; eTag: string; size: number },
  at: number,
): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: REGION,
    eventTime: new Date(at).toISOString(),
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:AIDAEXAMPLECI' },
    requestParameters: { sourceIPAddress: '203.0.113.10' },
    responseElements: { 'x-amz-request-id': 'SIMULATED', 'x-amz-id-2': 'SIMULATED' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'release-zip',
      bucket: { name: bucket, ownerIdentity: { principalId: 'A3EXAMPLE' }, arn: `arn:aws:s3:::${bucket}` },
      object: {
        key: encodeEventKey(key),
        size: object.size,
        eTag: object.eTag.replace(/"/g, ''),
        versionId: object.versionId,
        sequencer: at.toString(16).toUpperCase().padStart(18, '0'),
      },
    },
  };
}

/** Where requests to a slot's target group come from: its record, by the CloudWatch dimension of the group. */
const slotRecords = new WeakMap<World, Map<string, { record: string; slot: Slot }>>();

function recordsOf(world: World): Map<string, { record: string; slot: Slot }> {
  let records = slotRecords.get(world);
  if (!records) {
    records = new Map();
    slotRecords.set(world, records);
  }
  return records;
}

/** `targetgroup/NAME/ID` of a target group ARN: its CloudWatch dimension. */
function dimensionOf(targetGroupArn: string): string {
  return targetGroupArn.slice(targetGroupArn.indexOf(':targetgroup/') + 1);
}

/** What every simulated account has, whatever apps it holds. */
export function seedAccount(world: World): void {
  world.s3.addBucket(BUCKET);
  world.sns.topics.add(DEFAULT_TOPIC_ARN);
  world.dynamodb.addTable(APPROVALS_TABLE);
  world.dynamodb.addTable(LOCKS_TABLE);
  world.secretsmanager.secrets.set(
    SIGNING_SECRET_ID,
    'simulated-signing-key-0123456789abcdefghijklmnopqrstuvwxyz',
  );
  // Requests reach a slot's target group while its record has weight, and for a TTL after; or,
  // behind a listener, while the forward action gives it weight and for the stickiness after.
  world.cloudwatch.requests = (targetGroup, from, to) => {
    const slot = recordsOf(world).get(targetGroup);
    if (slot) return world.route53.carriedTraffic(slot.record, slot.slot, from - 60_000, to) ? 1200 : 0;
    const forwarded = [...world.elbv2.targetGroups.keys()].find((arn) => dimensionOf(arn) === targetGroup);
    return forwarded && world.elbv2.carriedTraffic(forwarded, from, to) ? 1200 : 0;
  };
}

/**
 * What an app's config names that the account must hold: its hosted zone, launch template (the
 * simulated one under the config's id or name), Image Builder infrastructure configuration,
 * alarms and topic. Each is added once, however many apps name it.
 */
function seedResourcesOf(world: World, { app, env, config }: SimApp): void {
  if (config.dns && !world.route53.zones.has(config.dns.hostedZoneId))
    world.route53.addZone(config.dns.hostedZoneId);
  const template = config.launchTemplate;
  if (!world.ec2.launchTemplates.has(template.id ?? template.name ?? '')) {
    const added = world.ec2.addLaunchTemplate({
      ...structuredClone(LAUNCH_TEMPLATE),
      id: template.id ?? LAUNCH_TEMPLATE.id,
      name: template.name ?? `${app}-${env}`,
    });
    // The version the config names exists: the template has that many (all launch as version 1).
    const named = Number(template.version);
    for (let version = 2; Number.isInteger(named) && version <= named; version++)
      added.versions.set(version, { createdAt: world.now() });
    if (Number.isInteger(named) && named > 1) added.latestVersion = named;
  }
  const infrastructure = config.bake.infrastructureConfigurationArn;
  if (!world.imagebuilder.infrastructureConfigurations.has(infrastructure)) {
    // Its instance profile reads the app/env's releases, as examples/app-stack.cfn.yml grants.
    const profile = buildProfile(app, env);
    world.imagebuilder.infrastructureConfigurations.set(infrastructure, {
      instanceProfileName: profile.name,
    });
    world.iam.addInstanceProfile({ arn: profile.arn, roleArn: profile.roleArn }, [
      {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:GetObjectVersion'],
            Resource: `arn:aws:s3:::${BUCKET}/releases/${app}/${env}/*`,
          },
        ],
      },
    ]);
  }
  // Image Builder is regional: the build runs in the Region and account of the configuration.
  const [, , , region, account] = infrastructure.split(':');
  world.imagebuilder.region = region ?? REGION;
  world.imagebuilder.account = account ?? ACCOUNT;
  for (const alarm of config.alarms ?? []) {
    if (!world.cloudwatch.alarms.has(alarm)) world.cloudwatch.addAlarm(alarm);
  }
  if (config.notifications?.topicArn) world.sns.topics.add(config.notifications.topicArn);
}

export interface AppSeed {
  app?: string;
  /** The app/env and its config (default: the built-in one of `app`). */
  own?: SimApp;
  firstDeploy: boolean;
  weights?: Record<Slot, number>;
  /** Blue's size (default 3). */
  blueCount?: number;
}

/**
 * One app's starting state, built from its config: the two slots it names (each target group
 * behind a load balancer, each with its weighted record in the config's zone), blue live in slot a
 * with healthy instances of 1.0.0 (launched by an earlier deployment, so tagged as ours), slot b
 * empty, the config's alarms OK. By default the built-in web/prod.
 */
export function seedApp(world: World, options: AppSeed): void {
  const own = options.own ?? builtInApp(options.app);
  const { app, env, config } = own;
  seedResourcesOf(world, own);
  const weightOf = (slot: Slot) =>
    options.weights?.[slot] ?? (options.firstDeploy ? 0 : slot === 'a' ? 100 : 0);
  for (const slot of SLOTS) {
    const { targetGroupArn, loadBalancer } = config.slots[slot];
    // The slots' target groups carry the service's tag (examples/): IAM lets it register only there.
    // An app that deployed before owns its slots (its first deploy claimed them); a first deploy
    // finds them as the user made them and adopts them.
    const group = world.elbv2.addTargetGroup(targetGroupArn, {
      [TAG.managedBy]: MANAGED_BY,
      [TAG.slot]: slot,
      ...(options.firstDeploy ? {} : { [TAG.app]: app, [TAG.env]: env }),
    });
    // A load balancer named like its target group, in the group's account and Region.
    const [, partition, , region, account] = targetGroupArn.split(':');
    const name = dimensionOf(targetGroupArn).split('/')[1];
    group.loadBalancerArn = `arn:${partition}:elasticloadbalancing:${region}:${account}:loadbalancer/app/${name}/50dc6c495c0c9188`;
    const { dns } = config;
    if (!dns || !loadBalancer) continue;
    recordsOf(world).set(dimensionOf(targetGroupArn), { record: dns.recordName, slot });
    world.route53.put(dns.hostedZoneId, {
      Name: dns.recordName,
      Type: dns.recordType ?? 'A',
      SetIdentifier: slot,
      Weight: weightOf(slot),
      AliasTarget: {
        HostedZoneId: loadBalancer.hostedZoneId,
        DNSName: loadBalancer.dnsName,
        EvaluateTargetHealth: dns.evaluateTargetHealth ?? true,
      },
    });
  }
  if (config.listener) seedListener(world, own, options.firstDeploy ? undefined : weightOf);
  if (options.firstDeploy) return;
  const longAgo = world.now() - 2 * 86_400_000;
  const old = { bucket: BUCKET, key: releaseKey('1.0.0', 'zip', app, env), versionId: 'v1' };
  const ami = world.ec2.addImage(`${app}-1.0.0`, {
    CreatedBy: 'EC2 Image Builder',
    Ec2ImageBuilderArn: `arn:aws:imagebuilder:${REGION}:${ACCOUNT}:image/bluegreen-${app}-${env}-0000000000/1.0.0/1`,
    [TAG.managedBy]: MANAGED_BY,
    [TAG.artifactId]: artifactId(old),
    [TAG.version]: '1.0.0',
  }).id;
  const deploymentId = executionName(app, env, '1.0.0', old);
  const fleet = {
    own,
    slot: 'a' as const,
    version: '1.0.0',
    deploymentId,
    ami,
    count: options.blueCount ?? 3,
    at: longAgo,
  };
  if (config.fleet?.kind === 'autoScalingGroup') {
    seedBlueGroup(world, fleet);
    return;
  }
  seedFleet(world, {
    own,
    slot: 'a',
    version: '1.0.0',
    deploymentId,
    ami,
    count: options.blueCount ?? 3,
    at: longAgo,
  });
}

/**
 * traffic.mode alb: the app's one load balancer in front of both target groups, and its listener
 * (the one the service's stack parameter ListenerArns names in the simulated account). Before the first deploy it
 * answers with a fixed response; after, it forwards to both target groups by weight, with target
 * group stickiness.
 */
function seedListener(
  world: World,
  { config }: SimApp,
  weightOf: ((slot: Slot) => number) | undefined,
): void {
  const listener = config.listener;
  if (!listener) return;
  const loadBalancerArn = listener.listenerArn
    .replace(':listener/', ':loadbalancer/')
    .replace(/\/[0-9a-f]{16}$/, '');
  const action = weightOf
    ? {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: SLOTS.map((slot) => ({
            TargetGroupArn: config.slots[slot].targetGroupArn,
            Weight: weightOf(slot),
          })),
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: ALB_STICKINESS_SECONDS },
        },
      }
    : {
        Type: 'fixed-response',
        FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'no release yet' },
      };
  // With a rule, the listener's own default action serves the load balancer's other names.
  const others = {
    Type: 'fixed-response',
    FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'no such host' },
  };
  world.elbv2.addListener(listener.listenerArn, loadBalancerArn, [listener.ruleArn ? others : action]);
  if (listener.ruleArn) world.elbv2.addRule(listener.listenerArn, listener.ruleArn, [action]);
  for (const slot of SLOTS) {
    const group = world.elbv2.targetGroups.get(config.slots[slot].targetGroupArn);
    if (group) group.loadBalancerArn = loadBalancerArn;
  }
}

/** Green's (slot b's) weight now, in the records or in the listener's forward action. */
function slotBWeight(world: World): number | undefined {
  const names = appNames();
  if (world.route53.zones.has(ZONE)) {
    const weight = world.route53.weights(ZONE, names.record, 'A').b;
    if (weight !== undefined) return weight;
  }
  return (
    world.elbv2.weightsOf(names.ruleArn).get(names.targetGroups.b) ??
    world.elbv2.weightsOf(names.listenerArn).get(names.targetGroups.b)
  );
}

/**
 * `count` running instances of a fleet the service launched `at` (tagged as at launch), each
 * registered in its slot's target group since then.
 */
function seedFleet(
  world: World,
  fleet: {
    own: SimApp;
    slot: Slot;
    version: string;
    deploymentId: string;
    ami: string;
    count: number;
    at: number;
  },
): SimInstance[] {
  const { app, env, config } = fleet.own;
  const group = world.elbv2.targetGroups.get(config.slots[fleet.slot].targetGroupArn);
  return Array.from({ length: fleet.count }, () => {
    const tags = {
      [TAG.managedBy]: MANAGED_BY,
      [TAG.app]: app,
      [TAG.env]: env,
      [TAG.version]: fleet.version,
      [TAG.slot]: fleet.slot,
      [TAG.deploymentId]: fleet.deploymentId,
    };
    const instance = world.ec2.seedInstance(tags, fleet.ami, fleet.at);
    group?.registrations.set(instance.id, { registeredAt: fleet.at });
    return instance;
  });
}

/**
 * Blue as an Auto Scaling group an earlier deployment made: `count` instances InService and
 * registered since `at`, tagged (and propagating) as the service tags its groups, with a target
 * tracking policy on its target group's requests.
 */
function seedBlueGroup(world: World, fleet: Parameters<typeof seedFleet>[1]): void {
  const { app, env, config } = fleet.own;
  const targetGroupArn = config.slots[fleet.slot].targetGroupArn;
  const tags = {
    ...fleetTags({ app, env, version: fleet.version, slot: fleet.slot, deploymentId: fleet.deploymentId }),
  };
  const name = greenGroupName(
    { app, env, version: fleet.version, deploymentId: fleet.deploymentId },
    fleet.slot,
  );
  // The config's launch template, as seedResourcesOf added it.
  const template = config.launchTemplate;
  const group = world.autoscaling.seedGroup({
    name,
    launchTemplate:
      template.id !== undefined ? { id: template.id } : { name: template.name ?? `${app}-${env}` },
    imageId: fleet.ami,
    count: fleet.count,
    min: Math.max(1, fleet.count - 1),
    max: fleet.count * 2,
    targetGroupArns: [targetGroupArn],
    subnets: [LAUNCH_TEMPLATE.subnetId],
    tags,
    at: fleet.at,
  });
  // As the service tags a group it makes: the launch template version it made for it.
  group.tags['bluegreen:launch-template-version'] = group.launchTemplate.version;
  const [, , , , , resource = ''] = targetGroupArn.split(':');
  const loadBalancer = world.elbv2.targetGroups
    .get(targetGroupArn)
    ?.loadBalancerArn?.split(':loadbalancer/')[1];
  world.autoscaling.PutScalingPolicy({
    AutoScalingGroupName: name,
    PolicyName: BLUE_POLICY,
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingConfiguration: {
      PredefinedMetricSpecification: {
        PredefinedMetricType: 'ALBRequestCountPerTarget',
        ResourceLabel: `${loadBalancer}/${resource}`,
      },
      TargetValue: 1000,
    },
  });
}

/** The account and one app: web/prod unless `options.own` is another. */
export function seedWorld(world: World, options: AppSeed): void {
  seedAccount(world);
  seedApp(world, options);
}

/** Uploads release `version` of the scenario's app/env; the object's body names both. */
function uploadOf(ctx: ScenarioContext, version: string, options?: UploadOptions): S3EventRecord {
  return ctx.upload(
    releaseKey(version, 'zip', ctx.app, ctx.env),
    `PK\u0003\u0004 ${ctx.app} ${version}`,
    options,
  );
}

/** Uploads release 1.1.0 (`options`: its checksum, its metadata) and delivers its event. */
export function uploadRelease(
  ctx: ScenarioContext,
  afterSeconds = 0,
  options?: UploadOptions,
): S3EventRecord {
  const record = uploadOf(ctx, '1.1.0', options);
  ctx.deliver([record], afterSeconds);
  return record;
}

/** Clients that ignore DNS keep calling blue (slot a): 40 requests a minute, whatever the weights. */
export function slowDrain(world: World): void {
  const traffic = world.cloudwatch.requests;
  world.cloudwatch.requests = (group, from, to) =>
    group.includes('web-prod-a') ? 40 : traffic(group, from, to);
}

export const greenWeightReaches = (world: World, percent: number, then: () => void) => {
  let fired = false;
  world.hooks.push({
    afterRecordsChange: () => {
      if (!fired && slotBWeight(world) === percent) {
        fired = true;
        then();
      }
    },
  });
};

/** `count` of blue's (1.0.0) instances start failing their health checks now and keep failing. */
export function blueFailsChecks(world: World, count: number): void {
  const failing = [...world.ec2.instances.values()]
    .filter((i) => i.tags[TAG.version] === '1.0.0')
    .slice(0, count)
    .map((i) => i.id);
  const at = world.now();
  const before = world.elbv2.failingFrom;
  world.elbv2.failingFrom = (instance) => (failing.includes(instance.id) ? at : before(instance));
}

export const APPROVERS = ['alice@example.com', 'bob@example.com'];

/** Approval before the first shift, unless the config asks for approval already (then as it says). */
export const approvalBeforeShift = ({ config }: ScenarioContext) => {
  config.approval ??= { before: ['traffic-shift'], approvers: APPROVERS };
};

/** An IAM role whose sessions may approve from a terminal (its path is not in a session's ARN). */
export const APPROVER_ROLE = 'arn:aws:iam::123456789012:role/approvers/DeployApprover';

/**
 * The role of the operator at the command line (its session `alice` is whom the simulated STS names
 * the caller): the operator policy is attached to it, and in approval-terminal it is an approver.
 */
export const OPERATOR_ROLE = 'arn:aws:iam::123456789012:role/operator';

/**
 * Approval before the shift, by link (Alice, Bob) or from a terminal (a session of APPROVER_ROLE,
 * or the operator running `bluegreen approve|reject` with --simulate).
 */
export const terminalApprovalBeforeShift = ({ config }: ScenarioContext) => {
  config.approval = {
    before: ['traffic-shift'],
    approvers: [...APPROVERS, APPROVER_ROLE, OPERATOR_ROLE],
  };
};

export const SPLIT_WEIGHTS = { a: 60, b: 40 };

/** Slot b runs a half-finished earlier deploy (weights a=60 b=40): 3 instances, one failing its checks. */
export function halfFinishedSlotB(world: ScenarioContext['world']): void {
  const longAgo = world.now() - 86_400_000;
  const [failing] = seedFleet(world, {
    own: builtInApp(),
    slot: 'b',
    version: '1.0.1',
    deploymentId: 'web-prod-1_0_1-0000000000',
    ami: 'ami-0000000000000abcd',
    count: 3,
    at: longAgo,
  });
  world.elbv2.failingFrom = (x) => (x.id === failing?.id ? longAgo : undefined);
}

/** The execution running now, if any. */
export function runningExecution(ctx: ScenarioContext) {
  return [...ctx.world.sfn.executions.values()].find((e) => e.status === 'RUNNING');
}

/** Runs `then` once no execution runs any more (looked at every minute of virtual time). */
export function whenNoneRuns(ctx: ScenarioContext, then: () => void): void {
  const check = () => {
    if (runningExecution(ctx)) ctx.after(60, check);
    else then();
  };
  ctx.after(60, check);
}

/** Uploads release `version` and delivers its S3 event `afterSeconds` later (now by default). */
export function uploadVersion(ctx: ScenarioContext, version: string, afterSeconds = 0): void {
  ctx.deliver([uploadOf(ctx, version)], afterSeconds);
}

/**
 * An operator deploys release `version` of web again, as the command line's redeploy does: the
 * request built by shared/operations/redeploy.ts, the execution started with StartExecution, both
 * with the operator's credentials (not a function's role). Resolves to the execution's name.
 */
export function redeployRelease(ctx: ScenarioContext, version: string, requestId: string): Promise<string> {
  return ctx.track(
    asSomeoneElse(async () => {
      const { name, input } = await redeployRequest({ bucket: BUCKET, key: releaseKey(version), requestId });
      await startExecution(ctx.world.sfn.stateMachineArn, name, input);
      return name;
    }),
  );
}

/** The 5xx alarm is OK again from now on. */
export function alarmOk(world: World): void {
  world.cloudwatch.setState(ALARM, 'OK', 'Threshold Crossed: 5xx rate 0.1 % < 1 %', world.now());
}

/** Presses Stop on the running execution, as an operator does in the console. */
export function stopRunning(ctx: ScenarioContext): void {
  const running = runningExecution(ctx);
  if (running) ctx.stop(running.name);
}

/**
 * Presses Stop on the running execution 30 s after green takes `percent` % of the traffic, right
 * after `first` (a fault injected at that moment, say).
 */
export function stopAfterGreenReaches(ctx: ScenarioContext, percent: number, first?: () => void): void {
  greenWeightReaches(ctx.world, percent, () =>
    ctx.after(30, () => {
      first?.();
      stopRunning(ctx);
    }),
  );
}

/**
 * Presses Stop `delaySeconds` after the running execution first enters `state` (a state after
 * the first weight change: watching starts there).
 */
export function stopWhenIn(ctx: ScenarioContext, state: string, delaySeconds: number): void {
  const watch = () => {
    const execution = runningExecution(ctx);
    if (!execution) return;
    if (execution.states.some((s) => s.name === state))
      ctx.after(delaySeconds, () => ctx.stop(execution.name));
    else ctx.after(1, watch);
  };
  let watching = false;
  ctx.world.hooks.push({
    afterRecordsChange: () => {
      if (watching) return;
      watching = true;
      ctx.after(0, watch);
    },
  });
}

/**
 * The largest config the schema allows, in a world where every wait runs to just short of its
 * bound: the execution that writes the most history events.
 */
export function longestAllowed({ world, config }: ScenarioContext): void {
  config.bake.timeoutMinutes = 240;
  config.bake.pollSeconds = 60;
  // Events lost: every wait runs on its fallback polls, the longest way.
  world.events.lostSources.add('aws.imagebuilder');
  config.health = { timeoutSeconds: 3600, pollSeconds: 5 };
  config.traffic = {
    steps: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    stepWaitSeconds: 3600,
    // A split to heal first: the longest way to the bake.
    healSplit: true,
  };
  halfFinishedSlotB(world);
  config.termination = { waitSeconds: 172_800, checkIntervalSeconds: 60 };
  config.approval = {
    before: ['traffic-shift', 'blue-termination'],
    approvers: APPROVERS,
    timeoutSeconds: 604_800,
  };
  world.imagebuilder.buildMinutes = 239;
  world.ec2.bootSeconds = 3400;
  world.route53.propagationSeconds = 170;
  for (const group of world.elbv2.targetGroups.values()) group.deregistrationDelaySeconds = 3600;
  world.cloudwatch.requests = () => 5;
}

/** Green takes 100 %, then blue's instances all die (outside the service), then the alarm fires. */
export function blueDiesThenAlarm({ world }: ScenarioContext): void {
  greenWeightReaches(world, 100, () => {
    for (const instance of world.ec2.instances.values()) {
      if (instance.tags[TAG.version] === '1.0.0') instance.diedAt = world.now() + 60_000;
    }
    world.cloudwatch.setState(
      ALARM,
      'ALARM',
      'Threshold Crossed: 5xx rate 2.2 % > 1 %',
      world.now() + 10 * 60_000,
    );
  });
}

/** The most instances a config may ask for (config.instanceCount). */
export const LARGEST_FLEET = 1000;

/**
 * The largest config the schema allows, every list at its longest and every free string at its
 * longest: 100 alarm names of 255 characters, 20 approvers of 254, 10 steps, a 4,096-character
 * install command; a split healed first, 1,000 instances each side, two approvals. (The names that
 * must match the account's resources, such as the record and the target groups, stay as they are.)
 * The state of its execution must not grow with any of it.
 */
export function largestConfig({ world, config }: ScenarioContext): void {
  const alarms = Array.from({ length: 100 }, (_, i) => `web-prod-${i}-`.padEnd(255, 'x'));
  for (const alarm of alarms) world.cloudwatch.addAlarm(alarm);
  config.alarms = alarms;
  config.approval = {
    before: ['traffic-shift', 'blue-termination'],
    approvers: Array.from({ length: 20 }, (_, i) => {
      const domain = `${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(50)}.test`;
      return `${`approver${i}.`.padEnd(254 - 1 - domain.length, 'a')}@${domain}`;
    }),
    timeoutSeconds: 604_800,
  };
  config.bake = {
    ...config.bake,
    installCommand: `./install.sh ${'--flag '.repeat(600)}`.padEnd(4096, 'x').slice(0, 4096),
    installDirectory: `/${'o'.repeat(255)}`,
  };
  config.instanceCount = LARGEST_FLEET;
  config.traffic = { steps: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100], stepWaitSeconds: 60, healSplit: true };
  config.termination = { waitSeconds: 600 };
  halfFinishedSlotB(world);
}

/** The 5xx alarm goes into ALARM that many minutes after the upload, and stays there. */
export function alarmFiringAfter(minutes: number): (ctx: ScenarioContext) => void {
  return ({ world }) =>
    world.cloudwatch.setState(
      ALARM,
      'ALARM',
      'Threshold Crossed: 5xx rate 3.1 % > 1 %',
      world.now() + minutes * 60_000,
    );
}

/** The 5xx alarm goes into ALARM `seconds` after green takes `percent` % of the traffic, and stays there. */
export function alarmAfterGreenReaches(
  world: World,
  percent: number,
  seconds: number,
  reason = 'Threshold Crossed: 5xx rate 3.1 % > 1 %',
): void {
  greenWeightReaches(world, percent, () =>
    world.cloudwatch.setState(ALARM, 'ALARM', reason, world.now() + seconds * 1000),
  );
}

/** The lock item of web/prod is gone (deleted by hand, or a table restored from a backup). */
export function loseLockItem(world: World, app = APP): void {
  world.dynamodb.tables.get(LOCKS_TABLE)?.delete(lockId(app, ENV));
}
