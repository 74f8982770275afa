import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeEventKey,
  encodeEventKey,
  parseArtifactKey,
  parseEventKey,
} from '#shared/domain/artifact-key.ts';

describe('release artifact keys', () => {
  it('parses a zip release into app, env, version and format', () => {
    expect(parseArtifactKey('releases/web/prod/1.1.0.zip')).toEqual({
      ok: true,
      key: 'releases/web/prod/1.1.0.zip',
      artifact: { app: 'web', env: 'prod', version: '1.1.0', format: 'zip' },
    });
  });

  it('parses a tar.gz release whose version has dashes and underscores', () => {
    const parsed = parseArtifactKey('releases/billing-api/eu-staging/2026.03.01-rc_2.tar.gz');
    expect(parsed).toMatchObject({
      ok: true,
      artifact: { app: 'billing-api', env: 'eu-staging', version: '2026.03.01-rc_2', format: 'tar.gz' },
    });
  });

  it.each([
    ['config/web/prod.json', 'is not under releases/'],
    ['releases/web/1.1.0.zip', 'found 2 segments'],
    ['releases/web/prod/extra/1.1.0.zip', 'found 4 segments'],
    ['releases/Web/prod/1.1.0.zip', 'app "Web"'],
    ['releases/web/-prod/1.1.0.zip', 'env "-prod"'],
    ['releases/web/prod/1.1.0.exe', 'must end in .zip or .tar.gz'],
    ['releases/web/prod/.zip', 'version ""'],
    ['releases/web/prod/1..0.zip', 'version "1..0"'],
    ['releases/web/prod/v1.0$(reboot).zip', 'version "v1.0$(reboot)"'],
    [`releases/${'a'.repeat(33)}/prod/1.zip`, 'app'],
    [`releases/web/prod/${'1'.repeat(65)}.zip`, 'version'],
  ])('refuses %s, naming the problem', (key, problem) => {
    const parsed = parseArtifactKey(key);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(problem);
  });

  it('decodes event keys the way S3 encodes them: + is a space, then percent-decoding', () => {
    expect(decodeEventKey('releases/web/prod/my+release%2B1.zip')).toBe('releases/web/prod/my release+1.zip');
  });

  it('reports broken percent-encoding instead of throwing', () => {
    expect(parseEventKey('releases/web/prod/%E0%A4%A.zip')).toEqual({
      ok: false,
      reason: expect.stringContaining('not valid URL encoding'),
    });
  });

  it('decodes whatever it encodes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (key) => {
        expect(decodeEventKey(encodeEventKey(key))).toBe(key);
      }),
    );
  });
});
