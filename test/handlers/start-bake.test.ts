import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import {
  CreateComponentCommand,
  CreateImageCommand,
  CreateImageRecipeCommand,
} from '@aws-sdk/client-imagebuilder';
import { beforeEach, describe, expect, it } from 'vitest';
import { INSTALL_COMPONENT, installComponentDocument } from '#shared/domain/bake.ts';
import { handler } from '../../functions/start-bake.ts';
import { expectFailure } from '../support/failures.ts';
import { mockAws } from './aws-mocks.ts';
import {
  ACCOUNT,
  AMI_ID,
  awsError,
  BUCKET,
  config,
  KEY,
  lambdaContext,
  planFor,
  REGION,
  stateWith,
  VERSION_ID,
} from './fixtures.ts';

const { ec2Mock, imagebuilderMock } = mockAws({ pinnedConfig: true });
const context = lambdaContext('startBake');

const COMPONENT_ARN = `arn:aws:imagebuilder:${REGION}:${ACCOUNT}:component/bluegreen-install-artifact/2.0.0/1`;
const BUILD_ARN = `arn:aws:imagebuilder:${REGION}:${ACCOUNT}:image/bluegreen-web-prod-5d1c0b2f9a8e/1.0.0/1`;

beforeEach(() => {
  ec2Mock.on(DescribeImagesCommand).resolves({ Images: [] });
  imagebuilderMock.on(CreateComponentCommand).resolves({ componentBuildVersionArn: COMPONENT_ARN });
  imagebuilderMock.on(CreateImageRecipeCommand).callsFake((input: { name: string }) => ({
    imageRecipeArn: `arn:aws:imagebuilder:${REGION}:${ACCOUNT}:image-recipe/${input.name}/1.0.0`,
  }));
  imagebuilderMock.on(CreateImageCommand).resolves({ imageBuildVersionArn: BUILD_ARN });
});

/** The parameters the recipe gives the install component, as a name → value record. */
function recipeParameters(): Record<string, string | undefined> {
  const [call] = imagebuilderMock.commandCalls(CreateImageRecipeCommand);
  const [component] = call?.args[0].input.components ?? [];
  return Object.fromEntries((component?.parameters ?? []).map((p) => [p.name, p.value?.[0]]));
}

describe('start-bake', () => {
  it('creates install component 2.0.0 and a recipe that downloads the exact object version', async () => {
    // Act
    const bake = await handler(stateWith(), context);

    // Assess
    expect(bake).toMatchObject({ status: 'BUILDING', reused: false, imageBuildVersionArn: BUILD_ARN });
    const [component] = imagebuilderMock.commandCalls(CreateComponentCommand);
    expect(component?.args[0].input).toMatchObject({
      name: 'bluegreen-install-artifact',
      semanticVersion: '2.0.0',
      platform: 'Linux',
      data: installComponentDocument(INSTALL_COMPONENT.name),
    });
    expect(recipeParameters()).toEqual({
      ArtifactBucket: BUCKET,
      ArtifactKey: KEY,
      ArtifactVersionId: VERSION_ID,
      // The infrastructure configuration's account and Region: the service's, where its bucket is.
      ArtifactBucketOwner: ACCOUNT,
      ArtifactRegion: REGION,
      ArtifactFormat: 'zip',
      InstallDirectory: '/opt/app',
      InstallCommand: config.bake.installCommand,
    });
    const [recipe] = imagebuilderMock.commandCalls(CreateImageRecipeCommand);
    expect(recipe?.args[0].input.components?.[0]?.componentArn).toBe(COMPONENT_ARN);
  });

  it('bakes the version Plan pinned, not whatever the input carried', async () => {
    // Prepare: started by hand without a version id; Plan found version "pinned.by-plan".
    const byHand = stateWith({
      artifact: { bucket: BUCKET, key: KEY },
      plan: { ...planFor(), artifactVersionId: 'pinned.by-plan' },
    });

    // Act
    await handler(byHand, context);

    // Assess
    expect(recipeParameters().ArtifactVersionId).toBe('pinned.by-plan');
  });

  it('goes on with the component already there (created by an earlier bake or a retry)', async () => {
    // Prepare
    imagebuilderMock
      .on(CreateComponentCommand)
      .rejects(
        awsError('ResourceAlreadyExistsException', `The component ${COMPONENT_ARN} already exists.`, 400),
      );

    // Act
    const bake = await handler(stateWith(), context);

    // Assess
    expect(bake.status).toBe('BUILDING');
    const [recipe] = imagebuilderMock.commandCalls(CreateImageRecipeCommand);
    expect(recipe?.args[0].input.components?.[0]?.componentArn).toBe(COMPONENT_ARN);
  });

  it('reuses the AMI already baked from the same object version and builds nothing', async () => {
    // Prepare
    ec2Mock
      .on(DescribeImagesCommand)
      .resolves({ Images: [{ ImageId: AMI_ID, CreationDate: '2026-03-01T00:00:00Z' }] });

    // Act
    const bake = await handler(stateWith(), context);

    // Assess
    expect(bake).toMatchObject({ status: 'AVAILABLE', reused: true, amiId: AMI_ID });
    expect(imagebuilderMock.calls()).toHaveLength(0);
  });

  it('refuses with InvalidConfig a version id that would break the download command, building nothing', async () => {
    // Prepare: a plan written by something other than Plan (its schema refuses such an id).
    const forged = stateWith({ plan: { ...planFor(), artifactVersionId: "v1'; reboot; '" } });

    // Act
    const run = handler(forged, context);

    // Assess
    await expectFailure(
      run,
      'InvalidConfig',
      'ArtifactVersionId "v1\'; reboot; \'" must be an S3 version id',
    );
    expect(imagebuilderMock.calls()).toHaveLength(0);
  });
  it('reuses an AMI of this app/env baked from the same content and inputs, found by its bake key', async () => {
    // Prepare
    const digest = `sha256:${'ab'.repeat(32)}`;
    const bakeKey = 'ef'.repeat(32);
    ec2Mock.on(DescribeImagesCommand).callsFake((input: { Filters?: { Name?: string }[] }) => ({
      Images: input.Filters?.some((f) => f.Name === 'tag:bluegreen:bake-key')
        ? [{ ImageId: AMI_ID, CreationDate: '2026-03-01T00:00:00.000Z' }]
        : [],
    }));

    // Act
    const plan = { ...planFor(), contentDigest: digest, bakeKey };
    const bake = await handler(stateWith({ plan }), context);

    // Assess
    expect(bake).toMatchObject({ status: 'AVAILABLE', reused: true, amiId: AMI_ID });
    const [lookup] = ec2Mock.commandCalls(DescribeImagesCommand);
    expect(lookup?.args[0].input).toEqual({
      Owners: ['self'],
      Filters: [
        { Name: 'tag:bluegreen:managed-by', Values: ['bluegreen-ec2'] },
        { Name: 'tag:bluegreen:app', Values: ['web'] },
        { Name: 'tag:bluegreen:env', Values: ['prod'] },
        { Name: 'tag:bluegreen:bake-key', Values: [bakeKey] },
        { Name: 'state', Values: ['available'] },
      ],
      MaxResults: 1000,
    });
    expect(imagebuilderMock.commandCalls(CreateImageCommand)).toHaveLength(0);
  });

  it('with a bake key no AMI has, builds (never an AMI of the same object version baked with other inputs) in a recipe named by the key, tagged with the digest and the key', async () => {
    // Prepare
    const digest = `sha256:${'cd'.repeat(32)}`;
    const bakeKey = '12'.repeat(32);

    // Act
    const bake = await handler(
      stateWith({ plan: { ...planFor(), contentDigest: digest, bakeKey } }),
      context,
    );

    // Assess
    expect(bake).toMatchObject({ status: 'BUILDING', reused: false });
    const lookups = ec2Mock
      .commandCalls(DescribeImagesCommand)
      .map((c) => c.args[0].input.Filters?.[0]?.Name);
    expect(lookups).toEqual(['tag:bluegreen:managed-by']);
    const [recipe] = imagebuilderMock.commandCalls(CreateImageRecipeCommand);
    // The same object version baked with other inputs meets no recipe of its earlier bake.
    expect(recipe?.args[0].input.name).toBe(`bluegreen-web-prod-${bakeKey.slice(0, 12)}`);
    const tags = { 'bluegreen:content-sha256': digest, 'bluegreen:bake-key': bakeKey };
    expect(recipe?.args[0].input.tags).toMatchObject(tags);
    const [build] = imagebuilderMock.commandCalls(CreateImageCommand);
    expect(build?.args[0].input.tags).toMatchObject(tags);
  });

  it('without a digest looks up by the object version only', async () => {
    // Act
    await handler(stateWith(), context);

    // Assess
    const lookups = ec2Mock.commandCalls(DescribeImagesCommand);
    expect(lookups).toHaveLength(1);
    expect(lookups[0]?.args[0].input.Filters?.map((f) => f.Name)).toEqual([
      'tag:bluegreen:artifact-id',
      'state',
    ]);
    const [recipe] = imagebuilderMock.commandCalls(CreateImageRecipeCommand);
    expect(recipe?.args[0].input.tags?.['bluegreen:content-sha256']).toBeUndefined();
  });
});
