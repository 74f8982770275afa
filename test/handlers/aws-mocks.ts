import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTagsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, vi } from 'vitest';
import { alarmStates, mockPinnedConfig, slotTags } from './fixtures.ts';

/** The SDK mocks of a handler test file, one per service the handlers call. */
export interface AwsMocks {
  autoscalingMock: AwsClientStub<AutoScalingClient>;
  cloudwatchMock: AwsClientStub<CloudWatchClient>;
  dynamodbMock: AwsClientStub<DynamoDBClient>;
  ec2Mock: AwsClientStub<EC2Client>;
  eventbridgeMock: AwsClientStub<EventBridgeClient>;
  elbv2Mock: AwsClientStub<ElasticLoadBalancingV2Client>;
  imagebuilderMock: AwsClientStub<ImagebuilderClient>;
  route53Mock: AwsClientStub<Route53Client>;
  s3Mock: AwsClientStub<S3Client>;
  sfnMock: AwsClientStub<SFNClient>;
  snsMock: AwsClientStub<SNSClient>;
}

/** The answers most handler tests start from; each test adds or overrides its own. */
export interface AwsDefaults {
  /** Both slots' target groups are web/prod's, claimed by this deployment (DescribeTags). */
  slotsOurs?: boolean;
  /** S3 answers the config version Plan pinned (the alarm names, approvers, install command). */
  pinnedConfig?: boolean;
  /** Every watched alarm is OK (DescribeAlarms). */
  alarmsOk?: boolean;
}

/**
 * Mocks every SDK client the handlers use for the test file that calls it (at module scope),
 * resets them after each test and sets the `defaults` before each one.
 */
export function mockAws(defaults: AwsDefaults = {}): AwsMocks {
  const mocks: AwsMocks = {
    autoscalingMock: mockClient(AutoScalingClient),
    cloudwatchMock: mockClient(CloudWatchClient),
    dynamodbMock: mockClient(DynamoDBClient),
    ec2Mock: mockClient(EC2Client),
    eventbridgeMock: mockClient(EventBridgeClient),
    elbv2Mock: mockClient(ElasticLoadBalancingV2Client),
    imagebuilderMock: mockClient(ImagebuilderClient),
    route53Mock: mockClient(Route53Client),
    s3Mock: mockClient(S3Client),
    sfnMock: mockClient(SFNClient),
    snsMock: mockClient(SNSClient),
  };
  beforeEach(() => {
    // The bus takes every progress event unless a test says otherwise.
    mocks.eventbridgeMock
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'event-1' }] });
    if (defaults.slotsOurs) mocks.elbv2Mock.on(DescribeTagsCommand).callsFake(slotTags());
    if (defaults.pinnedConfig) mockPinnedConfig(mocks.s3Mock);
    if (defaults.alarmsOk) mocks.cloudwatchMock.on(DescribeAlarmsCommand).callsFake(alarmStates());
  });
  afterEach(() => {
    for (const mock of Object.values(mocks)) mock.reset();
  });
  return mocks;
}

/** Freezes `Date` at `now` for each test of the file (timers keep running); returns `now`. */
export function freezeClock(now: Date): Date {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  return now;
}
