import {
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DetachLoadBalancerTargetGroupsCommand,
  ResumeProcessesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeleteLaunchTemplateVersionsCommand,
  DescribeInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { beforeEach, describe, expect, it } from 'vitest';
import type { BlueDrain } from '#shared/domain/workflow.ts';
import { handler } from '../../functions/terminate-blue.ts';
import { expectFailure } from '../support/failures.ts';
import { freezeClock, mockAws } from './aws-mocks.ts';
import {
  BLUE_1,
  BLUE_2,
  BLUE_3,
  BLUE_DEPLOYMENT_ID,
  BLUE_GROUP,
  BLUE_IDS,
  blueGroup,
  blueInstances,
  fleetInstanceTags,
  GREEN_GROUP,
  greenFleet,
  greenGroup,
  greenInstances,
  groupStateWith,
  LAUNCH_TEMPLATE_ID,
  lambdaContext,
  planFor,
  RECORD_NAME,
  reservation,
  stateWith,
  weightedRecords,
  ZONE_ID,
} from './fixtures.ts';

const { autoscalingMock, ec2Mock, elbv2Mock, route53Mock } = mockAws();

freezeClock(new Date('2026-03-02T10:37:42.000Z'));
beforeEach(() => {
  // A search answering more than blue (this deployment's green too): only blue may be terminated.
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [...blueInstances().Reservations, ...greenInstances().Reservations],
  });
  ec2Mock.on(TerminateInstancesCommand).resolves({
    TerminatingInstances: BLUE_IDS.map((InstanceId) => ({
      InstanceId,
      CurrentState: { Code: 32, Name: 'shutting-down' },
      PreviousState: { Code: 16, Name: 'running' },
    })),
  });
});

const context = lambdaContext('terminateBlue');

/** Blue as check-drain left it: slot a, two of its three instances deregistered and drained. */
function drained(extra: Partial<BlueDrain> = {}): BlueDrain {
  return {
    slot: 'a',
    instances: BLUE_IDS.length,
    deregistered: 2,
    deregisteredAt: '2026-03-02T10:31:12.000Z',
    drainUntil: '2026-03-02T10:36:12.000Z',
    drained: true,
    reason: 'ELB finished draining',
    polls: 4,
    maxPolls: 13,
    pollSeconds: 30,
    nextCheckSeconds: 0,
    ...extra,
  };
}

const terminating = (drain: BlueDrain = drained()) => stateWith({ green: greenFleet, drain });

describe('terminate-blue', () => {
  it.each([[{ a: 100, b: 0 }], [{ a: 10, b: 90 }], [{ a: 1, b: 99 }]])(
    'refuses with TrafficDrift, terminating nothing, when the drained slot has weight again (%o)',
    async (weights) => {
      // Prepare
      route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(weights));

      // Act
      const run = handler(terminating(), context);

      // Assess
      await expectFailure(
        run,
        'TrafficDrift',
        `not terminating blue slot a: the records hold a=${weights.a} b=${weights.b}`,
      );
      expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
    },
  );

  it('reads the weighted records of the deployment before terminating anything', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));

    // Act
    await handler(terminating(), context);

    // Assess
    const reads = route53Mock.commandCalls(ListResourceRecordSetsCommand);
    expect(reads.map((c) => c.args[0].input)).toEqual([
      { HostedZoneId: ZONE_ID, StartRecordName: RECORD_NAME, StartRecordType: 'A', MaxItems: 100 },
    ]);
    const [read, termination] = [reads[0], ec2Mock.commandCalls(TerminateInstancesCommand)[0]];
    if (!read || !termination) throw new Error('expected one read of the records and one termination');
    expect(read.calledBefore(termination)).toBe(true);
  });

  it("terminates blue's instances found by its slot's tags, never this deployment's own", async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));

    // Act
    const result = await handler(terminating(), context);

    // Assess
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'tag:bluegreen:managed-by', Values: ['bluegreen-ec2'] },
      { Name: 'tag:bluegreen:app', Values: ['web'] },
      { Name: 'tag:bluegreen:env', Values: ['prod'] },
      { Name: 'tag:bluegreen:slot', Values: ['a'] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
    expect(ec2Mock.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceIds: [BLUE_1, BLUE_2, BLUE_3] },
    ]);
    expect(elbv2Mock.calls()).toHaveLength(0);
    // Counts, not ids: the execution state must not grow with the fleet.
    expect(result).toEqual({ slot: 'a', deregistered: 2, terminated: 3, at: '2026-03-02T10:37:42.000Z' });
  });

  it('terminates only what still runs when it is retried after a termination that took effect in part', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(reservation([BLUE_2], fleetInstanceTags('a', '1.0.0', BLUE_DEPLOYMENT_ID)));

    // Act
    const result = await handler(terminating(), context);

    // Assess
    expect(ec2Mock.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceIds: [BLUE_2] },
    ]);
    expect(result.terminated).toBe(1);
  });

  it('terminates nothing, and says so, when no blue instance is left', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });

    // Act
    const result = await handler(terminating(drained({ instances: 0, deregistered: 0 })), context);

    // Assess
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
    expect(result).toEqual({ slot: 'a', deregistered: 0, terminated: 0, at: '2026-03-02T10:37:42.000Z' });
  });

  it('judges the weight of the slot that was drained, slot b when blue was b', async () => {
    // Prepare
    const blueIsB = stateWith({
      plan: planFor({ a: 0, b: 100 }),
      green: { ...greenFleet, slot: 'a' },
      drain: drained({ slot: 'b' }),
    });
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));

    // Act
    const run = handler(blueIsB, context);

    // Assess
    await expectFailure(run, 'TrafficDrift', 'not terminating blue slot b: the records hold a=0 b=100');
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  });

  it('refuses to run without the drain that deregister-blue and check-drain write', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));

    // Act
    const run = handler(stateWith({ green: greenFleet }), context);

    // Assess
    await expectFailure(run, 'TypeError', 'execution state is missing drain');
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  });
});

describe('terminate-blue with fleet.kind autoScalingGroup', () => {
  beforeEach(() => {
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [BLUE_GROUP] })
      .resolves({ AutoScalingGroups: [blueGroup({ targetGroupArn: 'none' })] });
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [GREEN_GROUP] })
      .resolves({ AutoScalingGroups: [greenGroup({ min: 3 })] });
    autoscalingMock.on(DeleteAutoScalingGroupCommand).resolves({});
    autoscalingMock.on(UpdateAutoScalingGroupCommand).resolves({});
    ec2Mock.on(DeleteLaunchTemplateVersionsCommand).resolves({
      SuccessfullyDeletedLaunchTemplateVersions: [{ LaunchTemplateId: LAUNCH_TEMPLATE_ID, VersionNumber: 6 }],
    });
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
  });

  it("deletes blue's group and the template version it was made from, and leaves green's alone (deregister-blue let it scale in)", async () => {
    // Act
    const result = await handler(groupStateWith({ green: greenFleet, drain: drained() }), context);

    // Assess
    expect(autoscalingMock.commandCalls(DeleteAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: BLUE_GROUP, ForceDelete: true },
    ]);
    expect(ec2Mock.commandCalls(DeleteLaunchTemplateVersionsCommand).map((c) => c.args[0].input)).toEqual([
      { LaunchTemplateId: LAUNCH_TEMPLATE_ID, Versions: ['6'] },
    ]);
    // Detached by deregister-blue already.
    expect(autoscalingMock.commandCalls(DetachLoadBalancerTargetGroupsCommand)).toHaveLength(0);
    expect(autoscalingMock.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
    expect(autoscalingMock.commandCalls(ResumeProcessesCommand)).toHaveLength(0);
    expect(result.terminated).toBe(3);
  });

  it("deletes no group blue's name finds that is not the service's", async () => {
    // Prepare: the group by that name was replaced by one someone else made.
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [BLUE_GROUP] })
      .resolves({ AutoScalingGroups: [blueGroup({ tags: [{ Key: 'team', Value: 'web' }] })] });

    // Act
    await handler(groupStateWith({ green: greenFleet, drain: drained() }), context);

    // Assess
    expect(autoscalingMock.commandCalls(DeleteAutoScalingGroupCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(DeleteLaunchTemplateVersionsCommand)).toHaveLength(0);
  });

  it("keeps green's group held, deleting nothing, when the drained slot has weight again", async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 10, b: 90 }));

    // Act
    const run = handler(groupStateWith({ green: greenFleet, drain: drained() }), context);

    // Assess
    await expectFailure(run, 'TrafficDrift', 'not terminating blue slot a');
    expect(autoscalingMock.calls()).toHaveLength(0);
  });
});
