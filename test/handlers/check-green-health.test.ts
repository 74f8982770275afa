import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { beforeEach, describe, expect, it } from 'vitest';
import type { GreenFleet } from '#shared/domain/workflow.ts';
import { handler } from '../../functions/check-green-health.ts';
import { expectFailure } from '../support/failures.ts';
import { mockAws } from './aws-mocks.ts';
import {
  GREEN_1,
  GREEN_2,
  GREEN_3,
  GREEN_IDS,
  greenFleet,
  healthy,
  lambdaContext,
  planFor,
  stateWith,
  TARGET_GROUP,
  weightedRecords,
} from './fixtures.ts';

const { ec2Mock, elbv2Mock, route53Mock } = mockAws({ slotsOurs: true });

// Blue serves all traffic, unless a test says otherwise.
beforeEach(() => {
  route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
});

const context = lambdaContext('checkGreenHealth');

function launchedSecondsAgo(seconds: number): GreenFleet {
  return { ...greenFleet, launchedAt: new Date(Date.now() - seconds * 1000).toISOString() };
}

function instances(states: Record<string, 'pending' | 'running' | 'terminated' | 'shutting-down'>) {
  return {
    Reservations: [
      {
        Instances: Object.entries(states).map(([InstanceId, Name]) => ({
          InstanceId,
          State: { Name },
          ...(Name === 'terminated'
            ? {
                StateReason: {
                  Code: 'Server.InsufficientInstanceCapacity',
                  Message: 'Server.InsufficientInstanceCapacity: Insufficient capacity',
                },
              }
            : {}),
        })),
      },
    ],
  };
}

const notRegistered = (Id: string) => ({
  Target: { Id },
  TargetHealth: { State: 'unused' as const, Reason: 'Target.NotRegistered' as const },
});

describe('check-green-health', () => {
  it('registers the running green instances ELB does not know yet, and keeps waiting', async () => {
    // Prepare
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(instances({ [GREEN_1]: 'running', [GREEN_2]: 'pending', [GREEN_3]: 'running' }));
    elbv2Mock
      .on(DescribeTargetHealthCommand)
      .resolves({ TargetHealthDescriptions: GREEN_IDS.map(notRegistered) });
    elbv2Mock.on(RegisterTargetsCommand).resolves({});

    // Act
    const result = await handler(stateWith({ green: launchedSecondsAgo(30) }), context);

    // Assess
    expect(elbv2Mock.commandCalls(RegisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: TARGET_GROUP.b, Targets: [{ Id: GREEN_1 }, { Id: GREEN_3 }] },
    ]);
    expect(result).toMatchObject({ status: 'WAITING', polls: 1, healthyCount: 0, total: 3 });
  });

  it('reports HEALTHY once every green target is healthy, registering nothing', async () => {
    // Prepare
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(instances({ [GREEN_1]: 'running', [GREEN_2]: 'running', [GREEN_3]: 'running' }));
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy(GREEN_IDS));

    // Act
    const result = await handler(
      stateWith({
        green: launchedSecondsAgo(240),
        health: {
          status: 'WAITING',
          polls: 8,
          healthyCount: 2,
          total: 3,
          summary: '2 of 3 green targets healthy',
        },
      }),
      context,
    );

    // Assess
    expect(result).toMatchObject({
      status: 'HEALTHY',
      polls: 9,
      healthyCount: 3,
      total: 3,
      healthyAt: expect.any(String),
    });
    expect(elbv2Mock.commandCalls(RegisterTargetsCommand)).toHaveLength(0);
  });

  it('fails with CapacityShortfall naming a green instance that died while booting', async () => {
    // Prepare
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(instances({ [GREEN_1]: 'running', [GREEN_2]: 'terminated', [GREEN_3]: 'running' }));
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy(GREEN_IDS));

    // Act
    const run = handler(stateWith({ green: launchedSecondsAgo(60) }), context);

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'CapacityShortfall',
      message: expect.stringContaining(`${GREEN_2} terminated (Server.InsufficientInstanceCapacity`),
    });
    expect(elbv2Mock.commandCalls(RegisterTargetsCommand)).toHaveLength(0);
  });

  it('fails with GreenUnhealthy once the health timeout has passed since launch', async () => {
    // Prepare
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(instances({ [GREEN_1]: 'running', [GREEN_2]: 'running', [GREEN_3]: 'running' }));
    elbv2Mock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: GREEN_IDS.map((Id) => ({
        Target: { Id, Port: 80 },
        TargetHealth: { State: 'unhealthy' as const, Reason: 'Target.ResponseCodeMismatch' as const },
      })),
    });
    const timeout = planFor().health.timeoutSeconds;

    // Act
    const run = handler(stateWith({ green: launchedSecondsAgo(timeout + 5) }), context);

    // Assess
    await expectFailure(
      run,
      'GreenUnhealthy',
      /green not healthy \d+ s after launch: 0 of 3 green targets healthy.*Target\.ResponseCodeMismatch/,
    );
  });

  it('fails with GreenUnhealthy when the polls reach the bound, however recent the launch', async () => {
    // Prepare
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(instances({ [GREEN_1]: 'running', [GREEN_2]: 'running', [GREEN_3]: 'running' }));
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy([GREEN_1]));
    const maxPolls = planFor().health.maxPolls;

    // Act
    const run = handler(
      stateWith({
        green: launchedSecondsAgo(60),
        health: { status: 'WAITING', polls: maxPolls - 1, healthyCount: 1, total: 3, summary: '1 of 3' },
      }),
      context,
    );

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'GreenUnhealthy' });
  });
});
