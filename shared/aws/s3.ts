import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { isNotFound } from './errors.ts';

export const s3 = new S3Client({});

/** The object's text, or undefined when there is no such key. */
export async function readObjectText(bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await out.Body?.transformToString('utf-8')) ?? '';
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The current version of the object, or undefined when it is gone. */
export async function currentVersion(
  bucket: string,
  key: string,
): Promise<{ versionId?: string; eTag?: string } | undefined> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      ...(out.VersionId ? { versionId: out.VersionId } : {}),
      ...(out.ETag ? { eTag: out.ETag } : {}),
    };
  } catch (error) {
    if (isNotFound(error) || (error as Error).name === 'NotFound') return undefined;
    throw error;
  }
}
