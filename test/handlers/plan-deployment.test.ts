import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  NoSuchKey,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { handler } from '../../functions/plan-deployment.ts';
import { expectFailure } from '../support/failures.ts';
import { mockAws } from './aws-mocks.ts';
import {
  autoScalingGroup,
  BLUE_GROUP,
  BLUE_IDS,
  BUCKET,
  blueGroup,
  CONFIG_KEY,
  CONFIG_VERSION_ID,
  deployment,
  exampleConfigText,
  fleetInstanceTags,
  GREEN_GROUP,
  GREEN_IDS,
  groupConfigText,
  groupPlan,
  groupTags,
  healthy,
  KEY,
  lambdaContext,
  planFor,
  RECORD_NAME,
  reservation,
  SUBNETS,
  TARGET_GROUP,
  TOPIC_ARN,
  VERSION_ID,
  weightedRecords,
  ZONE_ID,
} from './fixtures.ts';

const { autoscalingMock, cloudwatchMock, ec2Mock, elbv2Mock, route53Mock, s3Mock } = mockAws({
  slotsOurs: true,
});

const context = lambdaContext('planDeployment');

/** A GetObject body: the SDK's stream mixin, reduced to what the code reads. */
function body(text: string): NonNullable<GetObjectCommandOutput['Body']> {
  return { transformToString: async () => text } as NonNullable<GetObjectCommandOutput['Body']>;
}

function alarm(name: string) {
  return {
    AlarmName: name,
    StateValue: 'OK' as const,
    StateReason: 'Threshold Crossed: no datapoints were received',
  };
}

/** The account as it is before a normal release: config uploaded, alarms OK, blue live in slot a. */
function liveAccount(configText = exampleConfigText) {
  s3Mock
    .on(HeadObjectCommand)
    .resolves({ VersionId: VERSION_ID, ETag: '"d41d8cd98f00b204e9800998ecf8427e"' });
  s3Mock
    .on(GetObjectCommand, { Bucket: BUCKET, Key: CONFIG_KEY })
    .resolves({ Body: body(configText), VersionId: CONFIG_VERSION_ID });
  s3Mock.on(ListObjectVersionsCommand).resolves({
    Versions: [
      { Key: KEY, VersionId: VERSION_ID, IsLatest: true },
      // A longer key under the same prefix is another release.
      { Key: `${KEY}.bak`, VersionId: 'other-key-version', IsLatest: true },
    ],
  });
  cloudwatchMock
    .on(DescribeAlarmsCommand)
    .resolves({ MetricAlarms: [alarm('web-prod-5xx'), alarm('web-prod-latency-p99')], CompositeAlarms: [] });
  route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
  elbv2Mock
    .on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b })
    .resolves({ TargetHealthDescriptions: [] });
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(healthy(BLUE_IDS));
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
}

describe('plan-deployment', () => {
  it('plans green in the idle slot, sized like the targets registered in blue, in 10/50/100 steps', async () => {
    // Prepare
    liveAccount();

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan).toMatchObject({
      deploymentId: deployment.deploymentId,
      config: { bucket: BUCKET, key: CONFIG_KEY, versionId: CONFIG_VERSION_ID },
      blue: 'a',
      green: 'b',
      blueTargetCount: 3,
      instanceCount: 3,
      // The names are read from the pinned config; the plan carries how many.
      alarmCount: 2,
      topicArn: TOPIC_ARN,
    });
    expect(plan.steps.map((s) => s.percent)).toEqual([10, 50, 100]);
    const reads = route53Mock.commandCalls(ListResourceRecordSetsCommand);
    expect(reads).toHaveLength(1);
    expect(reads[0]?.args[0].input).toMatchObject({
      HostedZoneId: ZONE_ID,
      StartRecordName: RECORD_NAME,
      StartRecordType: 'A',
    });
    const healthReads = elbv2Mock.commandCalls(DescribeTargetHealthCommand).map((c) => c.args[0].input);
    expect(healthReads).toEqual([{ TargetGroupArn: TARGET_GROUP.b }, { TargetGroupArn: TARGET_GROUP.a }]);
  });

  it("carries the release's uploader, commit and change note (one line, bounded) and blue's version", async () => {
    // Prepare: the artifact's metadata as S3 gives it (keys lower-cased, no x-amz-meta-).
    liveAccount();
    s3Mock.on(HeadObjectCommand).resolves({
      VersionId: VERSION_ID,
      ETag: '"d41d8cd98f00b204e9800998ecf8427e"',
      Metadata: { commit: '3f9c2ab', changes: `Retry once.\nApproved by ops <b>${'!'.repeat(600)}</b>` },
    });
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(reservation(BLUE_IDS, fleetInstanceTags('a', '1.0.0', 'web-prod-1_0_0-0000000000')));

    // Act
    const plan = await handler({ ...deployment, uploadedBy: 'AWS:AIDAEXAMPLECI' }, context);

    // Assess
    expect(plan.blueVersion).toBe('1.0.0');
    expect(plan.release?.uploadedBy).toBe('AWS:AIDAEXAMPLECI');
    expect(plan.release?.commit).toBe('3f9c2ab');
    expect(plan.release?.changes).toMatch(/^Retry once\.\\u000aApproved by ops <b>!+…$/);
    expect(Array.from(plan.release?.changes ?? '')).toHaveLength(500);
    // Blue's instances are described by the ids registered in its target group.
    expect(ec2Mock.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.Filters)).toEqual([
      [{ Name: 'instance-id', Values: BLUE_IDS }],
    ]);
  });

  it("leaves blue's version out when its instances disagree, and the release out when nothing says", async () => {
    // Prepare
    liveAccount();
    const mixed = reservation(BLUE_IDS, fleetInstanceTags('a', '1.0.0', 'web-prod-1_0_0-0000000000'));
    const [first] = mixed.Reservations[0]?.Instances ?? [];
    if (first) first.Tags = fleetInstanceTags('a', '0.9.0', 'web-prod-0_9_0-0000000000');
    ec2Mock.on(DescribeInstancesCommand).resolves(mixed);

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan).not.toHaveProperty('blueVersion');
    expect(plan).not.toHaveProperty('release');
  });

  it('plans to heal a split toward the healthier slot, reading each target group once', async () => {
    // Prepare
    const config = JSON.parse(exampleConfigText);
    liveAccount(JSON.stringify({ ...config, traffic: { ...config.traffic, healSplit: true } }));
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 60, b: 40 }));
    elbv2Mock
      .on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b })
      .resolves(healthy(['i-0deadbeef00000001']));

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan).toMatchObject({ blue: 'a', green: 'b', blueTargetCount: 3, instanceCount: 3 });
    expect(plan.heal).toBeDefined();
    const healthReads = elbv2Mock.commandCalls(DescribeTargetHealthCommand).map((c) => c.args[0].input);
    expect(healthReads).toHaveLength(2);
    expect(healthReads).toEqual(
      expect.arrayContaining([{ TargetGroupArn: TARGET_GROUP.a }, { TargetGroupArn: TARGET_GROUP.b }]),
    );
  });

  it('does not count blue targets that are draining when sizing green', async () => {
    // Prepare
    liveAccount();
    const [first = '', second = '', third = ''] = BLUE_IDS;
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: first, Port: 80 }, TargetHealth: { State: 'healthy' } },
        { Target: { Id: second, Port: 80 }, TargetHealth: { State: 'unhealthy', Reason: 'Target.Timeout' } },
        {
          Target: { Id: third, Port: 80 },
          TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress' },
        },
      ],
    });

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan).toMatchObject({ blueTargetCount: 2, instanceCount: 2 });
  });

  it('reads the artifact and its config from the bucket the release was uploaded to', async () => {
    // Prepare
    liveAccount();

    // Act
    await handler(deployment, context);

    // Assess
    expect(s3Mock.commandCalls(HeadObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: KEY,
      ChecksumMode: 'ENABLED',
    });
    expect(s3Mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: CONFIG_KEY,
    });
    expect(cloudwatchMock.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toMatchObject({
      AlarmNames: ['web-prod-5xx', 'web-prod-latency-p99'],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
  });

  it('fails with InvalidConfig naming config/web/prod.json when the app has no config yet', async () => {
    // Prepare
    liveAccount();
    s3Mock
      .on(GetObjectCommand)
      .rejects(
        new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }),
      );

    // Act
    const run = handler(deployment, context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'InvalidConfig',
      message: expect.stringContaining(`s3://${BUCKET}/config/web/prod.json not found`),
    });
    expect(route53Mock.calls()).toHaveLength(0);
    expect(elbv2Mock.calls()).toHaveLength(0);
  });

  it('fails with InvalidConfig naming each broken field of the config', async () => {
    // Prepare
    const broken = JSON.parse(exampleConfigText);
    broken.slots.b.targetGroupArn = 'web-prod-b';
    broken.traffic.steps = [10, 50];
    liveAccount(JSON.stringify(broken));

    // Act
    const run = handler(deployment, context);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'InvalidConfig' });
    await expect(run).rejects.toThrow(
      /^config\/web\/prod\.json: .*slots\.b\.targetGroupArn: must be a target group ARN/,
    );
    await expect(run).rejects.toThrow(/traffic\.steps: the last step must be 100/);
    expect(route53Mock.calls()).toHaveLength(0);
  });

  it('fails with InvalidConfig when the config file is not JSON', async () => {
    // Prepare
    liveAccount('{ "slots": { "a": ');

    // Act
    const run = handler(deployment, context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'InvalidConfig',
      message: expect.stringMatching(/^config\/web\/prod\.json: \(file\): not valid JSON/),
    });
  });

  it('refuses with UnsafeToDeploy, showing the weights, when both slots carry traffic', async () => {
    // Prepare
    liveAccount();
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 90, b: 10 }));

    // Act
    const run = handler(deployment, context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      message: expect.stringContaining('both slots carry traffic (a=90 b=10)'),
    });
    // Only who owns the slots was read (their tags), none of their targets.
    expect(elbv2Mock.commandCalls(DescribeTargetHealthCommand)).toHaveLength(0);
  });

  it('refuses with UnsafeToDeploy when the artifact was overwritten after the upload event', async () => {
    // Prepare
    liveAccount();
    s3Mock.on(HeadObjectCommand).resolves({ VersionId: 'Xn4T0Bkhd2fMf.5Uq1lqNQ2TD5gEzGj4' });

    // Act
    const run = handler(deployment, context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      message: expect.stringContaining(
        `was overwritten since this upload (version ${VERSION_ID}, now Xn4T0Bkhd2fMf.5Uq1lqNQ2TD5gEzGj4)`,
      ),
    });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('refuses with UnsafeToDeploy when the release key held another object before this one', async () => {
    // Prepare
    liveAccount();
    s3Mock.on(ListObjectVersionsCommand).resolves({
      Versions: [
        { Key: KEY, VersionId: VERSION_ID, IsLatest: true, LastModified: new Date('2026-03-02T09:05:00Z') },
        {
          Key: KEY,
          VersionId: 'first-build',
          IsLatest: false,
          LastModified: new Date('2026-03-02T09:00:00Z'),
        },
      ],
    });

    // Act
    const run = handler(deployment, context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      message: expect.stringContaining(
        `release key s3://${BUCKET}/${KEY} was written before (version first-build, 2026-03-02T09:00:00.000Z); release keys are immutable`,
      ),
    });
    expect(s3Mock.commandCalls(ListObjectVersionsCommand)[0]?.args[0].input).toMatchObject({
      Bucket: BUCKET,
      Prefix: KEY,
    });
    expect(route53Mock.calls()).toHaveLength(0);
  });

  it('refuses with UnsafeToDeploy when an artifact on an unversioned bucket was overwritten (ETag differs)', async () => {
    // Prepare
    liveAccount();
    s3Mock.on(HeadObjectCommand).resolves({ ETag: '"0cc175b9c0f1b6a831c399e269772661"' });
    const unversioned = {
      ...deployment,
      artifact: { ...deployment.artifact, versionId: undefined, eTag: 'd41d8cd98f00b204e9800998ecf8427e' },
    };

    // Act
    const run = handler(JSON.parse(JSON.stringify(unversioned)), context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      message: expect.stringContaining('now 0cc175b9c0f1b6a831c399e269772661'),
    });
  });

  it("pins the bake to the event's S3 version id", async () => {
    // Prepare
    liveAccount();

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan.artifactVersionId).toBe(VERSION_ID);
  });

  it('pins an execution started by hand without a version id to the version under the key now', async () => {
    // Prepare: a person started it with bucket and key only; S3 has the object in version VERSION_ID.
    liveAccount();
    const byHand = { ...deployment, artifact: { bucket: BUCKET, key: deployment.artifact.key } };

    // Act
    const plan = await handler(byHand, context);

    // Assess: the bake downloads that version, and the AMI is found by it like an S3-started one.
    expect(plan.artifactVersionId).toBe(VERSION_ID);
    expect(plan.artifactId).toBe(planFor().artifactId);
  });

  it('pins an execution started by hand with only an ETag to the version whose ETag it checked', async () => {
    // Prepare
    liveAccount();
    const byHand = {
      ...deployment,
      artifact: { bucket: BUCKET, key: deployment.artifact.key, eTag: 'd41d8cd98f00b204e9800998ecf8427e' },
    };

    // Act
    const plan = await handler(byHand, context);

    // Assess
    expect(plan.artifactVersionId).toBe(VERSION_ID);
  });

  it('refuses with UnsafeToDeploy when neither the input nor S3 names a version (an unversioned bucket)', async () => {
    // Prepare
    liveAccount();
    s3Mock.on(HeadObjectCommand).resolves({ ETag: '"d41d8cd98f00b204e9800998ecf8427e"' });
    const byHand = { ...deployment, artifact: { bucket: BUCKET, key: deployment.artifact.key } };

    // Act
    const run = handler(byHand, context);

    // Assess: refused before the config is even read, so nothing is baked from a moving key.
    await expect(run).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      message: `artifact s3://${BUCKET}/${deployment.artifact.key} has no S3 version id: the bake downloads one object version, so the bucket must be versioned (the service's release bucket is)`,
    });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('refuses with InvalidConfig an input whose key names another release than its fields', async () => {
    // Prepare
    liveAccount();
    const mismatched = { ...deployment, version: '1.2.0' };

    // Act
    const run = handler(mismatched, context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'InvalidConfig',
      message:
        'execution input is invalid: artifact.key: must be releases/<app>/<env>/<version>.<format> with the app, env, version and format given',
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('refuses with UnsafeToDeploy when the artifact was deleted after the upload event', async () => {
    // Prepare
    liveAccount();
    s3Mock
      .on(HeadObjectCommand)
      .rejects(
        Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }),
      );

    // Act
    const run = handler(deployment, context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      message: expect.stringContaining(`s3://${BUCKET}/${KEY} no longer exists`),
    });
  });

  it('fails with InvalidConfig naming an alarm of the config that CloudWatch does not have', async () => {
    // Prepare
    liveAccount();
    cloudwatchMock
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [alarm('web-prod-5xx')], CompositeAlarms: [] });

    // Act
    const run = handler(deployment, context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'InvalidConfig',
      message: expect.stringContaining('alarms: no CloudWatch alarm named "web-prod-latency-p99"'),
    });
    expect(route53Mock.calls()).toHaveLength(0);
  });

  it.each([
    ['of another account', 'arn:aws:sns:us-east-1:999999999999:bluegreen-web', 'is not in this account'],
    [
      'named outside NotificationTopicNames',
      'arn:aws:sns:us-east-1:123456789012:web-alerts',
      'named like "bluegreen-*"',
    ],
    ['of another Region', 'arn:aws:sns:eu-west-1:123456789012:bluegreen-web', "not in the service's Region"],
  ])(
    'fails with InvalidConfig naming notifications.topicArn for a topic %s, before reading any weight',
    async (_what, topicArn, says) => {
      // Prepare
      const config = { ...JSON.parse(exampleConfigText), notifications: { topicArn } };
      liveAccount(JSON.stringify(config));

      // Act
      const run = handler(deployment, context);

      // Assess
      await expect(run).rejects.toMatchObject({
        name: 'InvalidConfig',
        message: expect.stringMatching(
          new RegExp(`notifications\\.topicArn: .*${says.replace(/[*"]/g, '.')}`),
        ),
      });
      expect(route53Mock.calls()).toHaveLength(0);
    },
  );

  it('plans with a topic of this account and Region whose name the stack allows', async () => {
    // Prepare
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:bluegreen-web-prod';
    liveAccount(JSON.stringify({ ...JSON.parse(exampleConfigText), notifications: { topicArn } }));

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan).toMatchObject({ topicArn });
  });

  it('refuses with UnsafeToDeploy when a watched alarm is already in ALARM while blue serves, before sizing green', async () => {
    // Prepare
    liveAccount();
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { ...alarm('web-prod-5xx'), StateValue: 'ALARM', StateReason: 'Threshold Crossed: 5xx 3 %' },
        alarm('web-prod-latency-p99'),
      ],
      CompositeAlarms: [],
    });

    // Act
    const run = handler(deployment, context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      message: expect.stringMatching(
        /alarm in ALARM before any traffic moved to the release, so not caused by it: "web-prod-5xx" \("Threshold Crossed: 5xx 3 %"\); nothing was launched/,
      ),
    });
    expect(
      elbv2Mock.commandCalls(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }),
    ).toHaveLength(0);
  });

  it('accepts a composite alarm of the config', async () => {
    // Prepare
    liveAccount();
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [alarm('web-prod-5xx')],
      CompositeAlarms: [{ AlarmName: 'web-prod-latency-p99', StateValue: 'OK' }],
    });

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan.green).toBe('b');
  });

  it('refuses with UnsafeToDeploy when the green target group still has targets registered', async () => {
    // Prepare
    liveAccount();
    elbv2Mock
      .on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b })
      .resolves(healthy(['i-0deadbeef00000001']));
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(
        reservation(['i-0deadbeef00000001'], fleetInstanceTags('b', '1.0.1', 'web-prod-1_0_1-0000000000')),
      );

    // Act
    const run = handler(deployment, context);

    // Assess: the targets are named with who launched them
    await expect(run).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      message: expect.stringContaining(
        "green slot b's target group still has registered targets (i-0deadbeef00000001 of web/prod 1.0.1 (execution web-prod-1_0_1-0000000000))",
      ),
    });
  });

  it('lets through targets in green that are only dead instances of ours (the launch deregisters them)', async () => {
    // Prepare: an earlier fleet of ours in slot b died outside the service; ELB still lists it.
    liveAccount();
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b }).resolves({
      TargetHealthDescriptions: GREEN_IDS.map((Id) => ({
        Target: { Id, Port: 80 },
        TargetHealth: { State: 'unused' as const, Reason: 'Target.InvalidState' as const },
      })),
    });
    const dead = reservation(GREEN_IDS, fleetInstanceTags('b', '0.9.0', 'web-prod-0_9_0-0000000000'));
    for (const instance of dead.Reservations[0]?.Instances ?? [])
      instance.State = { Code: 48, Name: 'terminated' as never };
    ec2Mock.on(DescribeInstancesCommand).resolves(dead);

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan).toMatchObject({ blue: 'a', green: 'b' });
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'instance-id', Values: GREEN_IDS },
    ]);
  });

  it('lets through targets in green whose instance EC2 no longer lists, which ELB reports unused (Target.InvalidState)', async () => {
    // Prepare: instances terminated more than an hour ago are still registered in slot b; EC2
    // has forgotten them.
    liveAccount();
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b }).resolves({
      TargetHealthDescriptions: GREEN_IDS.map((Id) => ({
        Target: { Id, Port: 80 },
        TargetHealth: { State: 'unused' as const, Reason: 'Target.InvalidState' as const },
      })),
    });
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan).toMatchObject({ blue: 'a', green: 'b' });
  });

  it('refuses a target in green that EC2 does not list but ELB still checks', async () => {
    // Prepare: not listed, yet ELB sends it health checks: it may serve, so it is not gone.
    liveAccount();
    elbv2Mock
      .on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b })
      .resolves(healthy(['i-0deadbeef00000001']));
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });

    // Act
    const run = handler(deployment, context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      message: expect.stringContaining(
        "green slot b's target group still has registered targets (i-0deadbeef00000001)",
      ),
    });
  });

  it.each([
    ['a running instance of ours', 'running', fleetInstanceTags('b', '0.9.0', 'web-prod-0_9_0-0000000000')],
    [
      'a dead instance of another app',
      'terminated',
      [
        { Key: 'bluegreen:managed-by', Value: 'bluegreen-ec2' },
        { Key: 'bluegreen:app', Value: 'api' },
        { Key: 'bluegreen:env', Value: 'prod' },
      ],
    ],
    ['a dead instance the service did not launch', 'stopped', [{ Key: 'Name', Value: 'hand-made' }]],
  ])('refuses a target in green that is %s', async (_what, state, tags) => {
    // Prepare
    liveAccount();
    elbv2Mock
      .on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b })
      .resolves(healthy(['i-0deadbeef00000001']));
    const found = reservation(['i-0deadbeef00000001'], tags);
    for (const instance of found.Reservations[0]?.Instances ?? [])
      instance.State = { Code: 80, Name: state as never };
    ec2Mock.on(DescribeInstancesCommand).resolves(found);

    // Act
    const run = handler(deployment, context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'UnsafeToDeploy',
      // The id first; an instance of this service's is followed by whose it is.
      message: expect.stringMatching(
        /green slot b's target group still has registered targets \(i-0deadbeef00000001( of web\/prod [^)]*\))?\)/,
      ),
    });
  });

  it('plans a first deploy into slot a, one instance, straight to 100 %', async () => {
    // Prepare
    liveAccount();
    route53Mock
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 100 });
    elbv2Mock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan).toMatchObject({ blue: null, green: 'a', instanceCount: 1, blueTargetCount: 0 });
    expect(plan.steps.map((s) => s.percent)).toEqual([100]);
    expect(elbv2Mock.commandCalls(DescribeTargetHealthCommand)).toHaveLength(1);
  });

  it('fails with InvalidConfig naming the field when the execution input was edited by hand', async () => {
    // Prepare
    liveAccount();

    // Act
    const run = handler({ ...deployment, app: 'Web App' }, context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'InvalidConfig',
      message: expect.stringContaining('execution input is invalid: app: must be 1-32 lowercase letters'),
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });
  it.each([
    [
      'a whole-object SHA-256',
      { ChecksumSHA256: 'q80bH9nrFkfS2XR3kGXUkWVQpAqUj4IpjOVnbSCOD0M=', ChecksumType: 'FULL_OBJECT' },
      /^sha256:abcd1b1fd9eb1647d2d97477906[0-9a-f]+$/,
    ],
    [
      'a composite SHA-256 of a multipart upload',
      { ChecksumSHA256: 'q80bH9nrFkfS2XR3kGXUkWVQpAqUj4IpjOVnbSCOD0M=-12', ChecksumType: 'COMPOSITE' },
      /^sha256:[0-9a-f]{64}-12$/,
    ],
    [
      'only the CRC64NVME S3 adds by default',
      { ChecksumCRC64NVME: 'AAAAAAAAAAA=', ChecksumType: 'FULL_OBJECT' },
      undefined,
    ],
  ] as const)('plans with the content digest of %s', async (_what, checksum, digest) => {
    // Prepare
    liveAccount();
    s3Mock
      .on(HeadObjectCommand)
      .resolves({ VersionId: VERSION_ID, ETag: '"d41d8cd98f00b204e9800998ecf8427e"', ...checksum });

    // Act
    const plan = await handler(deployment, context);

    // Assess
    if (digest) expect(plan.contentDigest).toMatch(digest);
    else expect(plan.contentDigest).toBeUndefined();
  });
});

describe('plan-deployment with fleet.kind autoScalingGroup', () => {
  /** The account's groups as DescribeAutoScalingGroups lists them (one page). */
  function groups(...found: ReturnType<typeof autoScalingGroup>[]) {
    autoscalingMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: found });
  }

  it("adopts blue's group and plans green's sized, bounded and placed like it", async () => {
    // Prepare: blue's group wants 4 though 3 are registered now (one is being replaced).
    liveAccount(groupConfigText);
    groups(blueGroup({ desired: 4, min: 2, max: 8 }));

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan.group).toEqual({ ...groupPlan, desired: 4, max: 8 });
    expect(plan).toMatchObject({ blue: 'a', green: 'b', blueTargetCount: 3, instanceCount: 4 });
    // The account's groups are read in full (no filter by target group), once for both slots.
    const reads = autoscalingMock.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input);
    expect(reads).toEqual([{ MaxRecords: 100 }]);
  });

  it("records which of the processes it holds blue's group had suspended already", async () => {
    // Prepare: its owner suspended scheduled actions (and launches) before this deploy.
    liveAccount(groupConfigText);
    groups(blueGroup({ suspended: ['ScheduledActions', 'Launch'] }));

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan.group?.heldBefore).toEqual(['ScheduledActions']);
  });

  it("refuses with UnsafeToDeploy, naming the tags it lacks, when blue's group is not tagged as web/prod's", async () => {
    // Prepare: a group someone made by hand, attached to blue's target group.
    liveAccount(groupConfigText);
    groups(
      autoScalingGroup({
        name: 'web-prod-hand-made',
        targetGroupArn: TARGET_GROUP.a,
        tags: [{ Key: 'team', Value: 'web' }],
        members: BLUE_IDS,
      }),
    );

    // Act
    const run = handler(deployment, context);

    // Assess
    await expectFailure(
      run,
      'UnsafeToDeploy',
      "Auto Scaling group web-prod-hand-made serves blue slot a but is not tagged as this app/env's (missing or different: bluegreen:managed-by=bluegreen-ec2, bluegreen:app=web, bluegreen:env=prod, bluegreen:slot=a)",
    );
  });

  it("refuses blue's group tagged for the other slot", async () => {
    // Prepare
    liveAccount(groupConfigText);
    groups(blueGroup({ tags: groupTags('b', '1.0.0', 'web-prod-1_0_0-0000000000') }));

    // Act
    const run = handler(deployment, context);

    // Assess
    await expectFailure(run, 'UnsafeToDeploy', '(missing or different: bluegreen:slot=a)');
  });

  it("refuses with UnsafeToDeploy when two groups are attached to blue's target group", async () => {
    // Prepare
    liveAccount(groupConfigText);
    groups(blueGroup(), blueGroup({ name: 'bluegreen-web-prod-a-0.9.0-0badc0de', members: [] }));

    // Act
    const run = handler(deployment, context);

    // Assess
    await expectFailure(
      run,
      'UnsafeToDeploy',
      `blue slot a's target group has 2 Auto Scaling groups attached (${BLUE_GROUP}, bluegreen-web-prod-a-0.9.0-0badc0de)`,
    );
  });

  it('refuses with UnsafeToDeploy a blue group that serves another target group too (its deletion would take that down)', async () => {
    // Prepare
    const other =
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-admin/0123456789abcdef';
    liveAccount(groupConfigText);
    const shared = blueGroup();
    groups({ ...shared, TargetGroupARNs: [...(shared.TargetGroupARNs ?? []), other] });

    // Act
    const run = handler(deployment, context);

    // Assess
    await expectFailure(
      run,
      'UnsafeToDeploy',
      `blue's group ${BLUE_GROUP} is attached to other target groups too (${other})`,
    );
  });

  it("gives green at least one instance when blue's group is scaled to 0", async () => {
    // Prepare
    liveAccount(groupConfigText);
    groups(blueGroup({ desired: 0, min: 0 }));

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan.group).toMatchObject({ desired: 1, min: 0 });
    expect(plan.instanceCount).toBe(1);
  });

  it("refuses with UnsafeToDeploy when a group is attached to green's target group; one being deleted does not count", async () => {
    // Prepare
    liveAccount(groupConfigText);
    const leftover = autoScalingGroup({
      name: 'bluegreen-web-prod-b-1.0.9-1234abcd',
      targetGroupArn: TARGET_GROUP.b,
      tags: groupTags('b', '1.0.9', 'web-prod-1_0_9-0123456789'),
    });
    groups(blueGroup(), leftover);

    // Act
    const run = handler(deployment, context);

    // Assess
    await expectFailure(
      run,
      'UnsafeToDeploy',
      "green slot b's target group has Auto Scaling group(s) attached (bluegreen-web-prod-b-1.0.9-1234abcd)",
    );

    // Prepare: the same group, its deletion under way.
    groups(blueGroup(), { ...leftover, Status: 'Delete in progress' });

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan.group?.blue).toBe(BLUE_GROUP);
  });

  it('refuses with InvalidConfig a first deploy without fleet.subnetIds: there is no blue group to copy them from', async () => {
    // Prepare
    liveAccount(groupConfigText);
    route53Mock
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 100 });
    elbv2Mock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    groups();

    // Act
    const run = handler(deployment, context);

    // Assess
    await expectFailure(
      run,
      'InvalidConfig',
      'fleet.subnetIds is required: there is no blue group to copy the subnets from',
    );
  });

  it("plans a first deploy's group in the config's subnets, sized by instanceCount", async () => {
    // Prepare
    const example = JSON.parse(exampleConfigText);
    const subnetIds = SUBNETS.split(',');
    liveAccount(
      JSON.stringify({ ...example, instanceCount: 2, fleet: { kind: 'autoScalingGroup', subnetIds } }),
    );
    route53Mock
      .on(ListResourceRecordSetsCommand)
      .resolves({ ResourceRecordSets: [], IsTruncated: false, MaxItems: 100 });
    elbv2Mock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    groups();

    // Act
    const plan = await handler(deployment, context);

    // Assess
    expect(plan).toMatchObject({ blue: null, green: 'a', instanceCount: 2 });
    expect(plan.group).toEqual({
      name: GREEN_GROUP.replace('-b-', '-a-'),
      desired: 2,
      min: 2,
      max: 2,
      subnets: SUBNETS,
      gracePeriodSeconds: 300,
    });
  });

  it('refuses with UnsafeToDeploy to heal a split: a split is not healed with groups', async () => {
    // Prepare
    const example = JSON.parse(groupConfigText);
    liveAccount(JSON.stringify({ ...example, traffic: { ...example.traffic, healSplit: true } }));
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 60, b: 40 }));
    elbv2Mock
      .on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b })
      .resolves(healthy(['i-0deadbeef00000001']));
    groups(blueGroup());

    // Act
    const run = handler(deployment, context);

    // Assess
    await expectFailure(
      run,
      'UnsafeToDeploy',
      'both slots carry traffic; with fleet.kind autoScalingGroup the service does not heal a split',
    );
  });
});
