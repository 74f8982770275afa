import {
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DetachLoadBalancerTargetGroupsCommand,
  ResumeProcessesCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeleteLaunchTemplateVersionsCommand,
  DescribeInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { handler } from '../../functions/remove-green.ts';
import { expectFailure } from '../support/failures.ts';
import { mockAws } from './aws-mocks.ts';
import {
  awsError,
  BLUE_GROUP,
  blueGroup,
  DEPLOYMENT_ID,
  fleetInstanceTags,
  GREEN_1,
  GREEN_2,
  GREEN_3,
  GREEN_GROUP,
  GREEN_IDS,
  greenFleet,
  greenGroup,
  greenInstances,
  groupPlan,
  groupStateWith,
  LAUNCH_TEMPLATE_ID,
  lambdaContext,
  reservation,
  stateWith,
  TARGET_GROUP,
  targetHealth,
  weightedRecords,
} from './fixtures.ts';

const { autoscalingMock, ec2Mock, elbv2Mock, route53Mock } = mockAws({ slotsOurs: true });

const context = lambdaContext('removeGreen');
const failure = { Error: 'AlarmTriggered', Cause: 'alarm in ALARM: web-prod-5xx (Threshold Crossed)' };

function greenFleetFound() {
  ec2Mock.on(DescribeInstancesCommand).resolves(greenInstances());
  elbv2Mock.on(DescribeTargetHealthCommand).resolves(
    targetHealth([
      [GREEN_1, 'unhealthy', 'Target.FailedHealthChecks'],
      [GREEN_2, 'healthy'],
      [GREEN_3, 'unused', 'Target.NotRegistered'],
    ]),
  );
  ec2Mock.on(TerminateInstancesCommand).resolves({ TerminatingInstances: [] });
  elbv2Mock.on(DeregisterTargetsCommand).resolves({});
}

describe('remove-green', () => {
  it('refuses with RollbackBlocked, terminating nothing, while green still carries traffic', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 90, b: 10 }));
    greenFleetFound();

    // Act
    const run = handler(stateWith({ green: greenFleet, failure }), context);

    // Assess
    await expectFailure(run, 'RollbackBlocked', 'green slot b still carries traffic (a=90 b=10)');
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('finds what this deployment launched by its deployment-id tag', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    greenFleetFound();

    // Act
    await handler(stateWith({ green: greenFleet, failure }), context);

    // Assess
    // The registered targets' instances, to tell which are ours; then ours to terminate, by tag.
    expect(ec2Mock.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.Filters)).toEqual([
      [{ Name: 'instance-id', Values: [GREEN_1, GREEN_2] }],
      [
        { Name: 'tag:bluegreen:managed-by', Values: ['bluegreen-ec2'] },
        { Name: 'tag:bluegreen:deployment-id', Values: [DEPLOYMENT_ID] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    ]);
  });

  it('deregisters the registered green targets and terminates every instance of this deployment', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    greenFleetFound();

    // Act
    const result = await handler(stateWith({ green: greenFleet, failure }), context);

    // Assess
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TARGET_GROUP.b, Targets: [{ Id: GREEN_1 }, { Id: GREEN_2 }] },
    ]);
    expect(ec2Mock.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceIds: GREEN_IDS },
    ]);
    // Counts, not ids: the execution state must not grow with the fleet.
    expect(result).toEqual({
      deregistered: 2,
      terminated: 3,
      summary: `3 green instance(s) terminated (tagged bluegreen:deployment-id=${DEPLOYMENT_ID})`,
    });
  });

  it('cleans up a launch that died before the state recorded the green fleet', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    greenFleetFound();
    const diedInLaunch = { Error: 'CapacityShortfall', Cause: 'EC2 launched 2 of 3 green instances' };

    // Act
    const result = await handler(stateWith({ failure: diedInLaunch }), context);

    // Assess
    expect(ec2Mock.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceIds: GREEN_IDS },
    ]);
    expect(result.terminated).toBe(GREEN_IDS.length);
  });

  it('calls nothing destructive, and says so, when no instance of this deployment is left', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    elbv2Mock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });

    // Act
    const result = await handler(stateWith({ failure }), context);

    // Assess
    expect(result).toEqual({ deregistered: 0, terminated: 0, summary: 'no green instances to terminate' });
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('deregisters a green target whose instance died, and never a target the service did not launch', async () => {
    // Prepare: green 1 died outside the service (ELB: unused, Target.InvalidState); someone else's
    // instance is registered in green's group too.
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    const FOREIGN = 'i-0f0f0f0f0f0f0f0f0';
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(
      targetHealth([
        [GREEN_1, 'unused', 'Target.InvalidState'],
        [FOREIGN, 'healthy'],
      ]),
    );
    const found = reservation([GREEN_1], fleetInstanceTags('b', '1.1.0', DEPLOYMENT_ID));
    const [dead] = found.Reservations[0]?.Instances ?? [];
    if (dead) dead.State = { Code: 48, Name: 'terminated' as never };
    found.Reservations[0]?.Instances.push({
      InstanceId: FOREIGN,
      State: { Code: 16, Name: 'running' },
      Tags: [{ Key: 'Name', Value: 'hand-made' }],
    });
    ec2Mock.on(DescribeInstancesCommand).resolves(found);
    elbv2Mock.on(DeregisterTargetsCommand).resolves({});

    // Act
    await handler(stateWith({ green: greenFleet, failure }), context);

    // Assess
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TARGET_GROUP.b, Targets: [{ Id: GREEN_1 }] },
    ]);
  });
});

describe('remove-green with fleet.kind autoScalingGroup', () => {
  /** Green's group, found by this deployment's tag; blue's by its name. */
  function groupsFound(green = greenGroup()) {
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand, {
        Filters: [
          { Name: 'tag:bluegreen:deployment-id', Values: [DEPLOYMENT_ID] },
          { Name: 'tag:bluegreen:managed-by', Values: ['bluegreen-ec2'] },
        ],
      })
      .resolves({ AutoScalingGroups: [green] });
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [BLUE_GROUP] })
      .resolves({ AutoScalingGroups: [blueGroup()] });
    autoscalingMock.on(DetachLoadBalancerTargetGroupsCommand).resolves({});
    autoscalingMock.on(DeleteAutoScalingGroupCommand).resolves({});
    autoscalingMock.on(ResumeProcessesCommand).resolves({});
    ec2Mock.on(DeleteLaunchTemplateVersionsCommand).resolves({
      SuccessfullyDeletedLaunchTemplateVersions: [{ LaunchTemplateId: LAUNCH_TEMPLATE_ID, VersionNumber: 7 }],
    });
  }

  it("detaches and deletes green's group and its template version, then lets blue's group scale again", async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    greenFleetFound();
    groupsFound();

    // Act
    const result = await handler(groupStateWith({ green: greenFleet, failure }), context);

    // Assess
    expect(
      autoscalingMock.commandCalls(DetachLoadBalancerTargetGroupsCommand).map((c) => c.args[0].input),
    ).toEqual([{ AutoScalingGroupName: GREEN_GROUP, TargetGroupARNs: [TARGET_GROUP.b] }]);
    expect(autoscalingMock.commandCalls(DeleteAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: GREEN_GROUP, ForceDelete: true },
    ]);
    expect(ec2Mock.commandCalls(DeleteLaunchTemplateVersionsCommand).map((c) => c.args[0].input)).toEqual([
      { LaunchTemplateId: LAUNCH_TEMPLATE_ID, Versions: ['7'] },
    ]);
    expect(autoscalingMock.commandCalls(ResumeProcessesCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: BLUE_GROUP, ScalingProcesses: ['AlarmNotification', 'ScheduledActions'] },
    ]);
    // Blue's group is only resumed: never detached nor deleted.
    const touched = autoscalingMock
      .calls()
      .map((c) => c.args[0].input as { AutoScalingGroupName?: string })
      .filter((input) => input.AutoScalingGroupName === BLUE_GROUP);
    expect(touched).toHaveLength(1);
    expect(result.terminated).toBe(3);
  });

  it("leaves suspended what blue's group had suspended before the deployment", async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    greenFleetFound();
    groupsFound();

    // Act
    await handler(
      groupStateWith({ green: greenFleet, failure }, { ...groupPlan, heldBefore: ['AlarmNotification'] }),
      context,
    );

    // Assess
    expect(autoscalingMock.commandCalls(ResumeProcessesCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: BLUE_GROUP, ScalingProcesses: ['ScheduledActions'] },
    ]);
  });

  it('leaves a group already being deleted to finish, deleting its template version again', async () => {
    // Prepare: a retry after the deletion started.
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    greenFleetFound();
    groupsFound(
      greenGroup({
        deleting: true,
        targetGroupArn:
          'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/0000000000000000',
      }),
    );
    ec2Mock.on(DeleteLaunchTemplateVersionsCommand).resolves({
      UnsuccessfullyDeletedLaunchTemplateVersions: [
        {
          LaunchTemplateId: LAUNCH_TEMPLATE_ID,
          VersionNumber: 7,
          ResponseError: {
            Code: 'launchTemplateVersionDoesNotExist',
            Message: 'Could not find launch template version 7',
          },
        },
      ],
    });

    // Act
    await handler(groupStateWith({ green: greenFleet, failure }), context);

    // Assess
    expect(autoscalingMock.commandCalls(DetachLoadBalancerTargetGroupsCommand)).toHaveLength(0);
    expect(autoscalingMock.commandCalls(DeleteAutoScalingGroupCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(DeleteLaunchTemplateVersionsCommand)).toHaveLength(1);
  });

  it('deregisters by their tags the instances of a group deleted while attached, detaching nothing (a group being deleted takes no change)', async () => {
    // Prepare: someone deleted green's group before the rollback; it is still attached to slot b.
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    greenFleetFound();
    groupsFound(greenGroup({ deleting: true }));
    autoscalingMock
      .on(DetachLoadBalancerTargetGroupsCommand)
      .rejects(
        awsError(
          'ScalingActivityInProgressFault',
          `AutoScalingGroup '${GREEN_GROUP}' is pending delete`,
          400,
        ),
      );

    // Act
    const result = await handler(groupStateWith({ green: greenFleet, failure }), context);

    // Assess
    expect(autoscalingMock.commandCalls(DetachLoadBalancerTargetGroupsCommand)).toHaveLength(0);
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TARGET_GROUP.b, Targets: [{ Id: GREEN_1 }, { Id: GREEN_2 }] },
    ]);
    expect(result.terminated).toBe(3);
  });

  it("refuses with RollbackBlocked, touching no group, while green's slot carries traffic", async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    greenFleetFound();
    groupsFound();

    // Act
    const run = handler(groupStateWith({ green: greenFleet, failure }), context);

    // Assess
    await expectFailure(run, 'RollbackBlocked', 'green slot b still carries traffic (a=50 b=50)');
    expect(autoscalingMock.calls()).toHaveLength(0);
  });
});
