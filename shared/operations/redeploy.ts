import { currentVersion } from '../aws/s3.ts';
import { type Redeployment, redeployment, releaseAt } from '../domain/redeploy.ts';
import { quoted } from '../domain/text.ts';
import { InvalidConfig } from '../errors.ts';

/**
 * The execution that deploys the object at `key` (the version `versionId`, or the one under the
 * key now) again: its name and input (domain/redeploy.ts), the object's version id and ETag read
 * from S3 (HeadObject). Throws InvalidConfig naming the key (and version) when S3 has no such
 * object, and when the bucket is not versioned (a deployment bakes one object version).
 * Starts nothing: the caller starts the execution with the name and input returned.
 */
export async function redeployRequest(args: {
  bucket: string;
  key: string;
  versionId?: string | undefined;
  requestId: string;
}): Promise<Redeployment> {
  releaseAt(args.bucket, args.key);
  const head = await currentVersion(args.bucket, args.key, args.versionId);
  const where = `s3://${args.bucket}/${args.key}${args.versionId ? ` (version ${quoted(args.versionId)})` : ''}`;
  if (!head) throw new InvalidConfig(`${where} does not exist: nothing to deploy again`);
  if (!head.versionId) {
    throw new InvalidConfig(
      `${where} has no S3 version id: the bake downloads one object version, so the bucket must be versioned (the service's release bucket is)`,
    );
  }
  return redeployment(
    { bucket: args.bucket, key: args.key, versionId: head.versionId, eTag: head.eTag, size: head.size },
    args.requestId,
  );
}
