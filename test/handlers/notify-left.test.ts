import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTagsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { PublishCommand } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/notify.ts';
import { mockAws } from './aws-mocks.ts';
import {
  BLUE_IDS,
  GREEN_IDS,
  greenInstances,
  healthy,
  lambdaContext,
  planFor,
  slotTags,
  stateWith,
  TARGET_GROUP,
  weightedRecords,
} from './fixtures.ts';

// What the rollback-failed notification tells a person, read from AWS at that moment.

const { dynamodbMock, ec2Mock, elbv2Mock, route53Mock, snsMock } = mockAws();

const OTHER = 'web-prod-1_2_0-fedcba9876';

beforeEach(() => {
  route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(healthy(BLUE_IDS));
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b }).resolves(healthy(GREEN_IDS));
  ec2Mock.on(DescribeInstancesCommand).resolves(greenInstances());
  dynamodbMock.onAnyCommand().resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

const failed = () =>
  stateWith({
    plan: planFor(),
    failure: { Error: 'RollbackFailed', Cause: 'Route 53 refused the change' },
  });

describe('the rollback-failed notification', () => {
  it("tells to move traffic back to blue while green's slot is this deployment's", async () => {
    elbv2Mock.on(DescribeTagsCommand).callsFake(slotTags());

    const told = await handler({ outcome: 'rollback-failed', deployment: failed() }, lambdaContext('notify'));

    expect(told.leftOver.join('\n')).toContain('set slot a to 100 and slot b to 0');
  });

  it('never tells to move the traffic of a green slot another deployment has claimed since', async () => {
    elbv2Mock.on(DescribeTagsCommand).callsFake(slotTags({ deploymentId: OTHER, version: '1.2.0' }));

    const told = await handler({ outcome: 'rollback-failed', deployment: failed() }, lambdaContext('notify'));

    const left = told.leftOver.join('\n');
    expect(left).toContain(OTHER);
    expect(left).not.toContain('set slot a to 100 and slot b to 0');
  });
});
