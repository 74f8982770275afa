import { InvalidConfig } from '../errors.ts';
import { type ArtifactKey, parseArtifactKey } from './artifact-key.ts';
import { redeployExecutionName } from './identity.ts';
import { quoted } from './text.ts';
import { type DeploymentInput, readDeployment } from './workflow.ts';

/**
 * "Deploy the object at this key again": the execution a redeploy starts (the command line's
 * `redeploy`, or CI calling Step Functions itself).
 *
 * - Its name is its own (redeployExecutionName): the upload's name stays taken for 90 days after
 *   that execution closed, and one release may be deployed again more than once. A retried request
 *   (the same request id) gets the same name and the same input, so StartExecution answers it as
 *   the start it already made, or refuses it with ExecutionAlreadyExists once that one has ended.
 * - Its input names the exact object version, as an upload's does, and no upload time: the lock
 *   orders it by when its execution started, so the newest request wins, as an upload made now
 *   would (an older release deployed again is not "older" than the release it replaces).
 * - It bakes nothing when an AMI of this app/env was baked from the same object version or the same
 *   content (Find or start the AMI bake).
 */

/** The object to deploy again, as S3 names it (HeadObject of the key, or of the version asked for). */
export interface RedeployObject {
  bucket: string;
  /** The object key, as stored (not URL-encoded): releases/<app>/<env>/<version>.<zip|tar.gz>. */
  key: string;
  versionId: string;
  eTag?: string | undefined;
  size?: number | undefined;
}

export interface Redeployment {
  name: string;
  input: DeploymentInput;
}

/** A redeploy's request id: 1-128 letters, digits or . _ : - (a CI run id fits). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The release a key names, or InvalidConfig saying why the key is not one. */
export function releaseAt(bucket: string, key: string): ArtifactKey {
  const parsed = parseArtifactKey(key);
  if (!parsed.ok) throw new InvalidConfig(`cannot deploy an object of s3://${bucket}: ${parsed.reason}`);
  return parsed.artifact;
}

/**
 * The execution name and input of a redeploy of `object`, for the caller's `requestId` (1-128
 * letters, digits or . _ : -; a fresh one per request, the same one when the request is retried).
 * Throws InvalidConfig naming the key or the request id when either cannot be deployed.
 */
export function redeployment(object: RedeployObject, requestId: string): Redeployment {
  if (!REQUEST_ID_PATTERN.test(requestId)) {
    throw new InvalidConfig(
      `requestId ${quoted(requestId.slice(0, 140))} must be 1-128 letters, digits or . _ : -`,
    );
  }
  const { app, env, version, format } = releaseAt(object.bucket, object.key);
  const artifact = {
    bucket: object.bucket,
    key: object.key,
    versionId: object.versionId,
    ...(object.eTag ? { eTag: object.eTag.replace(/"/g, '') } : {}),
    ...(object.size !== undefined ? { size: object.size } : {}),
  };
  const name = redeployExecutionName(app, env, version, artifact, requestId);
  // The same checks a hand-started execution meets (bucket name, version id, key and names agree).
  const input = readDeployment({ deploymentId: name, app, env, version, format, requestId, artifact }, true);
  return { name, input };
}
