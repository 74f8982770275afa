import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTagsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListImageBuildVersionsCommand } from '@aws-sdk/client-imagebuilder';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
} from '@aws-sdk/client-route-53';
import { GetExecutionHistoryCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ExecutionStatusChange } from '#shared/domain/recovery.ts';
import type { Plan } from '#shared/domain/workflow.ts';
import { handler } from '../../functions/recover-execution.ts';
import { mockAws } from './aws-mocks.ts';
import {
  awsError,
  BLUE_IDS,
  DEPLOYMENT_ID,
  deployment,
  GREEN_IDS,
  greenInstances,
  healingPlan,
  healthy,
  lambdaContext,
  planFor,
  SPLIT,
  slotTags,
  TARGET_GROUP,
  weightedRecords,
} from './fixtures.ts';

const { dynamodbMock, ec2Mock, elbv2Mock, imagebuilderMock, route53Mock, sfnMock, snsMock } = mockAws({
  slotsOurs: true,
});

const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:bluegreen-deploy:${DEPLOYMENT_ID}`;
const ROLLBACK_MACHINE = process.env.ROLLBACK_STATE_MACHINE_ARN ?? '';
const ROLLBACK_ARN = `${ROLLBACK_MACHINE.replace(':stateMachine:', ':execution:')}:${DEPLOYMENT_ID}-rollback`;

/** The execution the operator stopped `stoppedMsAgo` ago, whose "Plan the deployment" state wrote `plan`. */
function stopped(plan: Plan, stoppedMsAgo = 5_000): EventBridgeEvent<string, ExecutionStatusChange> {
  sfnMock.on(GetExecutionHistoryCommand).resolves({
    events: [
      {
        id: 5,
        type: 'TaskStateExited',
        timestamp: new Date('2026-03-02T09:00:01Z'),
        stateExitedEventDetails: { name: 'Plan the deployment', output: JSON.stringify({ plan }) },
      },
    ],
  });
  return {
    id: 'e-1',
    version: '0',
    account: '123456789012',
    time: '2026-03-02T09:40:00Z',
    region: 'us-east-1',
    resources: [EXECUTION_ARN],
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    detail: {
      executionArn: EXECUTION_ARN,
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:bluegreen-deploy',
      name: DEPLOYMENT_ID,
      status: 'ABORTED',
      stopDate: Date.now() - stoppedMsAgo,
      input: JSON.stringify(deployment),
    },
  };
}

/** A Lambda context with this much time left. */
function withTimeLeft(ms: number): Context {
  return { ...lambdaContext('recoverExecution'), getRemainingTimeInMillis: () => ms };
}

/** The app/env lock item, held by `owner`. */
function lockHeldBy(owner: string) {
  return {
    Item: marshall({
      id: 'web/prod',
      version: 4,
      owner: { name: owner, executionArn: EXECUTION_ARN, uploadedAt: '2026-03-02T08:59:00.000Z', since: '' },
      waiters: [],
    }),
  };
}

beforeEach(() => {
  // The stopped deployment still holds the lock: nothing has recovered it yet.
  dynamodbMock.on(GetItemCommand).resolves(lockHeldBy(DEPLOYMENT_ID));
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  // No build of this deployment's recipe is still running.
  imagebuilderMock.on(ListImageBuildVersionsCommand).resolves({ imageSummaryList: [] });
  route53Mock.on(ChangeResourceRecordSetsCommand).resolves({
    ChangeInfo: { Id: '/change/C0RECOVER', Status: 'PENDING', SubmittedAt: new Date() },
  });
  route53Mock.on(GetChangeCommand).resolves({
    ChangeInfo: { Id: '/change/C0RECOVER', Status: 'INSYNC', SubmittedAt: new Date() },
  });
  ec2Mock.on(DescribeInstancesCommand).resolves(greenInstances());
  ec2Mock.on(TerminateInstancesCommand).resolves({});
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(healthy(BLUE_IDS));
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b }).resolves(healthy(GREEN_IDS));
});

/** The recovery changed no weighted record and terminated no instance. */
function expectRecordsAndInstancesUntouched(): void {
  expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
  expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
}

describe('recover-execution, after a Stop', () => {
  it('changes nothing when it starts too near the end of the lock grace, and says what to do', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    const report = await handler(stopped(planFor(), 19 * 60_000), withTimeLeft(290_000));

    expectRecordsAndInstancesUntouched();
    // What is left, as the rollback rule sees it now: the Stop is a verdict on green, blue is healthy.
    expect(report.leftOver[0]).toMatch(/^this recovery started 19 minutes after the execution ended/);
    expect(report.leftOver.join('\n')).toContain('set slot a to 100 and slot b to 0');
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      'Left for a person: this recovery started',
    );
  });

  it('tells what is left, changing nothing, when its lock was taken over after the grace with nobody told', async () => {
    dynamodbMock.on(GetItemCommand).resolves(lockHeldBy('web-prod-1_2_0-0123456789'));
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    const report = await handler(stopped(planFor(), 25 * 60_000), withTimeLeft(290_000));

    expectRecordsAndInstancesUntouched();
    const message = snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    expect(message).toContain('its lock already taken over by web-prod-1_2_0-0123456789');
    expect(message).toContain(
      'Left for a person: this recovery started 25 minutes after the execution ended',
    );
    expect(report.actions).toEqual(['its lock already taken over by web-prod-1_2_0-0123456789']);
  });

  it('does nothing once the deployment no longer holds the lock (the event again, after the hand-off)', async () => {
    dynamodbMock.on(GetItemCommand).resolves(lockHeldBy('web-prod-1_2_0-0123456789'));
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));

    const report = await handler(stopped(planFor()), withTimeLeft(290_000));

    expect(report).toMatchObject({ actions: [], leftOver: [] });
    expectRecordsAndInstancesUntouched();
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('moves no traffic and keeps green when nobody holds the lock and green names no deployment', async () => {
    dynamodbMock.on(GetItemCommand).resolves({});
    elbv2Mock.on(DescribeTagsCommand).callsFake(slotTags(null));
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));

    const report = await handler(stopped(planFor()), withTimeLeft(290_000));

    expectRecordsAndInstancesUntouched();
    expect(report.found).toEqual([expect.stringMatching(/^the lock item of web\/prod was missing from /)]);
    expect(report.leftOver).toEqual([
      `green slot b's target group does not name this deployment as the one filling it (bluegreen:deployment-id), and with no lock held nothing else says its traffic is this deployment's to move, so traffic stays as it is (a=50 b=50) and the instances tagged bluegreen:deployment-id=${DEPLOYMENT_ID} were kept: once no other deployment is found to fill slot b, put all traffic on slot a if it is not there (the rollback rule allows it now: green failed (blue slot a: 3 of 3 targets healthy; green slot b: 3 of 3 targets healthy)), then terminate them once resolvers have left them (the record TTL, 60 s)`,
    ]);
    expect(report.actions).toEqual(['no lock of its to release']);
  });

  it('never tells to move traffic to a blue the rollback rule refuses, when nobody holds the lock and green names no deployment', async () => {
    dynamodbMock.on(GetItemCommand).resolves({});
    elbv2Mock.on(DescribeTagsCommand).callsFake(slotTags(null));
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves({
      TargetHealthDescriptions: BLUE_IDS.map((Id, i) => ({
        Target: { Id, Port: 80 },
        TargetHealth: i === 0 ? { State: 'healthy' as const } : { State: 'unhealthy' as const },
      })),
    });
    const event = stopped(planFor());

    const report = await handler(
      { ...event, detail: { ...event.detail, status: 'TIMED_OUT' } },
      withTimeLeft(290_000),
    );

    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(report.leftOver.join('\n')).toContain(
      'keep the traffic where it is: blue is below its healthy minimum',
    );
    expect(report.leftOver.join('\n')).not.toContain('put all traffic on slot a');
  });

  it("leaves green's traffic and its own instances when nobody holds the lock and another deployment claimed green", async () => {
    dynamodbMock.on(GetItemCommand).resolves({});
    elbv2Mock
      .on(DescribeTagsCommand)
      .callsFake(slotTags({ deploymentId: 'web-prod-1_2_0-0123456789', version: '1.2.0' }));
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));

    const report = await handler(stopped(planFor()), withTimeLeft(290_000));

    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    // Its own instances may be registered in the slot the other deployment claimed, serving it.
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
    const claimed =
      'green slot b is claimed by web/prod 1.2.0 (execution arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-prod-deploy:web-prod-1_2_0-0123456789)';
    expect(report.actions).toContain(`${claimed}, so its traffic was left as it is`);
    expect(report.leftOver).toEqual([
      `this deployment's instances (tagged bluegreen:deployment-id=${DEPLOYMENT_ID}) were kept, since nobody holds the lock and ${claimed}: ${GREEN_IDS.join(', ')}; if they are registered in slot b's target group, deregister them only once it carries no traffic or has healthy targets besides them, then terminate them`,
    ]);
  });

  it('tells what is left for a person when the rollback execution cannot be started', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    sfnMock.on(StartExecutionCommand).rejects(awsError('AccessDeniedException', 'not authorized', 400));

    // Too little time left for more than a try or two: the recovery gives up and tells.
    await handler(stopped(planFor()), withTimeLeft(40_500));

    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    const message = snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    expect(message).toContain('Left for a person: this recovery could not finish (AccessDeniedException');
    expect(message).toContain('set slot a to 100 and slot b to 0');
  });

  it('tells once what is left and frees the app when the rollback execution itself is stopped', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    dynamodbMock.on(PutItemCommand).resolves({});
    const plan = planFor();
    const event = stopped(plan);
    const rollback = {
      ...event,
      detail: {
        ...event.detail,
        executionArn: ROLLBACK_ARN,
        stateMachineArn: ROLLBACK_MACHINE,
        name: `${DEPLOYMENT_ID}-rollback`,
        input: JSON.stringify({
          ...JSON.parse(event.detail.input ?? '{}'),
          plan,
          failure: { Error: 'ABORTED', Cause: `the execution ${DEPLOYMENT_ID} stopped` },
        }),
      },
    };

    const report = await handler(rollback, withTimeLeft(290_000));

    // Nothing rolls a rollback back: nothing is moved, a person is told what is left.
    expect(route53Mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    const message = snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain(
      `Left for a person: its rollback execution ${DEPLOYMENT_ID}-rollback ended ABORTED`,
    );
    expect(message).toContain('set slot a to 100 and slot b to 0');
    expect(report.leftOver[0]).toMatch(/^its rollback execution /);
  });

  it('starts the rollback execution, named after the stopped one, from its last known state, and hands it the lock', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: ROLLBACK_ARN, startDate: new Date() });
    dynamodbMock.on(PutItemCommand).resolves({});
    const plan = planFor();

    const report = await handler(stopped(plan), withTimeLeft(290_000));

    const start = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start).toMatchObject({ stateMachineArn: ROLLBACK_MACHINE, name: `${DEPLOYMENT_ID}-rollback` });
    // A Stop is the rollback's failure, so the rollback rule counts it as a verdict on green.
    expect(JSON.parse(start?.input ?? '{}')).toMatchObject({
      plan,
      failure: { Error: 'ABORTED', Cause: `the execution ${DEPLOYMENT_ID} stopped` },
    });
    const lock = unmarshall(dynamodbMock.commandCalls(PutItemCommand)[0]?.args[0].input.Item ?? {});
    expect(lock.owner).toMatchObject({ name: DEPLOYMENT_ID, executionArn: ROLLBACK_ARN });
    // The rollback execution moves traffic, terminates green, tells and releases the lock.
    expectRecordsAndInstancesUntouched();
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
    expect(report.actions).toEqual([`its rollback runs as execution ${DEPLOYMENT_ID}-rollback`]);
  });

  it('leaves the telling and the lock to the rollback execution it started, though handing it the lock failed', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: ROLLBACK_ARN, startDate: new Date() });
    dynamodbMock.on(PutItemCommand).rejects(awsError('ThrottlingException', 'slow down', 400));

    // Too little time left for more than a try or two: the hand-over never lands.
    const report = await handler(stopped(planFor()), withTimeLeft(40_500));

    expect(sfnMock.commandCalls(StartExecutionCommand).length).toBeGreaterThan(0);
    // Nothing told and the lock not released beside a running rollback: that execution does both.
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
    const writes = dynamodbMock
      .commandCalls(PutItemCommand)
      .map((c) => unmarshall(c.args[0].input.Item ?? {}));
    expect(writes.every((item) => item.owner?.executionArn === ROLLBACK_ARN)).toBe(true);
    expect(report.leftOver).toEqual([]);
  });

  it('passes a timeout on as the failure, which the rollback rule does not count as a verdict on green', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 40, b: 60 }));
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: ROLLBACK_ARN, startDate: new Date() });
    dynamodbMock.on(PutItemCommand).resolves({});
    const event = stopped(planFor());

    await handler({ ...event, detail: { ...event.detail, status: 'TIMED_OUT' } }, withTimeLeft(290_000));

    const input = JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input.failure).toEqual({ Error: 'TIMED_OUT', Cause: `the execution ${DEPLOYMENT_ID} timed out` });
  });

  it('starts nothing new for the status change again: the rollback execution exists already', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
    sfnMock
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }));
    dynamodbMock.on(PutItemCommand).resolves({});

    const report = await handler(stopped(planFor()), withTimeLeft(290_000));

    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(report.actions).toEqual([`its rollback runs as execution ${DEPLOYMENT_ID}-rollback`]);
    expect(report.leftOver).toEqual([]);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('leaves a split untouched when stopped before the heal moved it', async () => {
    route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(SPLIT));

    const report = await handler(stopped(healingPlan()), withTimeLeft(290_000));

    expectRecordsAndInstancesUntouched();
    expect(report).toMatchObject({ actions: ['lock released'], leftOver: [] });
  });
});
