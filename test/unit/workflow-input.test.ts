import { describe, expect, it } from 'vitest';
import { readDeployment } from '#shared/domain/workflow.ts';

const input = {
  deploymentId: 'web-prod-1_1_0-482740ee31',
  app: 'web',
  env: 'prod',
  version: '1.1.0',
  format: 'zip',
  uploadedAt: '2026-11-26T10:00:00.000Z',
  artifact: {
    bucket: 'bluegreen-ec2-sim-releases-123456789012',
    key: 'releases/web/prod/1.1.0.zip',
    size: 1024,
  },
};

describe('the execution input', () => {
  it.each([
    ['2026-11-26T10:00:00.000Z', '2026-11-26T10:00:00.000Z'],
    ['2026-11-26T11:00:00+01:00', '2026-11-26T10:00:00.000Z'],
    ['2026-11-26 10:00:00Z', '2026-11-26T10:00:00.000Z'],
    ['2026-11-26T10:00:00.5-02:30', '2026-11-26T12:30:00.500Z'],
  ])('writes the upload time %s as %s, so uploads compare as text', (uploadedAt, canonical) => {
    expect(readDeployment({ ...input, uploadedAt }, true).uploadedAt).toBe(canonical);
  });

  it.each([
    ['a day that does not exist', '2026-02-30T10:00:00Z', 'uploadedAt: is not a real time: check the date'],
    ['no offset', '2026-11-26T10:00:00', 'uploadedAt: must be an ISO 8601 time with its offset'],
    ['not a time', 'yesterday', 'uploadedAt: must be an ISO 8601 time'],
    ['an offset without minutes', '2026-11-26T10:00:00+01', 'uploadedAt: is not a real time'],
  ])('refuses an upload time with %s', (_what, uploadedAt, problem) => {
    expect(() => readDeployment({ ...input, uploadedAt }, true)).toThrow(problem);
  });

  it('refuses a size no JSON number holds exactly', () => {
    expect(() => readDeployment({ ...input, artifact: { ...input.artifact, size: 2 ** 53 } }, true)).toThrow(
      /artifact\.size: /,
    );
  });

  it('refuses an artifact given as an array, saying so once', () => {
    expect(() => readDeployment({ ...input, artifact: [] }, true)).toThrow(
      /^execution input is invalid: artifact: must be an object, not an array$/,
    );
  });

  it('names every unknown key, not only the first', () => {
    expect(() =>
      readDeployment({ ...input, k0: 1, k1: 2, artifact: { ...input.artifact, k2: 3 } }, true),
    ).toThrow(
      'execution input is invalid: (root): unknown field "k0" (the published JSON Schema lists every field); (root): unknown field "k1" (the published JSON Schema lists every field); artifact: unknown field "k2"',
    );
  });

  it('refuses an unknown key only where the input must be exact', () => {
    expect(() => readDeployment({ ...input, extra: 1 }, true)).toThrow(
      'execution input is invalid: (root): unknown field "extra"',
    );
    expect(readDeployment({ ...input, extra: 1 }).app).toBe('web');
  });
});
