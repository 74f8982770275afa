import {
  CancelImageCreationCommand,
  CreateComponentCommand,
  CreateImageCommand,
  CreateImageRecipeCommand,
  GetImageCommand,
  GetInfrastructureConfigurationCommand,
  ImagebuilderClient,
} from '@aws-sdk/client-imagebuilder';
import { installComponentDocument } from '../domain/bake.ts';
import { isAlreadyExists, isNotFound } from './errors.ts';

export const imagebuilder = new ImagebuilderClient({});

/**
 * Creates the resource unless it already exists, and returns its ARN either way. Image Builder
 * refuses to create a name/version twice, which makes the retried create safe.
 */
async function createOnce(create: () => Promise<string | undefined>, arn: string): Promise<string> {
  try {
    await create();
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  return arn;
}

export function ensureInstallComponent(
  arn: string,
  name: string,
  version: string,
  token: string,
): Promise<string> {
  return createOnce(async () => {
    const out = await imagebuilder.send(
      new CreateComponentCommand({
        name,
        semanticVersion: version,
        platform: 'Linux',
        description:
          'Downloads one S3 object version of a release artifact with the AWS CLI (the parent image needs it; Amazon Linux has it), unpacks it and runs its install command.',
        data: installComponentDocument(name),
        clientToken: token,
        tags: { 'bluegreen:managed-by': 'bluegreen-ec2' },
      }),
    );
    return out.componentBuildVersionArn;
  }, arn);
}

/** An image recipe: the parent image with one component and its parameters. */
export interface RecipeRequest {
  arn: string;
  name: string;
  version: string;
  parentImage: string;
  component: { arn: string; parameters: Record<string, string> };
  tags: Record<string, string>;
  token: string;
}

export function ensureRecipe(args: RecipeRequest): Promise<string> {
  return createOnce(async () => {
    const out = await imagebuilder.send(
      new CreateImageRecipeCommand({
        name: args.name,
        semanticVersion: args.version,
        parentImage: args.parentImage,
        components: [
          {
            componentArn: args.component.arn,
            parameters: Object.entries(args.component.parameters).map(([name, value]) => ({
              name,
              value: [value],
            })),
          },
        ],
        tags: args.tags,
        clientToken: args.token,
      }),
    );
    return out.imageRecipeArn;
  }, args.arn);
}

/** Starts the build. The client token makes a retried start return the same build. */
export async function startImageBuild(args: {
  recipeArn: string;
  infrastructureConfigurationArn: string;
  tags: Record<string, string>;
  token: string;
}): Promise<string> {
  const out = await imagebuilder.send(
    new CreateImageCommand({
      imageRecipeArn: args.recipeArn,
      infrastructureConfigurationArn: args.infrastructureConfigurationArn,
      tags: args.tags,
      clientToken: args.token,
    }),
  );
  return out.imageBuildVersionArn ?? '';
}

export interface ImageStatus {
  status: string;
  reason?: string;
  amiId?: string;
}

export async function getImageStatus(imageBuildVersionArn: string, region: string): Promise<ImageStatus> {
  const out = await imagebuilder.send(new GetImageCommand({ imageBuildVersionArn }));
  const image = out.image;
  const amis = image?.outputResources?.amis ?? [];
  const ami = amis.find((a) => a.region === region) ?? amis[0];
  return {
    status: image?.state?.status ?? 'UNKNOWN',
    ...(image?.state?.reason ? { reason: image.state.reason } : {}),
    ...(ami?.image ? { amiId: ami.image } : {}),
  };
}

export async function cancelImageBuild(imageBuildVersionArn: string, token: string): Promise<void> {
  await imagebuilder.send(new CancelImageCreationCommand({ imageBuildVersionArn, clientToken: token }));
}

/** The instance profile an infrastructure configuration builds with; undefined when it does not exist. */
export async function infrastructureProfile(
  infrastructureConfigurationArn: string,
): Promise<{ instanceProfileName: string | undefined } | undefined> {
  try {
    const out = await imagebuilder.send(
      new GetInfrastructureConfigurationCommand({ infrastructureConfigurationArn }),
    );
    return { instanceProfileName: out.infrastructureConfiguration?.instanceProfileName };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
