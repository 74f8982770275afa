import { createHash } from 'node:crypto';
import { configKey, decodeEventKey, RELEASE_PREFIX } from './artifact-key.ts';
import type { MessageAttributes } from './notifications.ts';
import { oneLine, quoted } from './text.ts';

/**
 * An upload under `releases/` that starts no deployment is told, not only logged: CI that mistyped
 * a key, or uploaded before the app/env had a config, learns it from the deployments topic.
 *
 * Everything in such a message but the service's own words comes from the S3 event: the key is
 * whatever the uploader chose (spaces, quotes, line breaks, bidi controls), so it enters the
 * message only quoted (text.ts), on its own line, and never the subject or an attribute.
 */

/** Why the upload was ignored: its key, its app/env's missing config, or its event. */
export type IgnoredKind = 'key' | 'config' | 'event';

export interface IgnoredUpload {
  kind: IgnoredKind;
  bucket: string;
  /** The key as the event carries it (URL-encoded). */
  eventKey: string;
  /** The object version (or, on an unversioned bucket, the ETag) the event names. */
  versionId?: string | undefined;
  eTag?: string | undefined;
  eventName?: string | undefined;
  eventTime?: string | undefined;
  reason: string;
  /** The release the key names, when it parsed. */
  release?: { app: string; env: string; version: string } | undefined;
}

/** The key as S3 stores it when the event's encoding decodes, else as the event carries it. */
export function uploadedKey(eventKey: string): string {
  return decodeEventKey(eventKey) ?? eventKey;
}

/**
 * Whether an ignored record is one to tell: only uploads under the release prefix (the bucket is
 * the service's; the config and anything else in it are not releases).
 */
export function isReleaseUpload(eventKey: string): boolean {
  return uploadedKey(eventKey).startsWith(RELEASE_PREFIX);
}

/**
 * The publication record of one ignored upload (publication.ts): one per bucket, key, object
 * version and event name, so a duplicate delivery of the event finds it and publishes nothing. A
 * hash, because a key may be 1,024 bytes of anything.
 */
export function ignoredPublicationId(upload: IgnoredUpload): string {
  const version = upload.versionId ?? upload.eTag ?? '';
  const hash = createHash('sha256')
    .update(JSON.stringify([upload.bucket, upload.eventKey, version, upload.eventName ?? '']))
    .digest('hex');
  return `ignored#${hash}`;
}

const SUBJECTS: Record<IgnoredKind, (upload: IgnoredUpload) => string> = {
  key: () => 'Upload ignored: not a release artifact key',
  config: (u) => `Upload ignored: no config for ${u.release?.app}/${u.release?.env}`,
  event: () => 'Upload ignored: not an object-created event',
};

function advice(upload: IgnoredUpload): string {
  switch (upload.kind) {
    case 'key':
      return 'Release keys are releases/<app>/<env>/<version>.zip or .tar.gz (app and env in lowercase letters, digits and inner hyphens; see the README, "Release artifact key"): upload the build again under such a key.';
    case 'config': {
      const r = upload.release;
      return `Write ${configKey(r?.app ?? '<app>', r?.env ?? '<env>')} to the release bucket, then deploy this upload with \`bluegreen redeploy ${r?.app} ${r?.env} ${r?.version}\` (uploading it again under the same key is refused: release keys are immutable).`;
    }
    case 'event':
      return 'The release bucket starts deployments on object-created events only: check its event notifications.';
  }
}

/** The notification of an ignored upload: subject, body and the attributes a subscription filters on. */
export function ignoredUploadNotice(upload: IgnoredUpload): {
  subject: string;
  message: string;
  attributes: MessageAttributes;
} {
  const version = upload.versionId ?? upload.eTag;
  const lines = [
    'An upload to the release bucket was ignored: nothing was deployed, nothing was launched.',
    '',
    `Key: ${quoted(uploadedKey(upload.eventKey))}`,
    `Bucket: ${quoted(upload.bucket)}`,
    ...(version ? [`Object version: ${quoted(version)}`] : []),
    ...(upload.eventName ? [`Event: ${quoted(upload.eventName)}`] : []),
    ...(upload.eventTime ? [`Event time: ${quoted(upload.eventTime)}`] : []),
    `Why: ${oneLine(upload.reason)}`,
    '',
    advice(upload),
  ];
  return {
    subject: SUBJECTS[upload.kind](upload),
    message: lines.join('\n'),
    attributes: {
      kind: 'ignored-upload',
      outcome: 'ignored',
      reason: upload.kind,
      ...(upload.release
        ? { app: upload.release.app, env: upload.release.env, version: upload.release.version }
        : {}),
    },
  };
}
