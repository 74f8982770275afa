import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import {
  CancelImageCreationCommand,
  GetImageCommand,
  type GetImageCommandOutput,
} from '@aws-sdk/client-imagebuilder';
import { describe, expect, it } from 'vitest';
import { artifactId } from '#shared/domain/identity.ts';
import type { BakeState } from '#shared/domain/workflow.ts';
import { handler } from '../../functions/check-bake.ts';
import { expectFailure } from '../support/failures.ts';
import { mockAws } from './aws-mocks.ts';
import { AMI_ID, artifact, awsError, BUCKET, KEY, lambdaContext, planFor, stateWith } from './fixtures.ts';

const { ec2Mock, imagebuilderMock } = mockAws();

const context = lambdaContext('checkBake');
const BUILD_ARN = 'arn:aws:imagebuilder:us-east-1:123456789012:image/bluegreen-web-prod-5d1c0b2f9a8e/1.0.0/1';
const MAX_POLLS = planFor().bake.maxPolls;

function building(polls: number): BakeState {
  return {
    status: 'BUILDING',
    reused: false,
    imageBuildVersionArn: BUILD_ARN,
    startedAt: '2026-03-02T09:00:05.000Z',
    polls,
  };
}

function image(
  status: NonNullable<NonNullable<GetImageCommandOutput['image']>['state']>['status'],
  extra: { reason?: string; amis?: { region: string; image: string }[] } = {},
): GetImageCommandOutput {
  return {
    $metadata: {},
    requestId: 'b3a1c2d4-0000-4000-8000-000000000001',
    image: {
      arn: BUILD_ARN,
      name: 'bluegreen-web-prod-5d1c0b2f9a8e',
      version: '1.0.0/1',
      state: { status, ...(extra.reason ? { reason: extra.reason } : {}) },
      ...(extra.amis
        ? {
            outputResources: {
              amis: extra.amis.map((a) => ({ ...a, accountId: '123456789012', name: 'web 1.1.0' })),
            },
          }
        : {}),
    },
  };
}

describe('check-bake', () => {
  it('fails with BakeFailed carrying the reason Image Builder gives for a failed build', async () => {
    // Prepare
    imagebuilderMock
      .on(GetImageCommand)
      .resolves(
        image('FAILED', { reason: 'Image Builder could not build the image: ./install.sh exited with 1' }),
      );

    // Act
    const run = handler(stateWith({ bake: building(7) }), context);

    // Assess
    await expectFailure(
      run,
      'BakeFailed',
      `${BUILD_ARN} ended FAILED: "Image Builder could not build the image: ./install.sh exited with 1"`,
    );
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('fails with BakeFailed when someone cancelled the build', async () => {
    // Prepare
    imagebuilderMock.on(GetImageCommand).resolves(image('CANCELLED'));

    // Act
    const run = handler(stateWith({ bake: building(7) }), context);

    // Assess
    await expectFailure(run, 'BakeFailed', 'ended CANCELLED: no reason given');
  });

  it('tags the AMI of an AVAILABLE build so later deployments of the artifact reuse it', async () => {
    // Prepare
    imagebuilderMock.on(GetImageCommand).resolves(
      image('AVAILABLE', {
        amis: [
          { region: 'eu-west-1', image: 'ami-0eu000000000000001' },
          { region: 'us-east-1', image: AMI_ID },
        ],
      }),
    );
    ec2Mock.on(CreateTagsCommand).resolves({});

    // Act
    const result = await handler(stateWith({ bake: building(21) }), context);

    // Assess
    const tagging = ec2Mock.commandCalls(CreateTagsCommand);
    expect(tagging).toHaveLength(1);
    expect(tagging[0]?.args[0].input.Resources).toEqual([AMI_ID]);
    expect(tagging[0]?.args[0].input.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'bluegreen:managed-by', Value: 'bluegreen-ec2' },
        { Key: 'bluegreen:artifact-id', Value: artifactId(artifact) },
        { Key: 'bluegreen:version', Value: '1.1.0' },
        { Key: 'bluegreen:artifact', Value: `s3://${BUCKET}/${KEY}` },
      ]),
    );
    expect(result).toMatchObject({
      status: 'AVAILABLE',
      amiId: AMI_ID,
      polls: 22,
      completedAt: expect.any(String),
    });
  });

  it('fails with BakeFailed when an AVAILABLE build lists no AMI', async () => {
    // Prepare
    imagebuilderMock.on(GetImageCommand).resolves(image('AVAILABLE'));

    // Act
    const run = handler(stateWith({ bake: building(21) }), context);

    // Assess
    await expectFailure(run, 'BakeFailed', 'lists no AMI');
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('counts the poll and keeps waiting while the build is still running', async () => {
    // Prepare
    imagebuilderMock.on(GetImageCommand).resolves(image('TESTING'));

    // Act
    const result = await handler(stateWith({ bake: building(MAX_POLLS - 2) }), context);

    // Assess
    expect(result).toEqual({ ...building(MAX_POLLS - 1) });
    expect(imagebuilderMock.commandCalls(GetImageCommand)[0]?.args[0].input).toEqual({
      imageBuildVersionArn: BUILD_ARN,
    });
    expect(imagebuilderMock.commandCalls(CancelImageCreationCommand)).toHaveLength(0);
  });

  it('cancels the build and fails with BakeTimedOut when the polls reach the bound', async () => {
    // Prepare
    imagebuilderMock.on(GetImageCommand).resolves(image('BUILDING'));
    imagebuilderMock.on(CancelImageCreationCommand).resolves({ imageBuildVersionArn: BUILD_ARN });

    // Act
    const run = handler(stateWith({ bake: building(MAX_POLLS - 1) }), context);

    // Assess
    await expectFailure(run, 'BakeTimedOut', 'still BUILDING after 120 minutes; cancelled');
    const cancels = imagebuilderMock.commandCalls(CancelImageCreationCommand);
    expect(cancels).toHaveLength(1);
    expect(cancels[0]?.args[0].input.imageBuildVersionArn).toBe(BUILD_ARN);
    expect(cancels[0]?.args[0].input.clientToken).toMatch(/^[0-9a-f]{1,36}$/);
  });

  it('still fails with BakeTimedOut when cancelling the timed-out build fails', async () => {
    // Prepare
    imagebuilderMock.on(GetImageCommand).resolves(image('BUILDING'));
    imagebuilderMock
      .on(CancelImageCreationCommand)
      .rejects(awsError('ResourceDependencyException', 'The image is already being distributed', 400));

    // Act
    const run = handler(stateWith({ bake: building(MAX_POLLS - 1) }), context);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'BakeTimedOut' });
    expect(imagebuilderMock.commandCalls(CancelImageCreationCommand)).toHaveLength(1);
  });

  it('asks Image Builder nothing when the AMI was reused', async () => {
    // Prepare
    const reused: BakeState = {
      status: 'AVAILABLE',
      reused: true,
      amiId: AMI_ID,
      startedAt: '2026-03-02T09:00:05.000Z',
      completedAt: '2026-03-02T09:00:05.000Z',
      polls: 0,
    };

    // Act
    const result = await handler(stateWith({ bake: reused }), context);

    // Assess
    expect(result).toEqual(reused);
    expect(imagebuilderMock.calls()).toHaveLength(0);
    expect(ec2Mock.calls()).toHaveLength(0);
  });
});
