import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/drain-green.ts';
import { mockAws } from './aws-mocks.ts';
import {
  GREEN_1,
  GREEN_2,
  GREEN_3,
  GREEN_IDS,
  greenFleet,
  greenInstances,
  lambdaContext,
  stateWith,
  TARGET_GROUP,
  targetHealth,
  weightedRecords,
} from './fixtures.ts';

const { ec2Mock, elbv2Mock, route53Mock } = mockAws({ slotsOurs: true });

const context = lambdaContext('drainGreen');
const state = stateWith({ green: greenFleet });

function targets(states: [string, string, string?][]) {
  elbv2Mock.on(DescribeTargetHealthCommand).resolves(targetHealth(states));
}

beforeEach(() => {
  route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
  ec2Mock.on(DescribeInstancesCommand).resolves(greenInstances());
  elbv2Mock.on(DeregisterTargetsCommand).resolves({});
  elbv2Mock.on(DescribeTargetGroupAttributesCommand).resolves({
    Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '120' }],
  });
});

describe('drain-green', () => {
  it("deregisters green's registered targets and waits the target group's deregistration delay", async () => {
    targets([
      [GREEN_1, 'healthy'],
      [GREEN_2, 'unhealthy', 'Target.FailedHealthChecks'],
      [GREEN_3, 'unused', 'Target.NotRegistered'],
    ]);

    const drain = await handler(state, context);

    expect(drain).toEqual({ instances: GREEN_IDS.length, deregistered: 2, drainSeconds: 120 });
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)[0]?.args[0].input).toEqual({
      TargetGroupArn: TARGET_GROUP.b,
      Targets: [{ Id: GREEN_1 }, { Id: GREEN_2 }],
    });
  });

  it('still waits out the delay when a retry finds them draining already', async () => {
    targets([
      [GREEN_1, 'draining', 'Target.DeregistrationInProgress'],
      [GREEN_2, 'draining', 'Target.DeregistrationInProgress'],
    ]);

    const drain = await handler(state, context);

    expect(drain).toMatchObject({ deregistered: 0, drainSeconds: 120 });
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });

  it('waits for nothing when nothing of green was in service', async () => {
    targets([[GREEN_1, 'unused', 'Target.NotRegistered']]);

    expect(await handler(state, context)).toMatchObject({ deregistered: 0, drainSeconds: 0 });
  });

  it('refuses while green carries traffic', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));

    await expect(handler(state, context)).rejects.toMatchObject({ name: 'RollbackBlocked' });
    expect(elbv2Mock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
  });
});
