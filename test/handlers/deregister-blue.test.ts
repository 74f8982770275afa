import {
  DescribeAutoScalingGroupsCommand,
  DetachLoadBalancerTargetGroupsCommand,
  ResumeProcessesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { handler } from '../../functions/deregister-blue.ts';
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
  blueRequestCountQuery,
  blueTargetGroup,
  DEPLOYMENT_ID,
  fleetInstanceTags,
  GREEN_GROUP,
  greenFleet,
  greenGroup,
  groupStateWith,
  healthy,
  lambdaContext,
  requestCounts,
  reservation,
  stateWith,
  TARGET_GROUP,
  weightedRecords,
} from './fixtures.ts';

const { autoscalingMock, cloudwatchMock, ec2Mock, elbv2Mock, route53Mock } = mockAws();

/** When the termination window ended and blue is retired. */
const NOW = freezeClock(new Date('2026-03-02T10:31:12.000Z'));

const context = lambdaContext('deregisterBlue');
/** An instance of this very deployment that carries blue's slot tag: it must never be touched. */
const OWN_INSTANCE = 'i-0c9d8e7f6a5b4ffff';

/** The attributes of blue's target group; `null` leaves the deregistration delay out. */
function targetGroupAttributes(delaySeconds: string | null) {
  return {
    Attributes: [
      { Key: 'stickiness.enabled', Value: 'false' },
      ...(delaySeconds === null
        ? []
        : [{ Key: 'deregistration_delay.timeout_seconds', Value: delaySeconds }]),
      { Key: 'stickiness.type', Value: 'lb_cookie' },
      { Key: 'load_balancing.algorithm.type', Value: 'round_robin' },
      { Key: 'slow_start.duration_seconds', Value: '0' },
    ],
  };
}

/**
 * Blue (plus a stray instance of this deployment in slot a): one of its three targets is not
 * registered. Unless told otherwise its target group still served a few requests per minute lately
 * (CloudWatch lists the newest minute first).
 */
function blueFleetFound({
  delaySeconds = '120',
  requestsPerMinute = [2, 5],
}: {
  delaySeconds?: string | null;
  requestsPerMinute?: number[];
} = {}) {
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [
      ...blueInstances().Reservations,
      ...reservation([OWN_INSTANCE], fleetInstanceTags('a', '1.1.0', DEPLOYMENT_ID)).Reservations,
    ],
  });
  elbv2Mock.on(DescribeTargetHealthCommand).resolves({
    TargetHealthDescriptions: [
      { Target: { Id: BLUE_1, Port: 80 }, HealthCheckPort: '80', TargetHealth: { State: 'healthy' } },
      {
        Target: { Id: BLUE_2, Port: 80 },
        TargetHealth: {
          State: 'unused',
          Reason: 'Target.NotRegistered',
          Description: 'Target is not registered to the target group',
        },
      },
      { Target: { Id: BLUE_3, Port: 80 }, HealthCheckPort: '80', TargetHealth: { State: 'healthy' } },
    ],
  });
  elbv2Mock.on(DeregisterTargetsCommand).resolves({});
  elbv2Mock.on(DescribeTargetGroupAttributesCommand).resolves(targetGroupAttributes(delaySeconds));
  elbv2Mock.on(DescribeTargetGroupsCommand).resolves(blueTargetGroup());
  cloudwatchMock.on(GetMetricDataCommand).resolves(requestCounts(requestsPerMinute, NOW));
}

const afterTheWindow = () => stateWith({ green: greenFleet });

describe('deregister-blue', () => {
  it.each([[{ a: 100, b: 0 }], [{ a: 10, b: 90 }], [{ a: 1, b: 99 }]])(
    'refuses with TrafficDrift, deregistering nothing, while blue still has weight (%o)',
    async (weights) => {
      // Prepare
      route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(weights));
      blueFleetFound();

      // Act
      const run = handler(afterTheWindow(), context);

      // Assess
      await expectFailure(
        run,
        'TrafficDrift',
        `not retiring blue slot a: the records hold a=${weights.a} b=${weights.b}`,
      );
      expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
      expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
    },
  );

  it('refuses with TrafficDrift, deregistering nothing, when green carries no traffic either', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 0 }));
    blueFleetFound();

    // Act
    const run = handler(afterTheWindow(), context);

    // Assess
    await expectFailure(run, 'TrafficDrift', 'the records hold a=0 b=0');
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  });

  it("refuses with TrafficDrift when green's weighted record is gone", async () => {
    // Prepare
    const records = weightedRecords({ a: 0, b: 100 });
    route53Mock.on(ListResourceRecordSetsCommand).resolves({
      ...records,
      ResourceRecordSets: records.ResourceRecordSets.filter((r) => r.SetIdentifier === 'a'),
    });
    blueFleetFound();

    // Act
    const run = handler(afterTheWindow(), context);

    // Assess
    await expectFailure(run, 'TrafficDrift', 'the records hold a=0 b=no record');
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('finds blue by its app, env and slot tags among the instances this service launched', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();

    // Act
    await handler(afterTheWindow(), context);

    // Assess
    const searches = ec2Mock.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.Filters);
    expect(searches).toContainEqual([
      { Name: 'tag:bluegreen:managed-by', Values: ['bluegreen-ec2'] },
      { Name: 'tag:bluegreen:app', Values: ['web'] },
      { Name: 'tag:bluegreen:env', Values: ['prod'] },
      { Name: 'tag:bluegreen:slot', Values: ['a'] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
    // And the instances behind the registered targets, in any state, to tell which are blue's.
    expect(searches).toContainEqual([{ Name: 'instance-id', Values: [BLUE_1, BLUE_3] }]);
  });

  it('deregisters only the blue targets that are registered, from blue’s target group', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    const lookups = elbv2Mock.commandCalls(DescribeTargetHealthCommand);
    expect(lookups.map((c) => c.args[0].input)).toEqual([{ TargetGroupArn: TARGET_GROUP.a }]);
    const deregistrations = elbv2Mock.commandCalls(DeregisterTargetsCommand);
    expect(deregistrations.map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TARGET_GROUP.a, Targets: [{ Id: BLUE_1 }, { Id: BLUE_3 }] },
    ]);
    const [lookup, deregistration] = [lookups[0], deregistrations[0]];
    if (!lookup || !deregistration)
      throw new Error('expected one target health lookup and one deregistration');
    expect(lookup.calledBefore(deregistration)).toBe(true);
    expect(result).toMatchObject({ slot: 'a', instances: 3, deregistered: 2 });
  });

  it('keeps watching targets already draining when it is retried after deregistering them', async () => {
    // Prepare: the first attempt deregistered blue, then failed before it could answer.
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();
    elbv2Mock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [BLUE_1, BLUE_2, BLUE_3].map((Id) => ({
        Target: { Id, Port: 80 },
        TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress' },
      })),
    });

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)).toHaveLength(1);
    expect(result).toMatchObject({ deregistered: 0, drained: false, reason: 'draining' });
  });

  it('never touches an instance tagged with the current deployment id', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();
    // It is even registered in blue's target group.
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy([BLUE_1, BLUE_2, BLUE_3, OWN_INSTANCE]));

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    const deregistered = elbv2Mock
      .commandCalls(DeregisterTargetsCommand)
      .flatMap((c) => c.args[0].input.Targets?.map((t) => t.Id) ?? []);
    expect(deregistered).toEqual(BLUE_IDS);
    expect(result).toMatchObject({ instances: 3, deregistered: 3 });
  });

  it('reads the deregistration delay of blue’s target group and drains until it is over', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound({ delaySeconds: '120' });

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    expect(elbv2Mock.commandCalls(DescribeTargetGroupAttributesCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TARGET_GROUP.a },
    ]);
    expect(result).toEqual({
      slot: 'a',
      instances: 3,
      deregistered: 2,
      deregisteredAt: '2026-03-02T10:31:12.000Z',
      drainUntil: '2026-03-02T10:33:12.000Z',
      drained: false,
      reason: 'draining',
      polls: 0,
      // (120 s delay + 60 s margin) / 30 s per check, plus one.
      maxPolls: 7,
      pollSeconds: 30,
      nextCheckSeconds: 30,
    });
  });

  it('drains for 300 s, the ELB default, when the target group does not list its delay', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound({ delaySeconds: null });

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    expect(result).toMatchObject({
      drained: false,
      deregisteredAt: '2026-03-02T10:31:12.000Z',
      drainUntil: '2026-03-02T10:36:12.000Z',
      maxPolls: 13,
      nextCheckSeconds: 30,
    });
  });

  it('checks first when the delay is over if that comes before the usual 30 s', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound({ delaySeconds: '10' });

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    expect(result).toMatchObject({
      drained: false,
      drainUntil: '2026-03-02T10:31:22.000Z',
      maxPolls: 4,
      nextCheckSeconds: 10,
    });
  });

  it('spaces the checks of a long delay so that they stay within 21, the delay plus a margin', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound({ delaySeconds: '3600' });

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    expect(result).toMatchObject({
      drained: false,
      drainUntil: '2026-03-02T11:31:12.000Z',
      maxPolls: 21,
      pollSeconds: 183,
      nextCheckSeconds: 183,
    });
    expect(result.maxPolls * result.pollSeconds).toBeGreaterThanOrEqual(3600 + 60);
  });

  it('checks again after a second when the target group drains for no time at all', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound({ delaySeconds: '0' });

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    expect(result).toMatchObject({
      drained: false,
      drainUntil: '2026-03-02T10:31:12.000Z',
      nextCheckSeconds: 1,
    });
  });

  it('deregisters nothing and reports blue drained when none of its targets is registered', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();
    elbv2Mock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: BLUE_IDS.map((Id) => ({
        Target: { Id, Port: 80 },
        TargetHealth: {
          State: 'unused' as const,
          Reason: 'Target.NotRegistered' as const,
          Description: 'Target is not registered to the target group',
        },
      })),
    });

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
    expect(elbv2Mock.commandCalls(DescribeTargetGroupsCommand)).toHaveLength(0);
    expect(cloudwatchMock.calls()).toHaveLength(0);
    expect(result).toMatchObject({
      slot: 'a',
      instances: 3,
      deregistered: 0,
      drained: true,
      reason: 'nothing that could serve was registered',
    });
  });

  it('reports blue drained, deregistering nothing, when no blue instance is left and none is registered', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    elbv2Mock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
    expect(cloudwatchMock.calls()).toHaveLength(0);
    expect(result).toMatchObject({
      instances: 0,
      deregistered: 0,
      drained: true,
      reason: 'nothing that could serve was registered',
    });
  });

  it('deregisters a blue target whose instance died outside the service, with nothing to drain', async () => {
    // Prepare: blue 2 was terminated by someone else; ELB still lists it (unused, InvalidState).
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();
    elbv2Mock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        {
          Target: { Id: BLUE_2, Port: 80 },
          TargetHealth: { State: 'unused', Reason: 'Target.InvalidState' },
        },
      ],
    });
    const dead = reservation([BLUE_2], fleetInstanceTags('a', '1.0.0', BLUE_DEPLOYMENT_ID));
    const [instance] = dead.Reservations[0]?.Instances ?? [];
    if (instance) instance.State = { Code: 48, Name: 'terminated' as never };
    ec2Mock
      .on(DescribeInstancesCommand, { Filters: [{ Name: 'instance-id', Values: [BLUE_2] }] })
      .resolves(dead);

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TARGET_GROUP.a, Targets: [{ Id: BLUE_2 }] },
    ]);
    expect(result).toMatchObject({ deregistered: 1, drained: true });
  });

  it('reports blue drained at once when its target group served no request in the last 120 s', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound({ delaySeconds: '300', requestsPerMinute: [0, 0] });

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(1);
    expect(result).toEqual({
      slot: 'a',
      instances: 3,
      deregistered: 2,
      deregisteredAt: '2026-03-02T10:31:12.000Z',
      drainUntil: '2026-03-02T10:36:12.000Z',
      drained: true,
      reason: 'no request in the last 120 s',
      polls: 0,
      maxPolls: 13,
      pollSeconds: 30,
      nextCheckSeconds: 0,
    });
  });

  it('counts no RequestCount data point as idle and reports blue drained at once', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound({ requestsPerMinute: [] });

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    expect(result).toMatchObject({ drained: true, reason: 'no request in the last 120 s' });
  });

  it('keeps draining when blue’s target group served requests in the last 120 s', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound({ requestsPerMinute: [0, 1] });

    // Act
    const result = await handler(afterTheWindow(), context);

    // Assess
    expect(cloudwatchMock.commandCalls(GetMetricDataCommand)).toHaveLength(1);
    expect(result).toMatchObject({ drained: false, reason: 'draining', polls: 0, nextCheckSeconds: 30 });
  });

  it('asks CloudWatch, after deregistering, for the RequestCount of blue’s target group over 120 s', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound({ requestsPerMinute: [0, 0] });

    // Act
    await handler(afterTheWindow(), context);

    // Assess
    expect(elbv2Mock.commandCalls(DescribeTargetGroupsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArns: [TARGET_GROUP.a] },
    ]);
    const queries = cloudwatchMock.commandCalls(GetMetricDataCommand);
    expect(queries.map((c) => c.args[0].input)).toEqual([
      blueRequestCountQuery(new Date('2026-03-02T10:29:12.000Z'), NOW),
    ]);
    const [deregistration, query] = [elbv2Mock.commandCalls(DeregisterTargetsCommand)[0], queries[0]];
    if (!deregistration || !query) throw new Error('expected one deregistration and one metric query');
    expect(deregistration.calledBefore(query)).toBe(true);
  });
});

describe('deregister-blue with fleet.kind autoScalingGroup', () => {
  function groupsFound() {
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [BLUE_GROUP] })
      .resolves({ AutoScalingGroups: [blueGroup()] });
    // Green's minimum held at its size while traffic moved.
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [GREEN_GROUP] })
      .resolves({ AutoScalingGroups: [greenGroup({ min: 3 })] });
    autoscalingMock.on(DetachLoadBalancerTargetGroupsCommand).resolves({});
    autoscalingMock.on(UpdateAutoScalingGroupCommand).resolves({});
  }

  it("detaches blue's group from blue's target group, before deregistering what is left", async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();
    groupsFound();

    // Act
    await handler(groupStateWith({ green: greenFleet }), context);

    // Assess
    const detached = autoscalingMock.commandCalls(DetachLoadBalancerTargetGroupsCommand);
    expect(detached.map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: BLUE_GROUP, TargetGroupARNs: [TARGET_GROUP.a] },
    ]);
    const [deregistration] = elbv2Mock.commandCalls(DeregisterTargetsCommand);
    if (!detached[0] || !deregistration) throw new Error('expected a detach and a deregistration');
    expect(detached[0].calledBefore(deregistration)).toBe(true);
  });

  it("lets green's group scale in again: it is the live fleet from here on, even if blue's retirement fails later", async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();
    groupsFound();

    // Act
    await handler(groupStateWith({ green: greenFleet }), context);

    // Assess
    // Its minimum back to blue's; no process of it was suspended.
    expect(autoscalingMock.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: GREEN_GROUP, MinSize: 2 },
    ]);
    expect(autoscalingMock.commandCalls(ResumeProcessesCommand)).toHaveLength(0);
  });

  it("waits for blue's group's instances to drain though none carries the service's tags (an adopted group's older ones)", async () => {
    // Prepare: blue's target group still serves requests; its registered instances carry no tags
    // of ours (launched before the group was tagged), so only the detach takes them out.
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound({ requestsPerMinute: [40, 55] });
    ec2Mock.on(DescribeInstancesCommand).resolves(reservation([BLUE_1, BLUE_2, BLUE_3], []));
    groupsFound();

    // Act
    const drain = await handler(groupStateWith({ green: greenFleet }), context);

    // Assess
    expect(drain).toMatchObject({ drained: false, reason: 'draining', instances: 3 });
    expect(autoscalingMock.commandCalls(DetachLoadBalancerTargetGroupsCommand)).toHaveLength(1);
  });

  it("sets green's minimum only while it is held above blue's (a retry changes nothing more)", async () => {
    // Prepare: an earlier try set it back already.
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();
    groupsFound();
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [GREEN_GROUP] })
      .resolves({ AutoScalingGroups: [greenGroup({ min: 2 })] });

    // Act
    await handler(groupStateWith({ green: greenFleet }), context);

    // Assess
    expect(autoscalingMock.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
  });

  it('touches no group while blue still has weight', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 10, b: 90 }));
    blueFleetFound();
    groupsFound();

    // Act
    const run = handler(groupStateWith({ green: greenFleet }), context);

    // Assess
    await expectFailure(run, 'TrafficDrift', 'not retiring blue slot a');
    expect(autoscalingMock.calls()).toHaveLength(0);
  });
});
