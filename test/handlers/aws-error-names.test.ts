import { DescribeInstancesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetImageCommand } from '@aws-sdk/client-imagebuilder';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsThrottled, AwsTransient } from '#shared/errors.ts';
import { handler as checkBake } from '../../functions/check-bake.ts';
import { handler as deregisterBlue } from '../../functions/deregister-blue.ts';
import { handler as launchGreen } from '../../functions/launch-green.ts';
import { handler as planDeployment } from '../../functions/plan-deployment.ts';
import { handler as shiftTraffic } from '../../functions/shift-traffic.ts';
import { handler as startDeployment } from '../../functions/start-deployment.ts';
import { mockAws } from './aws-mocks.ts';
import {
  AMI_ID,
  awsError,
  DEPLOYMENT_ID,
  deployment,
  GREEN_IDS,
  greenFleet,
  greenInstances,
  healthy,
  KEY,
  lambdaContext,
  s3Record,
  stateWith,
  weightedRecords,
} from './fixtures.ts';

const { ec2Mock, elbv2Mock, imagebuilderMock, route53Mock, s3Mock, sfnMock } = mockAws({
  slotsOurs: true,
  alarmsOk: true,
  pinnedConfig: true,
});

// Green's slot is this deployment's (its target group's tags), unless a test says otherwise. The
// guards before launch and before the first step read the watched alarms: all OK here. The alarm
// names are read from the pinned config; green's slot holds nothing before the launch.
beforeEach(() => {
  elbv2Mock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
});

const context = lambdaContext('anyTask');

/** One way to reach an AWS call from a real handler, with the calls before it answered. */
interface Path {
  what: string;
  failWith(error: Error): void;
  invoke(context: Context): Promise<unknown>;
}

const paths: Path[] = [
  {
    what: 'start-deployment (DescribeExecution)',
    failWith: (error) => {
      // The app/env has a config.
      s3Mock.on(HeadObjectCommand).resolves({ VersionId: 'config-version-1' });
      sfnMock.on(DescribeExecutionCommand).rejects(error);
    },
    invoke: (ctx) => startDeployment({ Records: [s3Record(KEY)] }, ctx),
  },
  {
    what: 'plan-deployment (HeadObject)',
    failWith: (error) => s3Mock.on(HeadObjectCommand).rejects(error),
    invoke: (ctx) => planDeployment(deployment, ctx),
  },
  {
    what: 'check-bake (GetImage)',
    failWith: (error) => imagebuilderMock.on(GetImageCommand).rejects(error),
    invoke: (ctx) =>
      checkBake(
        stateWith({
          bake: {
            status: 'BUILDING',
            reused: false,
            imageBuildVersionArn:
              'arn:aws:imagebuilder:us-east-1:123456789012:image/bluegreen-web-prod-5d1c0b2f9a8e/1.0.0/1',
            startedAt: '2026-03-02T09:00:05.000Z',
            polls: 3,
          },
        }),
        ctx,
      ),
  },
  {
    what: 'launch-green (RunInstances)',
    failWith: (error) => ec2Mock.on(RunInstancesCommand).rejects(error),
    invoke: (ctx) =>
      launchGreen(
        {
          deployment: stateWith({
            bake: {
              status: 'AVAILABLE',
              reused: true,
              amiId: AMI_ID,
              startedAt: '2026-03-02T09:00:05.000Z',
              polls: 0,
            },
          }),
          executionArn: `arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-prod-deploy:${DEPLOYMENT_ID}`,
        },
        ctx,
      ),
  },
  {
    what: 'shift-traffic (ChangeResourceRecordSets)',
    failWith: (error) => {
      elbv2Mock.on(DescribeTargetHealthCommand).resolves(healthy(GREEN_IDS));
      ec2Mock.on(DescribeInstancesCommand).resolves(greenInstances());
      route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 100, b: 0 }));
      route53Mock.on(ChangeResourceRecordSetsCommand).rejects(error);
    },
    invoke: (ctx) => shiftTraffic(stateWith({ green: greenFleet }), ctx),
  },
  {
    what: 'deregister-blue (DescribeInstances)',
    failWith: (error) => {
      route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords({ a: 0, b: 100 }));
      ec2Mock.on(DescribeInstancesCommand).rejects(error);
    },
    invoke: (ctx) => deregisterBlue(stateWith({ green: greenFleet }), ctx),
  },
];

const throttles = [
  () => awsError('Throttling', 'Rate exceeded', 400),
  () => awsError('RequestLimitExceeded', 'Request limit exceeded.', 503),
  () => awsError('ThrottlingException', 'Rate exceeded', 400),
  () => awsError('TooManyRequestsException', 'Too Many Requests', 429),
  () => awsError('SlowDown', 'Please reduce your request rate.', 503),
];

const transients = [
  () => awsError('ServiceUnavailable', 'Service Unavailable', 503),
  () => awsError('InternalError', 'An internal error has occurred', 500),
  () =>
    awsError(
      'RequestTimeout',
      'Your socket connection to the server was not read from or written to within the timeout period.',
      400,
    ),
  () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
];

const ownNames = [
  () => awsError('AccessDenied', 'Access Denied', 403),
  () => awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403),
  () => awsError('ValidationError', '1 validation error detected', 400),
];

describe.each(paths.map((p) => [p.what, p] as const))('errors of AWS calls in %s', (_what, path) => {
  it.each(throttles.map((make) => [make().name, make] as const))(
    'surface a %s error as AwsThrottled, for the state machine to retry',
    async (name, make) => {
      // Prepare
      const sdkError = make();
      path.failWith(sdkError);

      // Act
      const run = path.invoke(context);

      // Assess
      await expect(run).rejects.toBeInstanceOf(AwsThrottled);
      await expect(run).rejects.toMatchObject({
        name: 'AwsThrottled',
        message: expect.stringContaining(`${name}: `),
        cause: sdkError,
      });
    },
  );

  it.each(
    transients.map(
      (make) => [`${make().name} ${(make() as { code?: string }).code ?? ''}`.trim(), make] as const,
    ),
  )('surface a transient failure (%s) as AwsTransient', async (_name, make) => {
    // Prepare
    const sdkError = make();
    path.failWith(sdkError);

    // Act
    const run = path.invoke(context);

    // Assess
    await expect(run).rejects.toBeInstanceOf(AwsTransient);
    await expect(run).rejects.toMatchObject({ name: 'AwsTransient', cause: sdkError });
  });

  it.each(ownNames.map((make) => [make().name, make] as const))(
    'let a %s error keep its own name, so it fails the task',
    async (name, make) => {
      // Prepare
      const sdkError = make();
      path.failWith(sdkError);

      // Act
      const run = path.invoke(context);

      // Assess
      await expect(run).rejects.toBe(sdkError);
      await expect(run).rejects.toMatchObject({ name });
    },
  );
});
