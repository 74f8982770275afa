import {
  type Activity,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
} from '@aws-sdk/client-auto-scaling';
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
  GREEN_GROUP,
  GREEN_IDS,
  greenFleet,
  greenGroup,
  groupStateWith,
  healthy,
  lambdaContext,
  planFor,
  stateWith,
  TARGET_GROUP,
  weightedRecords,
} from './fixtures.ts';

const { autoscalingMock, ec2Mock, elbv2Mock, route53Mock } = mockAws({ slotsOurs: true });

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

describe('check-green-health with fleet.kind autoScalingGroup', () => {
  const ACTIVITY_AT = new Date(Date.now() - 20_000);

  /** A scaling activity of green's group, as DescribeScalingActivities lists it. */
  function activity(description: string, status: string, extra: Partial<Activity> = {}): Activity {
    return {
      ActivityId: `a1b2c3d4-0000-4000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`,
      AutoScalingGroupName: GREEN_GROUP,
      Description: description,
      Cause: `At ${ACTIVITY_AT.toISOString()} a user request created an AutoScalingGroup changing the desired capacity from 0 to 3.`,
      StartTime: ACTIVITY_AT,
      StatusCode: status as 'Successful',
      Progress: 100,
      ...extra,
    };
  }

  function group(
    members: NonNullable<NonNullable<Parameters<typeof greenGroup>[0]>['members']>,
    activities: Activity[] = [],
  ) {
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [GREEN_GROUP] })
      .resolves({ AutoScalingGroups: [greenGroup({ members })] });
    autoscalingMock.on(DescribeScalingActivitiesCommand).resolves({ Activities: activities });
  }

  it("fails with CapacityShortfall giving Auto Scaling's reason when the group's launch failed", async () => {
    // Prepare: two of three in service, the third launch refused by EC2 three times in a row.
    const refused = () =>
      activity(
        'Launching a new EC2 instance.  Status Reason: We currently do not have sufficient t3.micro capacity.',
        'Failed',
        {
          StatusMessage:
            'We currently do not have sufficient t3.micro capacity in the Availability Zone you requested (us-east-1a). Launching EC2 instance failed.',
        },
      );
    group(
      [GREEN_1, GREEN_2],
      [
        refused(),
        refused(),
        refused(),
        activity(`Launching a new EC2 instance: ${GREEN_2}`, 'Successful'),
        activity(`Launching a new EC2 instance: ${GREEN_1}`, 'Successful'),
      ],
    );
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy([GREEN_1, GREEN_2]));

    // Act
    const run = handler(groupStateWith({ green: launchedSecondsAgo(60) }), context);

    // Assess
    await expectFailure(
      run,
      'CapacityShortfall',
      `green's group ${GREEN_GROUP}: the group could not launch all 3 instances (2 in service so far): We currently do not have sufficient t3.micro capacity in the Availability Zone you requested (us-east-1a). Launching EC2 instance failed`,
    );
  });

  it('keeps WAITING until its desired capacity is InService, though those in service are healthy', async () => {
    // Prepare: the third instance is still starting.
    group(
      [GREEN_1, GREEN_2, { id: GREEN_3, lifecycleState: 'Pending' }],
      [
        activity(`Launching a new EC2 instance: ${GREEN_3}`, 'InProgress'),
        activity(`Launching a new EC2 instance: ${GREEN_1}`, 'Successful'),
      ],
    );
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy([GREEN_1, GREEN_2]));

    // Act
    const waiting = await handler(groupStateWith({ green: launchedSecondsAgo(60) }), context);

    // Assess
    expect(waiting).toMatchObject({ status: 'WAITING', polls: 1 });

    // Prepare: in service and healthy.
    group(GREEN_IDS, [activity(`Launching a new EC2 instance: ${GREEN_3}`, 'Successful')]);
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy(GREEN_IDS));

    // Act
    const ready = await handler(groupStateWith({ green: launchedSecondsAgo(90) }), context);

    // Assess
    expect(ready).toMatchObject({ status: 'HEALTHY', healthyCount: 3, total: 3 });
    // The group registers its instances itself.
    expect(elbv2Mock.commandCalls(RegisterTargetsCommand)).toHaveLength(0);
  });

  it('fails with GreenUnhealthy when the group replaced more instances than its size', async () => {
    // Prepare: four instances terminated for failing the ELB health check, a group of three.
    const replaced = [
      'i-0feedface00000001',
      'i-0feedface00000002',
      'i-0feedface00000003',
      'i-0feedface00000004',
    ];
    group(
      GREEN_IDS,
      replaced.map((id) =>
        activity(`Terminating EC2 instance: ${id}`, 'Successful', {
          Cause: `At ${ACTIVITY_AT.toISOString()} an instance was taken out of service in response to an ELB system health check failure.`,
        }),
      ),
    );
    elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy(GREEN_IDS));

    // Act
    const run = handler(groupStateWith({ green: launchedSecondsAgo(300) }), context);

    // Assess
    await expectFailure(
      run,
      'GreenUnhealthy',
      `green's group ${GREEN_GROUP} replaced 4 instances that failed their health checks`,
    );
  });

  it("is retried while green's group is not listed yet (Auto Scaling is eventually consistent)", async () => {
    // Prepare
    autoscalingMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });

    // Act
    const run = handler(groupStateWith({ green: launchedSecondsAgo(60) }), context);

    // Assess
    await expectFailure(run, 'AwsTransient', `green's Auto Scaling group ${GREEN_GROUP} is not listed yet`);
  });

  it("fails with GreenUnhealthy when green's group is being deleted", async () => {
    // Prepare
    autoscalingMock
      .on(DescribeAutoScalingGroupsCommand)
      .resolves({ AutoScalingGroups: [greenGroup({ deleting: true })] });

    // Act
    const run = handler(groupStateWith({ green: launchedSecondsAgo(60) }), context);

    // Assess
    await expectFailure(
      run,
      'GreenUnhealthy',
      `green's Auto Scaling group ${GREEN_GROUP} is gone or being deleted`,
    );
  });
});
