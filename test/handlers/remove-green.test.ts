import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/remove-green.ts';
import {
  DEPLOYMENT_ID,
  fleetInstanceTags,
  GREEN_IDS,
  greenFleet,
  lambdaContext,
  reservation,
  slotTags,
  stateWith,
  TARGET_GROUP,
  weightedRecords,
} from './fixtures.ts';

const ec2Mock = mockClient(EC2Client);
const elbv2Mock = mockClient(ElasticLoadBalancingV2Client);
const route53Mock = mockClient(Route53Client);

// Green's slot is this deployment's (its target group's tags), unless a test says otherwise.
beforeEach(() => {
  elbv2Mock.on(DescribeTagsCommand).callsFake(slotTags());
});

afterEach(() => {
  ec2Mock.reset();
  elbv2Mock.reset();
  route53Mock.reset();
});

const context = lambdaContext('removeGreen');
const [GREEN_1 = '', GREEN_2 = '', GREEN_3 = ''] = GREEN_IDS;
const failure = { Error: 'AlarmTriggered', Cause: 'alarm in ALARM: web-prod-5xx (Threshold Crossed)' };

function greenFleetFound() {
  ec2Mock
    .on(DescribeInstancesCommand)
    .resolves(reservation(GREEN_IDS, fleetInstanceTags('b', '1.1.0', DEPLOYMENT_ID)));
  elbv2Mock.on(DescribeTargetHealthCommand).resolves({
    TargetHealthDescriptions: [
      {
        Target: { Id: GREEN_1, Port: 80 },
        TargetHealth: { State: 'unhealthy', Reason: 'Target.FailedHealthChecks' },
      },
      { Target: { Id: GREEN_2, Port: 80 }, TargetHealth: { State: 'healthy' } },
      {
        Target: { Id: GREEN_3, Port: 80 },
        TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered' },
      },
    ],
  });
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
    await expect(run).rejects.toMatchObject({
      name: 'RollbackBlocked',
      message: expect.stringContaining('green slot b still carries traffic (a=90 b=10)'),
    });
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
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'tag:bluegreen:managed-by', Values: ['bluegreen-ec2'] },
      { Name: 'tag:bluegreen:deployment-id', Values: [DEPLOYMENT_ID] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
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
    expect(result).toEqual({
      deregistered: [GREEN_1, GREEN_2],
      terminated: GREEN_IDS,
      summary: `green instances terminated: ${GREEN_IDS.join(', ')}`,
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
    expect(result.terminated).toEqual(GREEN_IDS);
  });

  it('calls nothing destructive, and says so, when no instance of this deployment is left', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });

    // Act
    const result = await handler(stateWith({ failure }), context);

    // Assess
    expect(result).toEqual({ deregistered: [], terminated: [], summary: 'no green instances to terminate' });
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });
});
