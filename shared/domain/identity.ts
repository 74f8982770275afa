import { createHash } from 'node:crypto';

/**
 * Names derived from an artifact. They must be stable: a duplicate S3 event for the same object
 * version must produce the same execution name (Step Functions then starts nothing new), and a
 * retried task must produce the same client tokens.
 */

export interface ArtifactRef {
  bucket: string;
  key: string;
  /** S3 version id; absent on an unversioned bucket, where the ETag identifies the content. */
  versionId?: string | undefined;
  eTag?: string | undefined;
}

const EXECUTION_NAME_MAX = 80;
const HASH_LENGTH = 10;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A short, stable id of one uploaded object version. Used in tags to find an AMI baked from it. */
export function artifactId(ref: ArtifactRef): string {
  return sha256(`${ref.bucket}/${ref.key}#${ref.versionId ?? ref.eTag ?? ''}`).slice(0, 16);
}

/**
 * `<app>-<env>-<version>-<hash>`, at most 80 characters of `[A-Za-z0-9_-]`, readable in the console
 * and searchable by its app-env prefix. The hash covers bucket, key and version id.
 */
export function executionName(app: string, env: string, version: string, ref: ArtifactRef): string {
  return `${executionNamePrefix(app, env, version)}${artifactId(ref).slice(0, HASH_LENGTH)}`;
}

/**
 * What every execution name of a release of app/env/version starts with, `<app>-<env>-<version>-`
 * with characters Step Functions refuses made `_` (the hash of the object version follows, or
 * `redeploy-` and a hash). Cut to the room a redeploy's name leaves, so that an upload's
 * executions and its redeploys share one prefix, by which the command line finds them all.
 */
export function executionNamePrefix(app: string, env: string, version: string): string {
  const readable = `${app}-${env}-${version}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return `${readable.slice(0, READABLE_ROOM).replace(/[-_]+$/, '')}-`;
}

/** What S3 says of an object's SHA-256 checksum (HeadObject with ChecksumMode ENABLED). */
export interface ObjectChecksum {
  /** Base64; a composite one ends in `-<parts>`. */
  sha256?: string | undefined;
  /** FULL_OBJECT or COMPOSITE; S3 left it out for objects written before it reported it. */
  type?: string | undefined;
}

const SHA256_BYTES = 32;
/** S3 takes at most 10,000 parts. */
const COMPOSITE = /^([A-Za-z0-9+/]+={0,2})-([1-9]\d{0,4})$/;

function sha256Hex(base64: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const bytes = Buffer.from(base64, 'base64');
  return bytes.length === SHA256_BYTES ? bytes.toString('hex') : undefined;
}

/**
 * The digest that identifies an artifact by its content, from the SHA-256 checksum S3 stores with
 * it, or undefined when it has none (then the object version identifies it: artifactId).
 *
 * S3 computes the checksum itself and refuses an upload whose bytes do not match the one the
 * uploader sent, so the digest is S3's word on the bytes, never the uploader's claim. A single
 * request upload gets a SHA-256 of the whole object: `sha256:<hex>`. A multipart upload gets a
 * composite one, a SHA-256 of its parts' SHA-256s with the part count (S3 offers a whole-object
 * checksum of a multipart upload only for the CRC algorithms): `sha256:<hex>-<parts>`. Equal
 * composites still mean equal bytes (the parts' digests are equal, part by part); the same bytes
 * uploaded in other parts only miss the reuse. CRCs (CRC64NVME, which S3 adds to every upload
 * without a checksum, CRC32, CRC32C) are not digests: two different builds could share one, so
 * they never identify content here.
 */
export function contentDigest(checksum: ObjectChecksum): string | undefined {
  const value = checksum.sha256;
  if (!value) return undefined;
  const composite = COMPOSITE.exec(value);
  if (composite && checksum.type !== 'FULL_OBJECT') {
    const hex = sha256Hex(composite[1] ?? '');
    return hex ? `sha256:${hex}-${composite[2]}` : undefined;
  }
  if (checksum.type !== undefined && checksum.type !== 'FULL_OBJECT') return undefined;
  const hex = sha256Hex(value);
  return hex ? `sha256:${hex}` : undefined;
}

const REDEPLOY_MARK = 'redeploy';

/** The room for `<app>-<env>-<version>` in every execution name: what `-redeploy-<hash>` leaves. */
const READABLE_ROOM = EXECUTION_NAME_MAX - HASH_LENGTH - REDEPLOY_MARK.length - 2;

/**
 * The execution name of a redeploy: `<app>-<env>-<version>-redeploy-<hash>`, within the 80
 * characters, where the hash covers bucket, key, version id and the caller's request id. The
 * upload's own name stays taken (Step Functions keeps a closed execution's name for 90 days), so
 * each request gets a name of its own, and a retried request (the same request id) the same one.
 */
export function redeployExecutionName(
  app: string,
  env: string,
  version: string,
  ref: ArtifactRef,
  requestId: string,
): string {
  const hash = sha256(`${artifactId(ref)}#${REDEPLOY_MARK}#${requestId}`).slice(0, HASH_LENGTH);
  return `${executionNamePrefix(app, env, version)}${REDEPLOY_MARK}-${hash}`;
}

/** EC2 and Image Builder client tokens: at most 64 ASCII characters, stable per deployment and purpose. */
export function clientToken(deploymentId: string, purpose: string): string {
  return sha256(`${deploymentId}:${purpose}`).slice(0, 64);
}

const ROLLBACK_SUFFIX = '-rollback';

/**
 * The name of the rollback execution of the execution `name`: `<name>-rollback`, within the 80
 * characters (a long name keeps its start and a hash of the whole), the same for every delivery of
 * the status change, so a repeated start meets ExecutionAlreadyExists.
 */
export function rollbackExecutionName(name: string): string {
  if (name.length + ROLLBACK_SUFFIX.length <= EXECUTION_NAME_MAX) return `${name}${ROLLBACK_SUFFIX}`;
  const room = EXECUTION_NAME_MAX - ROLLBACK_SUFFIX.length - HASH_LENGTH - 1;
  return `${name.slice(0, room)}-${sha256(name).slice(0, HASH_LENGTH)}${ROLLBACK_SUFFIX}`;
}
