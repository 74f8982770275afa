import { tagResources } from '../aws/ec2.ts';
import { imageBuilds } from '../aws/image-builds.ts';
import { cancelImageBuild, getImageStatus } from '../aws/imagebuilder.ts';
import type { ExecutionHistory } from '../aws/sfn.ts';
import { arnScope, bakeTags, buildRunning, imageVersionArn, recipeId, recipeName } from '../domain/bake.ts';
import { clientToken } from '../domain/identity.ts';
import { attempt, buildsUnlisted, buildUnsettled } from '../domain/leftovers.ts';
import { STATE } from '../domain/states.ts';
import type { BakeState, Plan } from '../domain/workflow.ts';

type BakeOwner = Parameters<typeof bakeTags>[0] & { deploymentId: string };

/**
 * A build that a deployment started and no longer waits for (it failed or was stopped while the
 * AMI baked): cancelled while it runs, so it does not leave an AMI nobody uses; or, already done,
 * its AMI tagged as the bake would have, so the next deploy of the same artifact reuses it.
 * Says what it did, or what is left for a person when AWS refused.
 */
export async function settleBake(
  owner: BakeOwner,
  imageBuildVersionArn: string,
): Promise<{ action?: string; left?: string }> {
  const settled = await attempt(async (): Promise<{ action?: string }> => {
    const image = await getImageStatus(imageBuildVersionArn, arnScope(imageBuildVersionArn).region);
    if (buildRunning(image.status)) {
      await cancelImageBuild(imageBuildVersionArn, clientToken(owner.deploymentId, 'cancel').slice(0, 36));
      return { action: `image build ${imageBuildVersionArn} cancelled` };
    }
    if (image.status === 'AVAILABLE' && image.amiId) {
      await tagResources([image.amiId], bakeTags(owner));
      return { action: `AMI ${image.amiId} kept and tagged, for the next deploy of this artifact` };
    }
    return {};
  });
  return settled.ok ? settled.value : { left: buildUnsettled(imageBuildVersionArn, settled.error) };
}

/**
 * The builds a deployment may have started though no state recorded it (stopped while its bake
 * task ran, after CreateImage): every build of its recipe's image version that has not ended is
 * settled. Only this app/env and artifact build that image version, one deployment at a time.
 */
export async function settleUnrecordedBuilds(
  owner: BakeOwner & { app: string; env: string },
  infrastructureConfigurationArn: string,
): Promise<{ actions: string[]; left: string[] }> {
  const done = { actions: [] as string[], left: [] as string[] };
  const name = recipeName(owner.app, owner.env, recipeId(owner.plan));
  const builds = await attempt(() => imageBuilds(imageVersionArn(infrastructureConfigurationArn, name)));
  if (!builds.ok) return { ...done, left: [buildsUnlisted(name, builds.error)] };
  for (const build of builds.value.filter((b) => buildRunning(b.status))) {
    const settled = await settleBake(owner, build.arn);
    if (settled.action) done.actions.push(settled.action);
    if (settled.left) done.left.push(settled.left);
  }
  return done;
}

/**
 * The bake of an execution that was stopped: a build it started runs on when it stopped before
 * green was launched from its AMI, and is settled; stopped while its bake task ran, a build it
 * started is in no state yet, and every unfinished build of its recipe is settled. Says whether
 * green was launched.
 */
export async function settleStoppedBake(
  history: ExecutionHistory,
  owner: BakeOwner & { app: string; env: string; plan: Plan },
  done: { actions: string[]; leftOver: string[] },
): Promise<{ launched: boolean }> {
  const baking = (await history.firstOutput(STATE.bake)) as { bake?: BakeState } | undefined;
  const arn = baking?.bake?.imageBuildVersionArn;
  const launched = (await history.firstOutput(STATE.launch)) !== undefined;
  if (arn && !launched) {
    const settled = await settleBake(owner, arn);
    if (settled.action) done.actions.push(settled.action);
    if (settled.left) done.leftOver.push(settled.left);
  } else if (!baking) {
    const settled = await settleUnrecordedBuilds(owner, owner.plan.bake.infrastructureConfigurationArn);
    done.actions.push(...settled.actions);
    done.leftOver.push(...settled.left);
  }
  return { launched };
}
