/**
 * Release artifact keys: `releases/<app>/<env>/<version>.<zip|tar.gz>`.
 *
 * S3 event notifications carry the key URL-encoded the way HTML forms are (`+` for a space, then
 * percent-encoding), so a key is decoded before it is parsed. Every segment is validated: the app,
 * env and version end up in execution names, tags, Image Builder resource names and log lines.
 */

import { quoted } from './text.ts';

export const RELEASE_PREFIX = 'releases/';
export const ARTIFACT_FORMATS = ['tar.gz', 'zip'] as const;
export type ArtifactFormat = (typeof ARTIFACT_FORMATS)[number];

/** Lowercase letters, digits and inner hyphens, 1-32 characters (safe in DNS labels and names). */
export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
/** Letters, digits and inner `.`, `_`, `-`, 1-64 characters, never two dots in a row. */
export const VERSION_PATTERN = /^(?!.*\.\.)[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;

/**
 * An S3 object version id as S3 writes them (opaque, URL-ready, at most 1,024 bytes: base64-like
 * letters, digits and . _ - + / =, or `null` for an object written before versioning). Nothing
 * else is accepted: the id goes into the bake's download command.
 */
export const S3_VERSION_ID_PATTERN = /^[A-Za-z0-9._+/=-]{1,1024}$/;

/** The key a release of app/env/version in this format is uploaded under. */
export function releaseKeyOf(artifact: ArtifactKey): string {
  return `${RELEASE_PREFIX}${artifact.app}/${artifact.env}/${artifact.version}.${artifact.format}`;
}

export interface ArtifactKey {
  app: string;
  env: string;
  version: string;
  format: ArtifactFormat;
}

export type KeyParseResult = { ok: true; key: string; artifact: ArtifactKey } | { ok: false; reason: string };

/** Decodes a key as S3 event notifications encode it. Returns undefined for broken percent-encoding. */
export function decodeEventKey(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Encodes a key the way S3 puts it in an event notification (the inverse of decodeEventKey). */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

function describe(value: string): string {
  return quoted(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

/** Parses an already-decoded object key. */
export function parseArtifactKey(key: string): KeyParseResult {
  if (!key.startsWith(RELEASE_PREFIX)) {
    return { ok: false, reason: `key ${describe(key)} is not under ${RELEASE_PREFIX}` };
  }
  const segments = key.slice(RELEASE_PREFIX.length).split('/');
  if (segments.length !== 3) {
    return {
      ok: false,
      reason: `key ${describe(key)} must be ${RELEASE_PREFIX}<app>/<env>/<version>.<zip|tar.gz> (found ${segments.length} segments after the prefix, expected 3)`,
    };
  }
  const [app = '', env = '', file = ''] = segments;
  if (!NAME_PATTERN.test(app)) {
    return {
      ok: false,
      reason: `app ${describe(app)} must be 1-32 lowercase letters, digits or inner hyphens`,
    };
  }
  if (!NAME_PATTERN.test(env)) {
    return {
      ok: false,
      reason: `env ${describe(env)} must be 1-32 lowercase letters, digits or inner hyphens`,
    };
  }
  const format = ARTIFACT_FORMATS.find((suffix) => file.endsWith(`.${suffix}`));
  if (!format) {
    return { ok: false, reason: `file ${describe(file)} must end in .zip or .tar.gz` };
  }
  const version = file.slice(0, -(format.length + 1));
  if (!VERSION_PATTERN.test(version)) {
    return {
      ok: false,
      reason: `version ${describe(version)} must be 1-64 letters, digits, '.', '_' or '-', starting and ending with a letter or digit, with no '..'`,
    };
  }
  return { ok: true, key, artifact: { app, env, version, format } };
}

/** Decodes then parses a key exactly as it arrives in an S3 event record. */
export function parseEventKey(encoded: string): KeyParseResult {
  const key = decodeEventKey(encoded);
  if (key === undefined) {
    return { ok: false, reason: `key ${describe(encoded)} is not valid URL encoding` };
  }
  return parseArtifactKey(key);
}

/** Where the config for an app/env lives in the release bucket. */
export function configKey(app: string, env: string): string {
  return `config/${app}/${env}.json`;
}
