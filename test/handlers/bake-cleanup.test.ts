import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { CancelImageCreationCommand, GetImageCommand } from '@aws-sdk/client-imagebuilder';
import { describe, expect, it } from 'vitest';
import { settleBake } from '#shared/operations/bake-cleanup.ts';
import { mockAws } from './aws-mocks.ts';
import { AMI_ID, deployment, planFor } from './fixtures.ts';

const { ec2Mock, imagebuilderMock } = mockAws();

const BUILD = 'arn:aws:imagebuilder:us-east-1:123456789012:image/bluegreen-web-prod-482740ee3122/1.0.0/1';
const owner = { ...deployment, plan: planFor() };

function imageIs(status: string, ami?: string) {
  imagebuilderMock.on(GetImageCommand).resolves({
    image: {
      state: { status: status as 'BUILDING' },
      ...(ami ? { outputResources: { amis: [{ region: 'us-east-1', image: ami }] } } : {}),
    },
  });
}

describe('settling a build nobody waits for', () => {
  it('cancels a build still running', async () => {
    imageIs('BUILDING');
    imagebuilderMock.on(CancelImageCreationCommand).resolves({});

    expect(await settleBake(owner, BUILD)).toEqual({ action: `image build ${BUILD} cancelled` });
    expect(imagebuilderMock.commandCalls(CancelImageCreationCommand)).toHaveLength(1);
  });

  it('tags the AMI of a build that has just finished, for the next deploy of the artifact to reuse', async () => {
    imageIs('AVAILABLE', AMI_ID);
    ec2Mock.on(CreateTagsCommand).resolves({});

    expect(await settleBake(owner, BUILD)).toEqual({
      action: `AMI ${AMI_ID} kept and tagged, for the next deploy of this artifact`,
    });
    const tags = ec2Mock.commandCalls(CreateTagsCommand)[0]?.args[0].input;
    expect(tags?.Resources).toEqual([AMI_ID]);
    expect(tags?.Tags).toContainEqual({ Key: 'bluegreen:artifact-id', Value: owner.plan.artifactId });
  });

  it('does nothing to a build that already failed', async () => {
    imageIs('FAILED');

    expect(await settleBake(owner, BUILD)).toEqual({});
    expect(imagebuilderMock.commandCalls(CancelImageCreationCommand)).toHaveLength(0);
  });

  it('says what is left when AWS refuses, instead of failing the notification or the recovery', async () => {
    imageIs('BUILDING');
    imagebuilderMock
      .on(CancelImageCreationCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

    expect(await settleBake(owner, BUILD)).toEqual({
      left: expect.stringMatching(/could not cancel it or tag its AMI \(AccessDeniedException\)/),
    });
  });
});
