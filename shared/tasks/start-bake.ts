import { findAmiByArtifact, findAmiByContent } from '../aws/ec2.ts';
import { ensureInstallComponent, ensureRecipe, startImageBuild } from '../aws/imagebuilder.ts';
import {
  arnScope,
  bakeTags,
  componentArn,
  INSTALL_COMPONENT,
  installParameters,
  RECIPE_VERSION,
  recipeArn,
  recipeId,
  recipeName,
} from '../domain/bake.ts';
import { clientToken } from '../domain/identity.ts';
import type { BakeState, DeploymentState } from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { pinnedConfig } from '../operations/pinned-config.ts';
import { tellProgress } from '../operations/progress.ts';
import { need, nowIso } from '../state.ts';

/**
 * The AMI already baked for this app/env from the same content with the same bake inputs, when S3
 * has a SHA-256 checksum of the artifact (the plan's bakeKey): then only that, since an AMI found
 * by the object version alone may have been baked with other inputs. Without a checksum, the AMI
 * baked from the same object version, as before digests.
 */
async function reusableAmi(plan: {
  app: string;
  env: string;
  artifactId: string;
  bakeKey?: string | undefined;
}): Promise<string | undefined> {
  if (plan.bakeKey) {
    const byContent = await findAmiByContent(plan.app, plan.env, plan.bakeKey);
    if (byContent)
      logger.info('reusing AMI baked from the same content and inputs', {
        amiId: byContent,
        bakeKey: plan.bakeKey,
      });
    return byContent;
  }
  const byArtifact = await findAmiByArtifact(plan.artifactId);
  if (byArtifact) {
    logger.info('reusing AMI baked from the same artifact', {
      amiId: byArtifact,
      artifactId: plan.artifactId,
    });
  }
  return byArtifact;
}

/** Reuses the AMI already baked from this artifact's content or version, or starts an Image Builder build. */
export async function startBake(input: DeploymentState): Promise<BakeState> {
  const state = need(input, 'plan');
  const { plan } = state;
  const startedAt = nowIso();
  await tellProgress(state, 'started');
  const existing = await reusableAmi(plan);
  if (existing) {
    await tellProgress(state, 'baked');
    return {
      status: 'AVAILABLE',
      reused: true,
      amiId: existing,
      startedAt,
      completedAt: startedAt,
      polls: 0,
    };
  }
  const scope = plan.bake.infrastructureConfigurationArn;
  const { installCommand, installDirectory } = (await pinnedConfig(plan)).bake;
  // Checked before anything is created: a value that could break the download command stops here.
  const parameters = installParameters({
    bucket: state.artifact.bucket,
    key: state.artifact.key,
    versionId: plan.artifactVersionId,
    // The release bucket belongs to the service's stack: the account and Region Image Builder
    // builds in (the infrastructure configuration's).
    bucketOwner: arnScope(scope).account,
    region: arnScope(scope).region,
    format: state.format,
    installDirectory,
    installCommand,
  });
  const component = await ensureInstallComponent(
    componentArn(scope),
    INSTALL_COMPONENT.name,
    INSTALL_COMPONENT.version,
    clientToken(INSTALL_COMPONENT.name, INSTALL_COMPONENT.version).slice(0, 36),
  );
  const name = recipeName(state.app, state.env, recipeId(plan));
  const tags = bakeTags(state);
  const recipe = await ensureRecipe({
    arn: recipeArn(scope, name),
    name,
    version: RECIPE_VERSION,
    parentImage: plan.bake.parentImage,
    component: { arn: component, parameters },
    tags,
    token: clientToken(recipeId(plan), 'recipe').slice(0, 36),
  });
  const imageBuildVersionArn = await startImageBuild({
    recipeArn: recipe,
    infrastructureConfigurationArn: scope,
    tags,
    token: clientToken(state.deploymentId, 'image').slice(0, 36),
  });
  logger.info('image build started', { imageBuildVersionArn });
  return { status: 'BUILDING', reused: false, imageBuildVersionArn, startedAt, polls: 0 };
}
