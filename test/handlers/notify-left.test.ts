import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/notify.ts';
import {
  BLUE_IDS,
  DEPLOYMENT_ID,
  fleetInstanceTags,
  GREEN_IDS,
  healthy,
  lambdaContext,
  planFor,
  reservation,
  slotTags,
  stateWith,
  TARGET_GROUP,
  weightedRecords,
} from './fixtures.ts';

// What the rollback-failed notification tells a person, read from AWS at that moment.

const route53Mock = mockClient(Route53Client);
const elbv2Mock = mockClient(ElasticLoadBalancingV2Client);
const ec2Mock = mockClient(EC2Client);
const dynamoMock = mockClient(DynamoDBClient);
const snsMock = mockClient(SNSClient);
const sfnMock = mockClient(SFNClient);

const OTHER = 'web-prod-1_2_0-fedcba9876';

beforeEach(() => {
  route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 50, b: 50 }));
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(healthy(BLUE_IDS));
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b }).resolves(healthy(GREEN_IDS));
  ec2Mock
    .on(DescribeInstancesCommand)
    .resolves(reservation(GREEN_IDS, fleetInstanceTags('b', '1.1.0', DEPLOYMENT_ID)));
  dynamoMock.onAnyCommand().resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

afterEach(() => {
  for (const mock of [route53Mock, elbv2Mock, ec2Mock, dynamoMock, snsMock, sfnMock]) mock.reset();
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
