import { tagResources } from './aws/ec2.ts';
import { cancelImageBuild, getImageStatus } from './aws/imagebuilder.ts';
import { arnScope, bakeTags } from './domain/bake.ts';
import { clientToken } from './domain/identity.ts';

/** Image Builder's states of a build that has not ended. */
const RUNNING_STATES = new Set(['PENDING', 'CREATING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING']);

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
  try {
    const image = await getImageStatus(imageBuildVersionArn, arnScope(imageBuildVersionArn).region);
    if (RUNNING_STATES.has(image.status)) {
      await cancelImageBuild(imageBuildVersionArn, clientToken(owner.deploymentId, 'cancel').slice(0, 36));
      return { action: `image build ${imageBuildVersionArn} cancelled` };
    }
    if (image.status === 'AVAILABLE' && image.amiId) {
      await tagResources([image.amiId], bakeTags(owner));
      return { action: `AMI ${image.amiId} kept and tagged, for the next deploy of this artifact` };
    }
    return {};
  } catch (error) {
    return {
      left: `image build ${imageBuildVersionArn}: could not cancel it or tag its AMI (${(error as Error).name}); cancel it, or deregister its AMI, by hand`,
    };
  }
}
