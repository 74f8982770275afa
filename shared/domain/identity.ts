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

function sha256(text: string): string {
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
 * with characters Step Functions refuses made `_` (the hash of the object version follows).
 */
export function executionNamePrefix(app: string, env: string, version: string): string {
  const readable = `${app}-${env}-${version}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const room = EXECUTION_NAME_MAX - HASH_LENGTH - 1;
  return `${readable.slice(0, room).replace(/[-_]+$/, '')}-`;
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
