import { putWait } from '../aws/dynamodb.ts';
import { getImageStatus } from '../aws/imagebuilder.ts';
import { sendTaskSuccess } from '../aws/sfn.ts';
import { arnScope, buildEnded } from '../domain/bake.ts';
import { BAKE_FALLBACK_SECONDS, bakeWaitId, waitTtl } from '../domain/waits.ts';
import { logger } from '../logger.ts';

export interface BakeWaitRequest {
  token: string;
  imageBuildVersionArn: string;
  /** How long the state waits before it polls anyway. */
  seconds?: number;
}

/**
 * "Wait for the AMI bake": parks the execution until Image Builder's state-change event says the
 * build ended. The build may have ended before the wait was stored, so its status is read once
 * after: a finished build resumes the execution at once.
 */
export async function awaitBake(request: BakeWaitRequest, table: string): Promise<{ waiting: boolean }> {
  await putWait(table, {
    id: bakeWaitId(request.imageBuildVersionArn),
    token: request.token,
    ttl: waitTtl(new Date(), request.seconds ?? BAKE_FALLBACK_SECONDS),
  });
  const image = await getImageStatus(
    request.imageBuildVersionArn,
    arnScope(request.imageBuildVersionArn).region,
  );
  if (buildEnded(image.status)) {
    // The event may have resumed the wait in between: then the token is gone, which is fine.
    await sendTaskSuccess(request.token, { status: image.status });
    return { waiting: false };
  }
  logger.info('waiting for the image build to end', { imageBuildVersionArn: request.imageBuildVersionArn });
  return { waiting: true };
}
