import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/terminate-blue.ts';
import {
  BLUE_DEPLOYMENT_ID,
  BLUE_IDS,
  DEPLOYMENT_ID,
  fleetInstanceTags,
  greenFleet,
  lambdaContext,
  planFor,
  reservation,
  stateWith,
  TARGET_GROUP,
  weightedRecords,
} from './fixtures.ts';

const ec2Mock = mockClient(EC2Client);
const elbv2Mock = mockClient(ElasticLoadBalancingV2Client);
const route53Mock = mockClient(Route53Client);

afterEach(() => {
  ec2Mock.reset();
  elbv2Mock.reset();
  route53Mock.reset();
});

const context = lambdaContext('terminateBlue');
const [BLUE_1 = '', BLUE_2 = '', BLUE_3 = ''] = BLUE_IDS;
/** An instance of this very deployment that carries blue's slot tag: it must survive. */
const OWN_INSTANCE = 'i-0c9d8e7f6a5b4ffff';

function blueFleetFound() {
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [
      ...reservation(BLUE_IDS, fleetInstanceTags('a', '1.0.0', BLUE_DEPLOYMENT_ID)).Reservations,
      ...reservation([OWN_INSTANCE], fleetInstanceTags('a', '1.1.0', DEPLOYMENT_ID)).Reservations,
    ],
  });
  elbv2Mock.on(DescribeTargetHealthCommand).resolves({
    TargetHealthDescriptions: [
      { Target: { Id: BLUE_1, Port: 80 }, TargetHealth: { State: 'healthy' } },
      { Target: { Id: BLUE_2, Port: 80 }, TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered' } },
      { Target: { Id: BLUE_3, Port: 80 }, TargetHealth: { State: 'healthy' } },
    ],
  });
  ec2Mock.on(TerminateInstancesCommand).resolves({ TerminatingInstances: [] });
  elbv2Mock.on(DeregisterTargetsCommand).resolves({});
}

describe('terminate-blue', () => {
  it.each([[{ a: 100, b: 0 }], [{ a: 10, b: 90 }], [{ a: 1, b: 99 }]])(
    'refuses with TrafficDrift, deregistering and terminating nothing, while blue still has weight (%o)',
    async (weights) => {
      // Prepare
      route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(weights));
      blueFleetFound();

      // Act
      const run = handler(stateWith({ green: greenFleet }), context);

      // Assess
      await expect(run).rejects.toMatchObject({
        name: 'TrafficDrift',
        message: expect.stringContaining(
          `not terminating blue slot a: the records hold a=${weights.a} b=${weights.b}`,
        ),
      });
      expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
      expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
    },
  );

  it('refuses with TrafficDrift when neither slot carries traffic', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 0 }));
    blueFleetFound();

    // Act
    const run = handler(stateWith({ green: greenFleet }), context);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'TrafficDrift' });
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  });

  it('finds blue by its app, env and slot tags among the instances this service launched', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();

    // Act
    await handler(stateWith({ green: greenFleet }), context);

    // Assess
    const searches = ec2Mock.commandCalls(DescribeInstancesCommand);
    expect(searches).toHaveLength(1);
    expect(searches[0]?.args[0].input.Filters).toEqual([
      { Name: 'tag:bluegreen:managed-by', Values: ['bluegreen-ec2'] },
      { Name: 'tag:bluegreen:app', Values: ['web'] },
      { Name: 'tag:bluegreen:env', Values: ['prod'] },
      { Name: 'tag:bluegreen:slot', Values: ['a'] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
  });

  it('deregisters the registered blue targets, then terminates every blue instance', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();

    // Act
    const result = await handler(stateWith({ green: greenFleet }), context);

    // Assess
    const deregistrations = elbv2Mock.commandCalls(DeregisterTargetsCommand);
    expect(deregistrations).toHaveLength(1);
    expect(deregistrations[0]?.args[0].input).toEqual({
      TargetGroupArn: TARGET_GROUP.a,
      Targets: [{ Id: BLUE_1 }, { Id: BLUE_3 }],
    });
    const terminations = ec2Mock.commandCalls(TerminateInstancesCommand);
    expect(terminations).toHaveLength(1);
    expect(terminations[0]?.args[0].input).toEqual({ InstanceIds: BLUE_IDS });
    const [deregistration, termination] = [deregistrations[0], terminations[0]];
    if (!deregistration || !termination) throw new Error('expected one deregistration and one termination');
    expect(deregistration.calledBefore(termination)).toBe(true);
    expect(result).toMatchObject({ slot: 'a', deregistered: [BLUE_1, BLUE_3], terminated: BLUE_IDS });
  });

  it('never terminates an instance tagged with the current deployment id', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
    blueFleetFound();

    // Act
    const result = await handler(stateWith({ green: greenFleet }), context);

    // Assess
    const terminated = ec2Mock
      .commandCalls(TerminateInstancesCommand)
      .flatMap((c) => c.args[0].input.InstanceIds);
    expect(terminated).toHaveLength(3);
    expect(terminated).not.toContain(OWN_INSTANCE);
    const health = elbv2Mock.commandCalls(DescribeTargetHealthCommand)[0]?.args[0].input;
    expect(health?.Targets?.map((t) => t.Id)).not.toContain(OWN_INSTANCE);
    expect(result.terminated).not.toContain(OWN_INSTANCE);
  });

  it('terminates nothing, and says so, on a first deployment', async () => {
    // Prepare
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
    blueFleetFound();
    const firstDeploy = planFor({ a: 0, b: 0 }, 0);

    // Act
    const result = await handler(
      stateWith({ plan: firstDeploy, green: { ...greenFleet, slot: 'a' } }),
      context,
    );

    // Assess
    expect(result).toMatchObject({ slot: 'a', deregistered: [], terminated: [] });
    expect(ec2Mock.calls()).toHaveLength(0);
    expect(elbv2Mock.calls()).toHaveLength(0);
  });
});
