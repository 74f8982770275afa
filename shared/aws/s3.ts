import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { isNotFound } from './errors.ts';

export const s3 = new S3Client({});

/**
 * The object's text and the version read (the current one, or `versionId`), or undefined when
 * there is no such key.
 */
export async function readObject(
  bucket: string,
  key: string,
  versionId?: string,
): Promise<{ text: string; versionId?: string } | undefined> {
  try {
    const out = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
    );
    const text = (await out.Body?.transformToString('utf-8')) ?? '';
    return { text, ...(out.VersionId ? { versionId: out.VersionId } : {}) };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export interface ObjectHead {
  versionId?: string;
  eTag?: string;
  size?: number;
  /** The SHA-256 checksum S3 stores with it (base64; a composite one ends in `-<parts>`). */
  checksumSha256?: string;
  /** FULL_OBJECT or COMPOSITE. */
  checksumType?: string;
  /** The user metadata (x-amz-meta-*), by its keys lower-cased without the prefix, as S3 gives it. */
  metadata?: Record<string, string>;
}

/**
 * The current version of the object (or the version `versionId`), or undefined when it is gone.
 * With its checksum: ChecksumMode ENABLED asks for nothing more than s3:GetObject (or
 * s3:GetObjectVersion) allows, and kms:Decrypt only for a KMS-encrypted object (the release bucket
 * encrypts with S3's own keys).
 */
export async function currentVersion(
  bucket: string,
  key: string,
  versionId?: string,
): Promise<ObjectHead | undefined> {
  try {
    const out = await s3.send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(versionId ? { VersionId: versionId } : {}),
        ChecksumMode: 'ENABLED',
      }),
    );
    return {
      ...(out.VersionId ? { versionId: out.VersionId } : {}),
      ...(out.ETag ? { eTag: out.ETag } : {}),
      ...(typeof out.ContentLength === 'number' ? { size: out.ContentLength } : {}),
      ...(out.ChecksumSHA256 ? { checksumSha256: out.ChecksumSHA256 } : {}),
      ...(out.ChecksumType ? { checksumType: out.ChecksumType } : {}),
      ...(out.Metadata && Object.keys(out.Metadata).length > 0 ? { metadata: out.Metadata } : {}),
    };
  } catch (error) {
    if (isNotFound(error) || (error as Error).name === 'NotFound') return undefined;
    throw error;
  }
}

/**
 * The other versions (and delete markers) the key has had besides `versionId`, oldest first: a
 * release key written twice holds two builds under one version name.
 */
export async function otherVersions(
  bucket: string,
  key: string,
  versionId: string,
): Promise<{ versionId: string; lastModified?: Date }[]> {
  return (await versionsOf(bucket, key)).filter((v) => v.versionId !== versionId);
}

/**
 * Every version and delete marker the key has had, oldest first: any at all means the key was
 * written before (a deleted object leaves its versions and a marker in a versioned bucket).
 */
export async function versionsOf(
  bucket: string,
  key: string,
): Promise<{ versionId: string; lastModified?: Date }[]> {
  const found: { versionId: string; lastModified?: Date }[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const out = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: key,
        KeyMarker,
        VersionIdMarker,
        MaxKeys: 100,
      }),
    );
    for (const v of [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])]) {
      // The prefix also matches longer keys (1.1.0.zip.bak): only this key counts.
      if (v.Key !== key || !v.VersionId) continue;
      found.push({ versionId: v.VersionId, ...(v.LastModified ? { lastModified: v.LastModified } : {}) });
    }
    KeyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
    VersionIdMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
  } while (KeyMarker);
  return found.sort((x, y) => (x.lastModified?.getTime() ?? 0) - (y.lastModified?.getTime() ?? 0));
}

/**
 * Uploads a release artifact with its SHA-256 checksum (computed here and checked by S3, which
 * keeps it with the object version), and returns the version id and ETag S3 gave it. Only when
 * the key holds no object (`If-None-Match: *`): of two uploads of one key at once, S3 takes one
 * and answers the other 412 PreconditionFailed (or 409 ConditionalRequestConflict while the
 * first is in flight).
 */
export async function putArtifact(
  bucket: string,
  key: string,
  body: Uint8Array,
  /** User metadata (x-amz-meta-<key>): the commit and change note Plan shows approvers. */
  metadata: Record<string, string> = {},
): Promise<{ versionId?: string; eTag?: string; checksumSha256: string }> {
  const checksumSha256 = createHash('sha256').update(body).digest('base64');
  const out = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: checksumSha256,
      IfNoneMatch: '*',
      ...(Object.keys(metadata).length > 0 ? { Metadata: metadata } : {}),
    }),
  );
  return {
    ...(out.VersionId ? { versionId: out.VersionId } : {}),
    ...(out.ETag ? { eTag: out.ETag } : {}),
    checksumSha256,
  };
}
