import { findAmiByArtifact, tagResources } from '../aws/ec2.ts';
import {
  cancelImageBuild,
  ensureInstallComponent,
  ensureRecipe,
  getImageStatus,
  startImageBuild,
} from '../aws/imagebuilder.ts';
import {
  arnScope,
  componentArn,
  INSTALL_COMPONENT,
  installParameters,
  RECIPE_VERSION,
  recipeArn,
  recipeName,
} from '../domain/bake.ts';
import { clientToken } from '../domain/identity.ts';
import { imageTags } from '../domain/tags.ts';
import type { BakeState, DeploymentState } from '../domain/workflow.ts';
import { BakeFailed, BakeTimedOut } from '../errors.ts';
import { logger } from '../logger.ts';
import { need, nowIso } from './state.ts';

function tagsFor(state: DeploymentState & { plan: NonNullable<DeploymentState['plan']> }) {
  return imageTags({
    app: state.app,
    env: state.env,
    version: state.version,
    artifactId: state.plan.artifactId,
    artifactUri: `s3://${state.artifact.bucket}/${state.artifact.key}`,
  });
}

/** Reuses the AMI already baked from this artifact, or starts an Image Builder build. */
export async function startBake(input: DeploymentState): Promise<BakeState> {
  const state = need(input, 'plan');
  const { plan } = state;
  const startedAt = nowIso();
  const existing = await findAmiByArtifact(plan.artifactId);
  if (existing) {
    logger.info('reusing AMI baked from the same artifact', { amiId: existing, artifactId: plan.artifactId });
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
  const component = await ensureInstallComponent(
    componentArn(scope),
    INSTALL_COMPONENT.name,
    INSTALL_COMPONENT.version,
    clientToken(INSTALL_COMPONENT.name, INSTALL_COMPONENT.version).slice(0, 36),
  );
  const name = recipeName(state.app, state.env, plan.artifactId);
  const tags = tagsFor(state);
  const recipe = await ensureRecipe({
    arn: recipeArn(scope, name),
    name,
    version: RECIPE_VERSION,
    parentImage: plan.bake.parentImage,
    componentArn: component,
    parameters: installParameters({
      bucket: state.artifact.bucket,
      key: state.artifact.key,
      format: state.format,
      installDirectory: plan.bake.installDirectory,
      installCommand: plan.bake.installCommand,
    }),
    tags,
    token: clientToken(plan.artifactId, 'recipe').slice(0, 36),
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

const FAILED_STATES = new Set(['FAILED', 'CANCELLED', 'DEPRECATED', 'DELETED', 'DISABLED']);

/** One bounded poll of the build. On AVAILABLE the AMI is tagged so the next deploy can reuse it. */
export async function checkBake(input: DeploymentState): Promise<BakeState> {
  const state = need(input, 'plan', 'bake');
  const { bake, plan } = state;
  const arn = bake.imageBuildVersionArn;
  if (bake.status === 'AVAILABLE' || !arn) return bake;
  const image = await getImageStatus(arn, arnScope(arn).region);
  const polls = bake.polls + 1;
  if (image.status === 'AVAILABLE') {
    if (!image.amiId)
      throw new BakeFailed(`build ${arn} is AVAILABLE but lists no AMI in its output resources`);
    await tagResources([image.amiId], tagsFor(state));
    return { ...bake, status: 'AVAILABLE', amiId: image.amiId, completedAt: nowIso(), polls };
  }
  if (FAILED_STATES.has(image.status)) {
    throw new BakeFailed(
      `Image Builder build ${arn} ended ${image.status}: ${image.reason ?? 'no reason given'}`,
    );
  }
  if (polls >= plan.bake.maxPolls) {
    await cancelImageBuild(arn, clientToken(state.deploymentId, 'cancel').slice(0, 36)).catch(
      (error: unknown) => logger.warn('could not cancel the timed-out build', { error }),
    );
    throw new BakeTimedOut(
      `Image Builder build ${arn} still ${image.status} after ${plan.bake.timeoutMinutes} minutes; cancelled`,
    );
  }
  return { ...bake, polls };
}
