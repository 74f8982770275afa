import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { artifactId, clientToken, executionName } from '#shared/domain/identity.ts';
import { nameArbitrary, versionArbitrary } from '../support/names.ts';

const ref = { bucket: 'releases-123', key: 'releases/web/prod/1.1.0.zip', versionId: 'v1' };

describe('execution names', () => {
  it('read as app-env-version-hash', () => {
    expect(executionName('web', 'prod', '1.1.0', ref)).toMatch(/^web-prod-1_1_0-[0-9a-f]{10}$/);
  });

  it('are the same for the same object version, so a duplicate event starts nothing', () => {
    expect(executionName('web', 'prod', '1.1.0', { ...ref })).toBe(
      executionName('web', 'prod', '1.1.0', ref),
    );
  });

  it('differ when the same key is uploaded again (a new version id)', () => {
    expect(executionName('web', 'prod', '1.1.0', { ...ref, versionId: 'v2' })).not.toBe(
      executionName('web', 'prod', '1.1.0', ref),
    );
  });

  it('stay within 80 characters of [A-Za-z0-9_-] and keep the hash for the longest inputs', () => {
    fc.assert(
      fc.property(nameArbitrary, nameArbitrary, versionArbitrary, (app, env, version) => {
        const name = executionName(app, env, version, ref);
        expect(name.length).toBeLessThanOrEqual(80);
        expect(name).toMatch(/^[A-Za-z0-9_-]+-[0-9a-f]{10}$/);
        expect(name.endsWith(artifactId(ref).slice(0, 10))).toBe(true);
      }),
    );
  });
});

describe('client tokens', () => {
  it('are stable per deployment and purpose, and at most 64 characters', () => {
    expect(clientToken('d1', 'green-fleet')).toBe(clientToken('d1', 'green-fleet'));
    expect(clientToken('d1', 'green-fleet')).not.toBe(clientToken('d2', 'green-fleet'));
    expect(clientToken('d1', 'green-fleet').length).toBeLessThanOrEqual(64);
  });
});
