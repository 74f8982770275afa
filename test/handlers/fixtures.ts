import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  type S3ClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import type { Context, S3EventRecord } from 'aws-lambda';
import type { AwsStub } from 'aws-sdk-client-mock';
import { type DeployConfig, type SlotConfig, validateConfig } from '#shared/domain/config.ts';
import { greenGroupName } from '#shared/domain/groups.ts';
import { executionName } from '#shared/domain/identity.ts';
import { buildPlan } from '#shared/domain/plan.ts';
import { MANAGED_BY, TAG } from '#shared/domain/tags.ts';
import type { Slot } from '#shared/domain/traffic.ts';
import type {
  DeploymentState,
  GreenFleet,
  GroupPlan,
  PinnedDeployment,
  Plan,
  RecordsPlan,
  ShiftState,
} from '#shared/domain/workflow.ts';
import example from '../../examples/web-prod.config.json' with { type: 'json' };

// Realistic values shared by the handler tests: web/prod releasing 1.1.0 while 1.0.0 serves
// all traffic from slot a (three instances), with the example config of the repo.

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const BUCKET = `bluegreen-ec2-sim-releases-${ACCOUNT}`;
export const KEY = 'releases/web/prod/1.1.0.zip';
export const VERSION_ID = '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY';
export const ETAG = 'd41d8cd98f00b204e9800998ecf8427e';
export const SIZE = 48_213_504;
export const STATE_MACHINE_ARN = process.env.STATE_MACHINE_ARN ?? '';
export const TOPIC_ARN = process.env.NOTIFICATION_TOPIC_ARN ?? '';
export const CONFIG_KEY = 'config/web/prod.json';
/** The S3 version of the config object Plan read; the tasks read that version again. */
export const CONFIG_VERSION_ID = 'c0nF1gVersi0n.7dKq2LmNoPqRsTuVwXy';

export const exampleConfigText = JSON.stringify(example);

/** A config in traffic.mode route53, as the example is: its records and both load balancers are there. */
export type RecordsConfig = DeployConfig & {
  dns: NonNullable<DeployConfig['dns']>;
  slots: Record<Slot, SlotConfig & { loadBalancer: NonNullable<SlotConfig['loadBalancer']> }>;
};

export function exampleConfig(): RecordsConfig {
  const parsed = validateConfig(example);
  if (!parsed.ok) throw new Error(`examples/web-prod.config.json is invalid: ${parsed.problems.join('; ')}`);
  const { config } = parsed;
  if (!config.dns || !config.slots.a.loadBalancer || !config.slots.b.loadBalancer)
    throw new Error('examples/web-prod.config.json is not in traffic.mode route53');
  return config as RecordsConfig;
}

export const config = exampleConfig();
export const TARGET_GROUP: Record<Slot, string> = {
  a: config.slots.a.targetGroupArn,
  b: config.slots.b.targetGroupArn,
};
export const ZONE_ID = config.dns.hostedZoneId;
export const RECORD_NAME = 'web.example.com.';

export const artifact = { bucket: BUCKET, key: KEY, versionId: VERSION_ID, eTag: ETAG, size: SIZE };
export const DEPLOYMENT_ID = executionName('web', 'prod', '1.1.0', artifact);
/** The deployment that launched the blue fleet now serving traffic. */
export const BLUE_DEPLOYMENT_ID = executionName('web', 'prod', '1.0.0', {
  bucket: BUCKET,
  key: 'releases/web/prod/1.0.0.zip',
  versionId: 'Fq9bUDsTrgbXUMkkG3bU0A8ttx1rcSYa',
});

export const deployment: PinnedDeployment = {
  deploymentId: DEPLOYMENT_ID,
  app: 'web',
  env: 'prod',
  version: '1.1.0',
  format: 'zip',
  artifact,
};

/** The plan of this deployment: blue is slot a with three targets, green is slot b. */
export function planFor(
  weights: { a: number | null; b: number | null } = { a: 100, b: 0 },
  blueTargetCount = 3,
): Plan & { dns: RecordsPlan } {
  const plan = buildPlan({
    deployment,
    config,
    configVersionId: CONFIG_VERSION_ID,
    weights,
    blueTargetCount,
    defaultTopicArn: TOPIC_ARN,
    now: new Date('2026-03-02T09:00:00Z'),
  });
  if (!plan.dns) throw new Error('the example config plans no weighted records');
  return plan as Plan & { dns: RecordsPlan };
}

/** DescribeTargetHealth's answer for targets on port 80, each `[id, state, reason?]`. */
export function targetHealth(states: [string, string, string?][]) {
  return {
    TargetHealthDescriptions: states.map(([Id, State, Reason]) => ({
      Target: { Id, Port: 80 },
      TargetHealth: {
        State: State as 'healthy',
        ...(Reason ? { Reason: Reason as 'Target.NotRegistered' } : {}),
      },
    })),
  };
}

/** A split web/prod's records were left in by an earlier deploy. */
export const SPLIT = { a: 60, b: 40 };

/** The plan of a deploy that found the records split a=60 b=40 with traffic.healSplit on: heal toward a. */
export function healingPlan(): Plan {
  return buildPlan({
    configVersionId: 'v-config',
    deployment,
    config: { ...config, traffic: { ...config.traffic, healSplit: true } },
    weights: SPLIT,
    blueTargetCount: 0,
    defaultTopicArn: TOPIC_ARN,
    now: new Date('2026-03-02T09:00:00Z'),
    slotHealth: { a: { healthy: 3, registered: 3 }, b: { healthy: 1, registered: 2 } },
  });
}

export const AMI_ID = 'ami-0f3c9a1d2b4e5f607';
export const BLUE_IDS = ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002', 'i-0a1b2c3d4e5f60003'];
export const GREEN_IDS = ['i-0c9d8e7f6a5b40001', 'i-0c9d8e7f6a5b40002', 'i-0c9d8e7f6a5b40003'];
export const [BLUE_1 = '', BLUE_2 = '', BLUE_3 = ''] = BLUE_IDS;
export const [GREEN_1 = '', GREEN_2 = '', GREEN_3 = ''] = GREEN_IDS;

export const greenFleet: GreenFleet = {
  slot: 'b',
  amiId: AMI_ID,
  launched: GREEN_IDS.length,
  launchedAt: '2026-03-02T09:24:10.000Z',
};

/** A weight change Route 53 reported INSYNC on the second poll, as the state carries it. */
export function syncedChange(submittedAt: string) {
  return { changeId: 'C1', status: 'INSYNC' as const, polls: 2, maxPolls: 18, pollSeconds: 10, submittedAt };
}

/** What shift-traffic returned for the first of the example config's steps, 10 % on green, its change `dns`. */
export function firstShiftStep(dns: ShiftState['dns']): ShiftState {
  return { index: 0, percent: 10, weights: { a: 90, b: 10 }, isLast: false, settleSeconds: 300, dns };
}

/** The execution state as the state machine carries it, with whatever the earlier tasks wrote. */
export function stateWith(extra: Partial<DeploymentState> = {}): DeploymentState {
  return { ...deployment, plan: planFor(), ...extra };
}

/** A minimal Lambda context; the handlers only log it. */
export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: `bluegreen-ec2-prod-${functionName}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:bluegreen-ec2-prod-${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    logGroupName: `/aws/lambda/bluegreen-ec2-prod-${functionName}`,
    logStreamName: '2026/03/02/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => 30_000,
  } as Context;
}

/** Both weighted records as ListResourceRecordSets returns them, plus a neighbour it also lists. */
export function weightedRecords(weights: Record<Slot, number>) {
  return {
    ResourceRecordSets: (['a', 'b'] as const).flatMap((slot) => [
      {
        Name: RECORD_NAME,
        Type: 'A' as const,
        SetIdentifier: slot,
        Weight: weights[slot],
        AliasTarget: {
          HostedZoneId: config.slots[slot].loadBalancer.hostedZoneId,
          DNSName: `${config.slots[slot].loadBalancer.dnsName}.`,
          EvaluateTargetHealth: true,
        },
      },
    ]),
    IsTruncated: false,
    MaxItems: 100,
  };
}

/** An SDK-style error, as the AWS SDK throws it after its own retries. */
export function awsError(name: string, message: string, httpStatusCode: number): Error {
  const $fault = httpStatusCode >= 500 ? 'server' : 'client';
  return Object.assign(new Error(message), { name, $fault, $metadata: { httpStatusCode } });
}

export function fleetInstanceTags(slot: Slot, version: string, deploymentId: string) {
  return [
    { Key: TAG.managedBy, Value: MANAGED_BY },
    { Key: TAG.app, Value: 'web' },
    { Key: TAG.env, Value: 'prod' },
    { Key: TAG.version, Value: version },
    { Key: TAG.slot, Value: slot },
    { Key: TAG.deploymentId, Value: deploymentId },
    { Key: 'Name', Value: `web-prod-${slot}-${version}` },
  ];
}

/** A DescribeInstances page holding running instances with the given tags. */
export function reservation(ids: string[], tags: { Key: string; Value: string }[]) {
  return {
    Reservations: [
      {
        ReservationId: 'r-0123456789abcdef0',
        Instances: ids.map((InstanceId) => ({
          InstanceId,
          State: { Code: 16, Name: 'running' as const },
          Tags: tags,
        })),
      },
    ],
  };
}

/** DescribeInstances finding this deployment's green fleet: slot b, 1.1.0, running. */
export function greenInstances() {
  return reservation(GREEN_IDS, fleetInstanceTags('b', '1.1.0', DEPLOYMENT_ID));
}

/** DescribeInstances finding the blue fleet serving traffic: slot a, 1.0.0, running. */
export function blueInstances() {
  return reservation(BLUE_IDS, fleetInstanceTags('a', '1.0.0', BLUE_DEPLOYMENT_ID));
}

export function healthy(ids: string[]) {
  return {
    TargetHealthDescriptions: ids.map((Id) => ({
      Target: { Id, Port: 80 },
      HealthCheckPort: '80',
      TargetHealth: { State: 'healthy' as const },
    })),
  };
}

export const LOAD_BALANCER_A =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web-prod-a/50dc6c495c0c9188';

/** DescribeTargetGroups for blue's target group (slot a) behind its ALB. */
export function blueTargetGroup() {
  return {
    TargetGroups: [
      {
        TargetGroupArn: TARGET_GROUP.a,
        TargetGroupName: 'web-prod-a',
        Protocol: 'HTTP' as const,
        Port: 80,
        TargetType: 'instance' as const,
        LoadBalancerArns: [LOAD_BALANCER_A],
      },
    ],
  };
}

/** GetMetricData for the target group's RequestCount, newest minute first, ending at `now`. */
export function requestCounts(requestsPerMinute: number[], now: Date) {
  return {
    MetricDataResults: [
      {
        Id: 'requests',
        Label: 'RequestCount',
        Timestamps: requestsPerMinute.map((_, i) => new Date(now.getTime() - (i + 1) * 60_000)),
        Values: requestsPerMinute,
        StatusCode: 'Complete' as const,
      },
    ],
  };
}

/** The GetMetricData input that reads blue's RequestCount (slot a) per minute, from `start` to `end`. */
export function blueRequestCountQuery(start: Date, end: Date) {
  const Dimensions = [
    { Name: 'TargetGroup', Value: 'targetgroup/web-prod-a/0123456789abcdef' },
    { Name: 'LoadBalancer', Value: 'app/web-prod-a/50dc6c495c0c9188' },
  ];
  const Metric = { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount', Dimensions };
  return {
    StartTime: start,
    EndTime: end,
    MetricDataQueries: [{ Id: 'requests', MetricStat: { Metric, Period: 60, Stat: 'Sum' } }],
  };
}

/** An S3 "object created" record, its key encoded the way S3 encodes it in notifications. */
export function s3Record(
  key: string,
  object: { versionId?: string; eTag?: string; size?: number } = {},
): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2026-03-02T09:00:00.000Z',
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:AIDAEXAMPLECI' },
    requestParameters: { sourceIPAddress: '203.0.113.10' },
    responseElements: {
      'x-amz-request-id': 'C3D13FE58DE4C810',
      'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'release-zip',
      bucket: {
        name: BUCKET,
        ownerIdentity: { principalId: 'A3NL1KOZZKExample' },
        arn: `arn:aws:s3:::${BUCKET}`,
      },
      object: {
        key,
        size: object.size ?? SIZE,
        eTag: object.eTag ?? ETAG,
        versionId: object.versionId ?? VERSION_ID,
        sequencer: '0055AED6DCD90281E5',
      },
    },
  };
}

/** DescribeAlarms as CloudWatch answers it: every alarm asked for, OK unless named in `alarming`. */
export function alarmStates(alarming: string[] = []) {
  return (input: { AlarmNames?: string[] }) => ({
    MetricAlarms: (input.AlarmNames ?? []).map((AlarmName) =>
      alarming.includes(AlarmName)
        ? { AlarmName, StateValue: 'ALARM' as const, StateReason: 'Threshold Crossed' }
        : { AlarmName, StateValue: 'OK' as const },
    ),
    CompositeAlarms: [],
  });
}

/**
 * DescribeTags of the slots' target groups as the service leaves them: web/prod's, each claimed by
 * `claimedBy` (this deployment unless said otherwise).
 */
export function slotTags(
  claimedBy: { deploymentId: string; version: string } | null = {
    deploymentId: DEPLOYMENT_ID,
    version: '1.1.0',
  },
) {
  return (input: { ResourceArns?: string[] }) => ({
    TagDescriptions: (input.ResourceArns ?? []).map((arn) => ({
      ResourceArn: arn,
      Tags: [
        { Key: TAG.managedBy, Value: MANAGED_BY },
        { Key: TAG.app, Value: 'web' },
        { Key: TAG.env, Value: 'prod' },
        { Key: TAG.slot, Value: arn === TARGET_GROUP.a ? 'a' : 'b' },
        ...(claimedBy
          ? [
              { Key: TAG.deploymentId, Value: claimedBy.deploymentId },
              { Key: TAG.version, Value: claimedBy.version },
              {
                Key: TAG.execution,
                Value: `arn:aws:states:${REGION}:${ACCOUNT}:execution:bluegreen-ec2-prod-deploy:${claimedBy.deploymentId}`,
              },
            ]
          : []),
      ],
    })),
  });
}

/** A GetObject body, as the SDK returns it. */
export function objectBody(text: string): NonNullable<GetObjectCommandOutput['Body']> {
  return { transformToString: async () => text } as NonNullable<GetObjectCommandOutput['Body']>;
}

/**
 * The config Plan pinned, as S3 answers a GetObject of its version: the tasks that need the alarm
 * names, approvers or install command read it (the state does not carry them).
 */
export function mockPinnedConfig(
  s3: AwsStub<ServiceInputTypes, ServiceOutputTypes, S3ClientResolvedConfig>,
  text = exampleConfigText,
): void {
  s3.on(GetObjectCommand, { Bucket: BUCKET, Key: CONFIG_KEY, VersionId: CONFIG_VERSION_ID }).resolves({
    Body: objectBody(text),
    VersionId: CONFIG_VERSION_ID,
  });
}

// fleet.kind autoScalingGroup: blue is the group an earlier deployment made in slot a (three
// instances, two to six), green the group this deployment makes in slot b.

/** The example config with fleet.kind autoScalingGroup and no subnets of its own (blue's are copied). */
export const groupConfigText = JSON.stringify({ ...example, fleet: { kind: 'autoScalingGroup' } });

export const LAUNCH_TEMPLATE_ID = 'lt-0a1b2c3d4e5f60718';
export const SUBNETS = 'subnet-0a1b2c3d4e5f60718,subnet-0b1c2d3e4f5a60719';
/** Blue's group, made by the deployment of 1.0.0. */
export const BLUE_GROUP = greenGroupName(
  { ...deployment, version: '1.0.0', deploymentId: BLUE_DEPLOYMENT_ID },
  'a',
);
/** Green's group, made by this deployment. */
export const GREEN_GROUP = greenGroupName(deployment, 'b');

/** The tags of a group the service made for `slot` in deployment `deploymentId` of `version`. */
export function groupTags(slot: Slot, version: string, deploymentId: string, launchTemplateVersion = 7) {
  return [
    ...fleetInstanceTags(slot, version, deploymentId),
    { Key: 'bluegreen:launch-template-version', Value: String(launchTemplateVersion) },
  ];
}

/** A group as DescribeAutoScalingGroups lists it; its members are InService and Healthy unless said. */
export function autoScalingGroup(args: {
  name: string;
  targetGroupArn: string;
  tags: { Key: string; Value: string }[];
  members?: (string | { id: string; lifecycleState: string; healthStatus?: string })[];
  desired?: number;
  min?: number;
  max?: number;
  deleting?: boolean;
  launchTemplateVersion?: string;
  /** Processes suspended on the group. */
  suspended?: string[];
}): AutoScalingGroup {
  const members = (args.members ?? []).map((m) =>
    typeof m === 'string' ? { id: m, lifecycleState: 'InService', healthStatus: 'Healthy' } : m,
  );
  return {
    AutoScalingGroupName: args.name,
    AutoScalingGroupARN: `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0:autoScalingGroupName/${args.name}`,
    LaunchTemplate: {
      LaunchTemplateId: LAUNCH_TEMPLATE_ID,
      LaunchTemplateName: 'web-prod',
      Version: args.launchTemplateVersion ?? '7',
    },
    MinSize: args.min ?? 2,
    MaxSize: args.max ?? 6,
    DesiredCapacity: args.desired ?? 3,
    DefaultCooldown: 300,
    AvailabilityZones: ['us-east-1a', 'us-east-1b'],
    TargetGroupARNs: [args.targetGroupArn],
    HealthCheckType: 'ELB',
    HealthCheckGracePeriod: 240,
    VPCZoneIdentifier: SUBNETS,
    Instances: members.map((m) => ({
      InstanceId: m.id,
      AvailabilityZone: 'us-east-1a',
      LifecycleState: m.lifecycleState as 'InService',
      HealthStatus: m.healthStatus ?? 'Healthy',
      ProtectedFromScaleIn: false,
    })),
    CreatedTime: new Date('2026-02-20T10:00:00Z'),
    Tags: args.tags.map((t) => ({
      ...t,
      ResourceId: args.name,
      ResourceType: 'auto-scaling-group',
      PropagateAtLaunch: true,
    })),
    SuspendedProcesses: (args.suspended ?? []).map((ProcessName) => ({
      ProcessName,
      SuspensionReason: 'User suspended at 2026-02-21T08:00:00Z',
    })),
    ...(args.deleting ? { Status: 'Delete in progress' } : {}),
  };
}

/** Blue's group: the service's, in slot a, attached to its target group, with blue's instances. */
export function blueGroup(extra: Partial<Parameters<typeof autoScalingGroup>[0]> = {}): AutoScalingGroup {
  return autoScalingGroup({
    name: BLUE_GROUP,
    targetGroupArn: TARGET_GROUP.a,
    tags: groupTags('a', '1.0.0', BLUE_DEPLOYMENT_ID, 6),
    members: BLUE_IDS,
    launchTemplateVersion: '6',
    ...extra,
  });
}

/** Green's group: this deployment's, in slot b, attached to its target group. */
export function greenGroup(extra: Partial<Parameters<typeof autoScalingGroup>[0]> = {}): AutoScalingGroup {
  return autoScalingGroup({
    name: GREEN_GROUP,
    targetGroupArn: TARGET_GROUP.b,
    tags: groupTags('b', '1.1.0', DEPLOYMENT_ID),
    members: GREEN_IDS,
    ...extra,
  });
}

/** The group plan Plan makes from blue's group: green sized, bounded and placed like it. */
export const groupPlan: GroupPlan = {
  name: GREEN_GROUP,
  desired: 3,
  min: 2,
  max: 6,
  subnets: SUBNETS,
  gracePeriodSeconds: 240,
  blue: BLUE_GROUP,
};

/** The execution state of a group fleet: the plan with its groups, and whatever earlier tasks wrote. */
export function groupStateWith(
  extra: Partial<DeploymentState> = {},
  group: GroupPlan = groupPlan,
): DeploymentState {
  return { ...deployment, plan: { ...planFor(), group, instanceCount: group.desired }, ...extra };
}
