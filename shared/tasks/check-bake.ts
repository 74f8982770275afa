import { tagResources } from '../aws/ec2.ts';
import { cancelImageBuild, getImageStatus } from '../aws/imagebuilder.ts';
import { arnScope, bakeTags, buildFailed } from '../domain/bake.ts';
import { clientToken } from '../domain/identity.ts';
import { quoted } from '../domain/text.ts';
import type { BakeState, DeploymentState } from '../domain/workflow.ts';
import { BakeFailed, BakeTimedOut } from '../errors.ts';
import { logger } from '../logger.ts';
import { tellProgress } from '../operations/progress.ts';
import { need, nowIso } from '../state.ts';

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
    await tagResources([image.amiId], bakeTags(state));
    await tellProgress(state, 'baked');
    return { ...bake, status: 'AVAILABLE', amiId: image.amiId, completedAt: nowIso(), polls };
  }
  if (buildFailed(image.status)) {
    throw new BakeFailed(
      // The reason quotes the build's output (and so the config's install command): one quoted line.
      `Image Builder build ${arn} ended ${image.status}: ${image.reason ? quoted(image.reason) : 'no reason given'}`,
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
