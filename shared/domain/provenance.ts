import { VERSION_PATTERN } from './artifact-key.ts';
import { TAG, type Tags } from './tags.ts';
import { oneLineWithin } from './text.ts';
import type { ReleaseProvenance } from './workflow.ts';

/**
 * Where a release came from, for the people asked to approve it: who uploaded it (the S3 event's
 * principal), and the commit and change note the uploader put in the object's metadata
 * (x-amz-meta-commit, x-amz-meta-changes). Anyone allowed to upload writes these, so each is one
 * line and bounded here, and escaped or quoted wherever it is shown.
 */

/** An S3 event's principal: `AWS:AIDA...`, `AWS:AROA...:session-name`, an account's canonical id. */
export const UPLOADER_PATTERN = /^[A-Za-z0-9_+=,.@:/-]{1,256}$/;
export const MAX_COMMIT = 100;
export const MAX_CHANGES = 500;

/**
 * What S3 user metadata carries unchanged: printable US-ASCII. It travels as HTTP headers
 * (x-amz-meta-*), which hold no line break; a value with other characters comes back from S3
 * RFC 2047-encoded (`=?UTF-8?B?...?=`), which Plan shows as it comes, not decoded.
 */
const PRINTABLE_ASCII = /^[\x20-\x7e]$/;

/** The bounds Plan holds each metadata field to (above them it cuts with an ellipsis). */
export const PROVENANCE_LIMITS = { commit: MAX_COMMIT, changes: MAX_CHANGES } as const;

/**
 * What is wrong with a commit or change note an uploader means to send as the artifact's
 * metadata, read as Plan will read it (trimmed, one line, bounded), or undefined when it arrives
 * as written (blank text is no text, to Plan as here: nothing is sent). Refused rather than cut or
 * encoded: what the approver reads is what was sent. The two bounded fields and their names stay
 * far below S3's 2 KB of user metadata.
 */
export function provenanceProblem(field: keyof typeof PROVENANCE_LIMITS, value: string): string | undefined {
  const characters = Array.from(value.trim());
  const at = characters.findIndex((c) => !PRINTABLE_ASCII.test(c));
  const bad = characters[at];
  if (bad !== undefined) {
    const code = `U+${(bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    return `has ${code} at character ${at + 1}: only printable ASCII (space to ~, on one line) travels as S3 metadata unchanged`;
  }
  const max = PROVENANCE_LIMITS[field];
  if (characters.length > max) return `is ${characters.length} characters, more than ${max}`;
  return undefined;
}

/** The uploader an S3 event record names, or undefined when it names none S3 would write. */
export function uploaderOf(principalId: unknown): string | undefined {
  return typeof principalId === 'string' && UPLOADER_PATTERN.test(principalId) ? principalId : undefined;
}

/** One line of at most `max` characters, or undefined when there is nothing but blanks. */
function bounded(text: string | undefined, max: number): string | undefined {
  const trimmed = text?.trim();
  return trimmed ? oneLineWithin(trimmed, max) : undefined;
}

/**
 * The release's provenance from its uploader and the artifact's user metadata (S3 gives its keys
 * lower-cased, without x-amz-meta-); undefined when nothing says anything.
 */
export function releaseProvenance(
  uploadedBy: string | undefined,
  metadata: Record<string, string> | undefined,
): ReleaseProvenance | undefined {
  const commit = bounded(metadata?.commit, MAX_COMMIT);
  const changes = bounded(metadata?.changes, MAX_CHANGES);
  const release = {
    ...(uploadedBy ? { uploadedBy } : {}),
    ...(commit ? { commit } : {}),
    ...(changes ? { changes } : {}),
  };
  return Object.keys(release).length > 0 ? release : undefined;
}

/**
 * The version blue's instances run, by their bluegreen:version tag: undefined when there are none,
 * when one lacks the tag (or holds no version a release could have), or when they disagree.
 */
export function fleetVersion(instances: readonly { tags: Tags }[]): string | undefined {
  const versions = new Set(instances.map((i) => i.tags[TAG.version]));
  const [only] = versions;
  return versions.size === 1 && only !== undefined && VERSION_PATTERN.test(only) ? only : undefined;
}
