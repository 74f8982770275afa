import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
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
  DEPLOYMENT_ID,
  fleetInstanceTags,
  GREEN_1,
  GREEN_2,
  GREEN_3,
  GREEN_IDS,
  greenFleet,
  greenInstances,
  lambdaContext,
  reservation,
  stateWith,
  TARGET_GROUP,
  targetHealth,
  weightedRecords,
} from './fixtures.ts';

const { ec2Mock, elbv2Mock, route53Mock } = mockAws({ slotsOurs: true });

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
