import {
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  PutScalingPolicyCommand,
  SuspendProcessesCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateLaunchTemplateVersionCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  AddTagsCommand,
  DeregisterTargetsCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { clientToken } from '#shared/domain/identity.ts';
import type { BakeState } from '#shared/domain/workflow.ts';
import { handler } from '../../functions/launch-green.ts';
import { expectFailure } from '../support/failures.ts';
import { mockAws } from './aws-mocks.ts';
import {
  AMI_ID,
  alarmStates,
  awsError,
  BLUE_GROUP,
  blueGroup,
  DEPLOYMENT_ID,
  deployment,
  fleetInstanceTags,
  GREEN_GROUP,
  GREEN_IDS,
  greenGroup,
  groupPlan,
  groupStateWith,
  groupTags,
  LAUNCH_TEMPLATE_ID,
  LOAD_BALANCER_A,
  lambdaContext,
  planFor,
  reservation,
  slotTags,
  stateWith,
  TARGET_GROUP,
} from './fixtures.ts';

const { autoscalingMock, cloudwatchMock, dynamodbMock, ec2Mock, elbv2Mock, sfnMock } = mockAws({
  slotsOurs: true,
  alarmsOk: true,
  pinnedConfig: true,
});

// Green's slot is this deployment's (its target group's tags) and empty, unless a test says otherwise.
beforeEach(() => {
  // The deployment that claimed the slot before ended.
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
  // No final notification recorded for any deployment.
  dynamodbMock.on(GetItemCommand).resolves({});
  // Green's slot is empty, as Plan found it.
  elbv2Mock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
});

const context = lambdaContext('launchGreen');
const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-prod-deploy:${DEPLOYMENT_ID}`;

/** What the state machine passes the task: the execution state and the execution. */
function launchRequest(extra: Parameters<typeof stateWith>[0]) {
  return { deployment: stateWith(extra), executionArn: EXECUTION_ARN };
}

const baked: BakeState = {
  status: 'AVAILABLE',
  reused: false,
  amiId: AMI_ID,
  imageBuildVersionArn:
    'arn:aws:imagebuilder:us-east-1:123456789012:image/bluegreen-web-prod-5d1c0b2f9a8e/1.0.0/1',
  startedAt: '2026-03-02T09:00:05.000Z',
  completedAt: '2026-03-02T09:21:05.000Z',
  polls: 21,
};

function launched(ids: string[]) {
  return {
    ReservationId: 'r-0f1e2d3c4b5a69788',
    Instances: ids.map((InstanceId) => ({ InstanceId, State: { Code: 0, Name: 'pending' as const } })),
  };
}

describe('launch-green', () => {
  it('launches nothing, with SlotInUse naming it, while another deployment that still runs holds green', async () => {
    // Prepare
    elbv2Mock
      .on(DescribeTagsCommand)
      .callsFake(slotTags({ deploymentId: 'web-prod-1_0_9-0123456789', version: '1.0.9' }));
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

    // Act
    const run = handler(launchRequest({ bake: baked }), context);

    // Assess
    await expectFailure(run, 'SlotInUse', "slot b's target group targetgroup/web-prod-b/");
    await expect(run).rejects.toThrow(
      /claimed by web\/prod 1\.0\.9 \(execution arn:aws:states:.*web-prod-1_0_9-0123456789\), which still runs/,
    );
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(0);
    expect(elbv2Mock.commandCalls(AddTagsCommand)).toHaveLength(0);
  });

  it('takes over the claim of a deployment that told its end, though Step Functions still says it runs', async () => {
    // Prepare: the previous deployment's notifier recorded its notification, then handed the lock
    // on; its execution has not ended yet.
    elbv2Mock
      .on(DescribeTagsCommand)
      .callsFake(slotTags({ deploymentId: 'web-prod-1_0_9-0123456789', version: '1.0.9' }));
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    dynamodbMock
      .on(GetItemCommand, { Key: marshall({ id: 'notified#web-prod-1_0_9-0123456789' }) })
      .resolves({ Item: marshall({ id: 'notified#web-prod-1_0_9-0123456789', state: 'published' }) });
    ec2Mock.on(RunInstancesCommand).resolves(launched(GREEN_IDS));

    // Act
    await handler(launchRequest({ bake: baked }), context);

    // Assess
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(1);
  });

  it('takes over the claim of a deployment that ended, then launches', async () => {
    // Prepare
    elbv2Mock
      .on(DescribeTagsCommand)
      .callsFake(slotTags({ deploymentId: 'web-prod-1_0_9-0123456789', version: '1.0.9' }));
    ec2Mock.on(RunInstancesCommand).resolves(launched(GREEN_IDS));

    // Act
    await handler(launchRequest({ bake: baked }), context);

    // Assess
    const claims = elbv2Mock.commandCalls(AddTagsCommand).map((c) => c.args[0].input);
    expect(claims).toEqual([
      {
        ResourceArns: [TARGET_GROUP.b],
        Tags: [
          { Key: 'bluegreen:deployment-id', Value: DEPLOYMENT_ID },
          { Key: 'bluegreen:version', Value: '1.1.0' },
          { Key: 'bluegreen:execution', Value: EXECUTION_ARN },
        ],
      },
    ]);
  });

  it('launches nothing, with AlarmTriggered saying it fired before any traffic moved, when a watched alarm is in ALARM', async () => {
    // Prepare
    cloudwatchMock.on(DescribeAlarmsCommand).callsFake(alarmStates(['web-prod-5xx']));

    // Act
    const run = handler(launchRequest({ bake: baked }), context);

    // Assess
    await expectFailure(run, 'AlarmTriggered', 'before any traffic moved to the release');
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(0);
  });

  it('launches up to the planned count from the launch template with the baked AMI', async () => {
    // Prepare
    ec2Mock.on(RunInstancesCommand).resolves(launched(GREEN_IDS));

    // Act
    const result = await handler(launchRequest({ bake: baked }), context);

    // Assess
    const runs = ec2Mock.commandCalls(RunInstancesCommand);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.args[0].input).toMatchObject({
      LaunchTemplate: { LaunchTemplateName: 'web-prod', Version: '$Default' },
      ImageId: AMI_ID,
      MinCount: 1,
      MaxCount: 3,
    });
    expect(result).toEqual({
      slot: 'b',
      amiId: AMI_ID,
      launched: GREEN_IDS.length,
      launchedAt: expect.any(String),
    });
  });

  it('asks for as many instances as the plan says, whatever blue had', async () => {
    // Prepare
    const ids = [
      'i-0aaaaaaaaaaaaaaa1',
      'i-0aaaaaaaaaaaaaaa2',
      'i-0aaaaaaaaaaaaaaa3',
      'i-0aaaaaaaaaaaaaaa4',
      'i-0aaaaaaaaaaaaaaa5',
    ];
    ec2Mock.on(RunInstancesCommand).resolves(launched(ids));

    // Act
    const result = await handler(launchRequest({ plan: planFor({ a: 100, b: 0 }, 5), bake: baked }), context);

    // Assess
    expect(ec2Mock.commandCalls(RunInstancesCommand)[0]?.args[0].input).toMatchObject({
      MinCount: 1,
      MaxCount: 5,
    });
    expect(result.launched).toBe(ids.length);
  });

  it('sends the same client token on a retry of the same deployment, so EC2 launches no second fleet', async () => {
    // Prepare
    ec2Mock.on(RunInstancesCommand).resolves(launched(GREEN_IDS));

    // Act
    await handler(launchRequest({ bake: baked }), context);
    await handler(launchRequest({ bake: baked }), context);
    await handler(launchRequest({ bake: baked, deploymentId: 'web-prod-1_2_0-77a1c3e9b0' }), context);

    // Assess
    const tokens = ec2Mock.commandCalls(RunInstancesCommand).map((c) => c.args[0].input.ClientToken);
    expect(tokens).toHaveLength(3);
    expect(tokens[0]).toMatch(/^[0-9a-f]{1,64}$/);
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).not.toBe(tokens[0]);
  });

  it('tags the instances and their volumes at launch with the deployment id and the green slot', async () => {
    // Prepare
    ec2Mock.on(RunInstancesCommand).resolves(launched(GREEN_IDS));

    // Act
    await handler(launchRequest({ bake: baked }), context);

    // Assess
    const specs = ec2Mock.commandCalls(RunInstancesCommand)[0]?.args[0].input.TagSpecifications ?? [];
    expect(specs.map((s) => s.ResourceType)).toEqual(['instance', 'volume']);
    for (const spec of specs) {
      expect(spec.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'bluegreen:managed-by', Value: 'bluegreen-ec2' },
          { Key: 'bluegreen:deployment-id', Value: DEPLOYMENT_ID },
          { Key: 'bluegreen:slot', Value: 'b' },
          { Key: 'bluegreen:app', Value: 'web' },
          { Key: 'bluegreen:env', Value: 'prod' },
          { Key: 'bluegreen:version', Value: '1.1.0' },
        ]),
      );
    }
  });

  it('fails with CapacityShortfall when EC2 launches fewer instances than planned', async () => {
    // Prepare
    ec2Mock.on(RunInstancesCommand).resolves(launched(GREEN_IDS.slice(0, 2)));

    // Act
    const run = handler(launchRequest({ bake: baked }), context);

    // Assess
    await expectFailure(run, 'CapacityShortfall', 'EC2 launched 2 of 3 green instances');
  });

  it('fails with CapacityShortfall when EC2 has no capacity at all', async () => {
    // Prepare
    ec2Mock
      .on(RunInstancesCommand)
      .rejects(
        awsError(
          'InsufficientInstanceCapacity',
          'We currently do not have sufficient c7g.large capacity in the Availability Zone you requested (us-east-1a).',
          500,
        ),
      );

    // Act
    const run = handler(launchRequest({ bake: baked }), context);

    // Assess
    await expectFailure(run, 'CapacityShortfall', 'sufficient c7g.large capacity');
  });

  it('launches nothing when the bake left no AMI id', async () => {
    // Prepare
    const { amiId: _none, ...building } = baked;
    ec2Mock.on(RunInstancesCommand).resolves(launched(GREEN_IDS));

    // Act
    const run = handler(launchRequest({ bake: { ...building, status: 'BUILDING' } }), context);

    // Assess
    await expect(run).rejects.toThrow(/no baked AMI id/);
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(0);
  });

  it("deregisters the dead instances of ours an earlier fleet left registered in green's slot", async () => {
    // Prepare: two targets of an earlier fleet of ours, one terminated and one stopped.
    const dead = ['i-0dead0000000000001', 'i-0dead0000000000002'];
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b }).resolves({
      TargetHealthDescriptions: dead.map((Id) => ({
        Target: { Id, Port: 80 },
        TargetHealth: { State: 'unused' as const, Reason: 'Target.InvalidState' as const },
      })),
    });
    const found = reservation(dead, fleetInstanceTags('b', '0.9.0', 'web-prod-0_9_0-0000000000'));
    const [terminated, stopped] = found.Reservations[0]?.Instances ?? [];
    if (terminated) terminated.State = { Code: 48, Name: 'terminated' as never };
    if (stopped) stopped.State = { Code: 80, Name: 'stopped' as never };
    ec2Mock.on(DescribeInstancesCommand).resolves(found);
    ec2Mock.on(RunInstancesCommand).resolves(launched(GREEN_IDS));

    // Act
    await handler(launchRequest({ bake: baked }), context);

    // Assess
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)[0]?.args[0].input).toEqual({
      TargetGroupArn: TARGET_GROUP.b,
      Targets: dead.map((Id) => ({ Id })),
    });
    // Deregistered, it gets no traffic even if someone starts it again: nothing is terminated here.
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  });

  it("deregisters targets in green's slot whose instance EC2 no longer lists", async () => {
    // Prepare: terminated more than an hour ago; ELB still lists them, EC2 no longer does.
    const gone = ['i-0dead0000000000003', 'i-0dead0000000000004'];
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b }).resolves({
      TargetHealthDescriptions: gone.map((Id) => ({
        Target: { Id, Port: 80 },
        TargetHealth: { State: 'unused' as const, Reason: 'Target.InvalidState' as const },
      })),
    });
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ec2Mock.on(RunInstancesCommand).resolves(launched(GREEN_IDS));

    // Act
    await handler(launchRequest({ bake: baked }), context);

    // Assess
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)[0]?.args[0].input).toEqual({
      TargetGroupArn: TARGET_GROUP.b,
      Targets: gone.map((Id) => ({ Id })),
    });
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(1);
  });

  it('claims nothing again when the heal already claimed the slot for this deployment', async () => {
    // Prepare: green's slot is claimed by this deployment (the default tags).
    ec2Mock.on(RunInstancesCommand).resolves(launched(GREEN_IDS));

    // Act
    await handler(launchRequest({ bake: baked }), context);

    // Assess
    expect(elbv2Mock.commandCalls(AddTagsCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(1);
  });

  it('launches nothing, with SlotInUse, when green holds a target ELB checks whose instance EC2 does not list', async () => {
    // Prepare: not gone (ELB sends it health checks), yet not an instance EC2 lists to us.
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b }).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: 'i-0abc0000000000001', Port: 80 }, TargetHealth: { State: 'healthy' as const } },
      ],
    });
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });

    // Act
    const run = handler(launchRequest({ bake: baked }), context);

    // Assess
    await expectFailure(run, 'SlotInUse', '(i-0abc0000000000001 not launched by this service)');
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(0);
  });
});

describe('launch-green with fleet.kind autoScalingGroup', () => {
  const LOAD_BALANCER_B =
    'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web-prod-b/7f3e2d1c0b9a8877';
  /** Blue's policy: about 1,000 requests a minute per instance of blue's target group. */
  const bluePolicy = {
    AutoScalingGroupName: BLUE_GROUP,
    PolicyName: 'requests-per-target',
    PolicyARN: `arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d:autoScalingGroupName/${BLUE_GROUP}:policyName/requests-per-target`,
    PolicyType: 'TargetTrackingScaling',
    EstimatedInstanceWarmup: 120,
    Enabled: true,
    TargetTrackingConfiguration: {
      TargetValue: 1000,
      PredefinedMetricSpecification: {
        PredefinedMetricType: 'ALBRequestCountPerTarget' as const,
        ResourceLabel: 'app/web-prod-a/50dc6c495c0c9188/targetgroup/web-prod-a/0123456789abcdef',
      },
    },
  };

  // The config's launch template is the service's; blue's group has its policy; each slot's target
  // group is behind its own load balancer (traffic.mode route53).
  beforeEach(() => {
    ec2Mock.on(DescribeLaunchTemplatesCommand).resolves({
      LaunchTemplates: [
        {
          LaunchTemplateId: LAUNCH_TEMPLATE_ID,
          LaunchTemplateName: 'web-prod',
          DefaultVersionNumber: 6,
          LatestVersionNumber: 6,
        },
      ],
    });
    ec2Mock.on(CreateLaunchTemplateVersionCommand).resolves({ LaunchTemplateVersion: { VersionNumber: 7 } });
    autoscalingMock.on(CreateAutoScalingGroupCommand).resolves({});
    autoscalingMock.on(SuspendProcessesCommand).resolves({});
    autoscalingMock.on(PutScalingPolicyCommand).resolves({ PolicyARN: 'arn:aws:autoscaling:policy-green' });
    autoscalingMock
      .on(DescribePoliciesCommand, { AutoScalingGroupName: BLUE_GROUP })
      .resolves({ ScalingPolicies: [bluePolicy] });
    elbv2Mock.on(DescribeTargetGroupsCommand, { TargetGroupArns: [TARGET_GROUP.a] }).resolves({
      TargetGroups: [{ TargetGroupArn: TARGET_GROUP.a, LoadBalancerArns: [LOAD_BALANCER_A] }],
    });
    elbv2Mock.on(DescribeTargetGroupsCommand, { TargetGroupArns: [TARGET_GROUP.b] }).resolves({
      TargetGroups: [{ TargetGroupArn: TARGET_GROUP.b, LoadBalancerArns: [LOAD_BALANCER_B] }],
    });
  });

  function groupLaunch(extra: Parameters<typeof groupStateWith>[0] = {}) {
    return { deployment: groupStateWith({ bake: baked, ...extra }), executionArn: EXECUTION_ARN };
  }

  it("makes a template version with the baked AMI by the deployment's client token, then green's group from it", async () => {
    // Act
    const result = await handler(groupLaunch(), context);

    // Assess
    const versions = ec2Mock.commandCalls(CreateLaunchTemplateVersionCommand).map((c) => c.args[0].input);
    expect(versions).toEqual([
      {
        LaunchTemplateId: LAUNCH_TEMPLATE_ID,
        SourceVersion: '6',
        LaunchTemplateData: { ImageId: AMI_ID },
        VersionDescription: `web/prod 1.1.0: deployment ${DEPLOYMENT_ID}`,
        ClientToken: clientToken(DEPLOYMENT_ID, 'green-template-version'),
      },
    ]);
    const made = autoscalingMock.commandCalls(CreateAutoScalingGroupCommand).map((c) => c.args[0].input);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({
      AutoScalingGroupName: GREEN_GROUP,
      LaunchTemplate: { LaunchTemplateId: LAUNCH_TEMPLATE_ID, Version: '7' },
      // Held at its size while traffic moves: it may scale out, not in.
      MinSize: 3,
      MaxSize: 6,
      DesiredCapacity: 3,
      VPCZoneIdentifier: groupPlan.subnets,
      TargetGroupARNs: [TARGET_GROUP.b],
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 240,
    });
    // Tagged at creation as this deployment's, each tag propagated to its instances.
    const tags = Object.fromEntries((made[0]?.Tags ?? []).map((t) => [t.Key, t]));
    expect(tags['bluegreen:deployment-id']).toMatchObject({ Value: DEPLOYMENT_ID, PropagateAtLaunch: true });
    expect(tags['bluegreen:slot']).toMatchObject({ Value: 'b', PropagateAtLaunch: true });
    expect(tags['bluegreen:managed-by']).toMatchObject({ Value: 'bluegreen-ec2', PropagateAtLaunch: true });
    expect(tags['bluegreen:launch-template-version']).toMatchObject({ Value: '7' });
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(0);
    expect(result).toEqual({ slot: 'b', amiId: AMI_ID, launched: 3, launchedAt: expect.any(String) });
  });

  it("copies blue's policies to green's group, the resource label naming green's load balancer and target group", async () => {
    // Act
    await handler(groupLaunch(), context);

    // Assess
    const puts = autoscalingMock.commandCalls(PutScalingPolicyCommand).map((c) => c.args[0].input);
    expect(puts).toEqual([
      {
        AutoScalingGroupName: GREEN_GROUP,
        PolicyName: 'requests-per-target',
        PolicyType: 'TargetTrackingScaling',
        EstimatedInstanceWarmup: 120,
        Enabled: true,
        TargetTrackingConfiguration: {
          TargetValue: 1000,
          PredefinedMetricSpecification: {
            PredefinedMetricType: 'ALBRequestCountPerTarget',
            ResourceLabel: 'app/web-prod-b/7f3e2d1c0b9a8877/targetgroup/web-prod-b/fedcba9876543210',
          },
        },
      },
    ]);
  });

  it("holds both groups at their size: blue's scaling processes suspended, green's minimum its size", async () => {
    // Act
    await handler(groupLaunch(), context);

    // Assess: green's policies stay on, so it can scale out as it takes blue's traffic.
    const suspended = autoscalingMock.commandCalls(SuspendProcessesCommand).map((c) => c.args[0].input);
    expect(suspended).toEqual([
      { AutoScalingGroupName: BLUE_GROUP, ScalingProcesses: ['AlarmNotification', 'ScheduledActions'] },
    ]);
    const [made] = autoscalingMock.commandCalls(CreateAutoScalingGroupCommand).map((c) => c.args[0].input);
    expect(made?.MinSize).toBe(made?.DesiredCapacity);
  });

  it('sizes green like blue is now, when blue scaled out during the bake', async () => {
    // Prepare: Plan saw 3; load has scaled blue to 5 since (its maximum is 6).
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [BLUE_GROUP] })
      .resolves({ AutoScalingGroups: [blueGroup({ desired: 5 })] });

    // Act
    const result = await handler(groupLaunch(), context);

    // Assess
    const [made] = autoscalingMock.commandCalls(CreateAutoScalingGroupCommand).map((c) => c.args[0].input);
    expect(made).toMatchObject({ DesiredCapacity: 5, MinSize: 5, MaxSize: 6 });
    expect(result.launched).toBe(5);
  });

  it('suspends nothing and copies no policy on a first deploy: green takes all traffic at once', async () => {
    // Prepare
    const plan = { ...planFor({ a: null, b: null }, 0) };
    const { blue: _, ...firstGroup } = groupPlan;
    const state = {
      ...deployment,
      plan: { ...plan, group: { ...firstGroup, name: GREEN_GROUP.replace('-b-', '-a-') } },
      bake: baked,
    };

    // Act
    await handler({ deployment: state, executionArn: EXECUTION_ARN }, context);

    // Assess
    expect(plan.blue).toBeNull();
    expect(autoscalingMock.commandCalls(CreateAutoScalingGroupCommand)).toHaveLength(1);
    expect(autoscalingMock.commandCalls(SuspendProcessesCommand)).toHaveLength(0);
    expect(autoscalingMock.commandCalls(DescribePoliciesCommand)).toHaveLength(0);
    expect(autoscalingMock.commandCalls(PutScalingPolicyCommand)).toHaveLength(0);
  });

  /** The launch of a config whose launchTemplate.version is $Latest. */
  function latestLaunch() {
    const plan = { ...planFor(), group: groupPlan, launchTemplate: { name: 'web-prod', version: '$Latest' } };
    return { deployment: { ...deployment, plan, bake: baked }, executionArn: EXECUTION_ARN };
  }

  it('bases the version on the latest one when the config says $Latest', async () => {
    // Prepare: the latest version is the owner's.
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({
      LaunchTemplateVersions: [
        {
          LaunchTemplateId: LAUNCH_TEMPLATE_ID,
          VersionNumber: 6,
          VersionDescription: 'web 1.0.0 base',
          LaunchTemplateData: { ImageId: 'ami-0123456789abcdef0' },
        },
      ],
    });
    // Act
    await handler(latestLaunch(), context);

    // Assess
    expect(ec2Mock.commandCalls(DescribeLaunchTemplateVersionsCommand).map((c) => c.args[0].input)).toEqual([
      { LaunchTemplateId: LAUNCH_TEMPLATE_ID, Versions: ['6'] },
    ]);
    expect(ec2Mock.commandCalls(CreateLaunchTemplateVersionCommand)[0]?.args[0].input.SourceVersion).toBe(
      '6',
    );
  });

  it('takes the version a first try made when retried with $Latest, which now names that version', async () => {
    // Prepare: the first try made version 7 from 6, then died; 7 is the latest now. EC2 refuses the
    // client token with another SourceVersion.
    ec2Mock.on(DescribeLaunchTemplatesCommand).resolves({
      LaunchTemplates: [
        {
          LaunchTemplateId: LAUNCH_TEMPLATE_ID,
          LaunchTemplateName: 'web-prod',
          DefaultVersionNumber: 6,
          LatestVersionNumber: 7,
        },
      ],
    });
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({
      LaunchTemplateVersions: [
        {
          LaunchTemplateId: LAUNCH_TEMPLATE_ID,
          VersionNumber: 7,
          VersionDescription: `web/prod 1.1.0: deployment ${DEPLOYMENT_ID}`,
          LaunchTemplateData: { ImageId: AMI_ID },
        },
      ],
    });
    ec2Mock
      .on(CreateLaunchTemplateVersionCommand, { SourceVersion: '7' })
      .rejects(
        awsError(
          'IdempotentParameterMismatch',
          'The client token you have provided is associated with a resource that is already deleted or has different parameters',
          400,
        ),
      );
    // Act
    await handler(latestLaunch(), context);

    // Assess
    expect(ec2Mock.commandCalls(CreateLaunchTemplateVersionCommand)).toHaveLength(0);
    expect(
      autoscalingMock.commandCalls(CreateAutoScalingGroupCommand)[0]?.args[0].input.LaunchTemplate,
    ).toEqual({
      LaunchTemplateId: LAUNCH_TEMPLATE_ID,
      Version: '7',
    });
  });

  /** CreateAutoScalingGroup answers that green's group exists (an earlier try made it, or another deployment did). */
  const groupAlreadyMade = () =>
    autoscalingMock
      .on(CreateAutoScalingGroupCommand)
      .rejects(
        awsError(
          'AlreadyExists',
          `AutoScalingGroup by this name already exists - A group with the name ${GREEN_GROUP} already exists`,
          400,
        ),
      );

  it("goes on when a retry finds green's group already made by this deployment (AlreadyExists)", async () => {
    // Prepare: the first try made the group, then its answer was lost.
    groupAlreadyMade();
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [GREEN_GROUP] })
      .resolves({ AutoScalingGroups: [greenGroup()] });

    // Act
    const result = await handler(groupLaunch(), context);

    // Assess
    expect(result.launched).toBe(3);
    expect(autoscalingMock.commandCalls(PutScalingPolicyCommand)).toHaveLength(1);
    expect(autoscalingMock.commandCalls(SuspendProcessesCommand)).toHaveLength(1);
  });

  it("fails with GreenUnhealthy, changing nothing more, when a retry finds this deployment's group being deleted", async () => {
    // Prepare: the group this deployment made is being deleted (by hand, or by a rollback).
    groupAlreadyMade();
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [GREEN_GROUP] })
      .resolves({ AutoScalingGroups: [greenGroup({ deleting: true })] });

    // Act
    const run = handler(groupLaunch(), context);

    // Assess
    await expectFailure(run, 'GreenUnhealthy', `green's Auto Scaling group ${GREEN_GROUP} is being deleted`);
    expect(autoscalingMock.commandCalls(SuspendProcessesCommand)).toHaveLength(0);
    expect(autoscalingMock.commandCalls(PutScalingPolicyCommand)).toHaveLength(0);
  });

  it("fails with SlotInUse, changing nothing more, when the group of green's name is another deployment's", async () => {
    // Prepare
    groupAlreadyMade();
    autoscalingMock.on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [GREEN_GROUP] }).resolves({
      AutoScalingGroups: [greenGroup({ tags: groupTags('b', '1.1.0', 'web-prod-1_1_0-someoneelse') })],
    });

    // Act
    const run = handler(groupLaunch(), context);

    // Assess
    await expectFailure(
      run,
      'SlotInUse',
      `an Auto Scaling group named ${GREEN_GROUP} exists and is not this deployment's (tagged bluegreen:deployment-id=web-prod-1_1_0-someoneelse)`,
    );
    expect(autoscalingMock.commandCalls(SuspendProcessesCommand)).toHaveLength(0);
    expect(autoscalingMock.commandCalls(PutScalingPolicyCommand)).toHaveLength(0);
  });
});
