import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bakeKey } from '#shared/domain/bake.ts';
import { contentDigest, executionName, redeployExecutionName } from '#shared/domain/identity.ts';
import { ignoredPublicationId, ignoredUploadNotice } from '#shared/domain/ignored-upload.ts';
import { redeployment } from '#shared/domain/redeploy.ts';
import { readDeployment } from '#shared/domain/workflow.ts';
import { crc64nvme, storedChecksum } from '../../sim/aws/small.ts';
import { nameArbitrary, versionArbitrary } from '../support/names.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest();
const BODY = 'PK\u0003\u0004 web 1.1.0';
const HEX = sha256(BODY).toString('hex');
const ref = { bucket: 'releases-123', key: 'releases/web/prod/1.1.0.zip', versionId: 'v1' };

describe('the content digest', () => {
  it('of a whole-object SHA-256 is its hex', () => {
    const checksum = sha256(BODY).toString('base64');
    expect(contentDigest({ sha256: checksum, type: 'FULL_OBJECT' })).toBe(`sha256:${HEX}`);
    // Objects S3 wrote before it reported a checksum type.
    expect(contentDigest({ sha256: checksum })).toBe(`sha256:${HEX}`);
  });

  it('of a composite SHA-256 keeps its part count', () => {
    const parts = Buffer.concat([sha256('a'), sha256('b')]);
    const checksum = `${createHash('sha256').update(parts).digest('base64')}-2`;
    expect(contentDigest({ sha256: checksum, type: 'COMPOSITE' })).toMatch(/^sha256:[0-9a-f]{64}-2$/);
  });

  it('is undefined without a SHA-256 checksum, or with one S3 would not write', () => {
    expect(contentDigest({})).toBeUndefined();
    expect(contentDigest({ sha256: 'not base64!' })).toBeUndefined();
    expect(contentDigest({ sha256: Buffer.from('short').toString('base64') })).toBeUndefined();
    expect(contentDigest({ sha256: `${sha256(BODY).toString('base64')}-2`, type: 'FULL_OBJECT' })).toBe(
      undefined,
    );
    expect(contentDigest({ sha256: sha256(BODY).toString('base64'), type: 'SOMETHING' })).toBeUndefined();
  });
});

describe('the bake key', () => {
  const digest = `sha256:${'ab'.repeat(32)}`;
  const inputs = {
    bucket: 'bluegreen-ec2-prod-releases-123456789012',
    format: 'zip' as const,
    parentImage: 'ami-0123456789abcdef0',
    installCommand: './install.sh',
    installDirectory: '/opt/app',
    infrastructureConfigurationArn:
      'arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/web-prod',
  };

  it('is the same for the same content baked the same way', () => {
    expect(bakeKey(digest, { ...inputs })).toBe(bakeKey(digest, inputs));
    expect(bakeKey(digest, inputs)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each(Object.keys(inputs) as (keyof typeof inputs)[])(
    'changes with %s, so the same bytes baked otherwise are baked again',
    (field) => {
      const other = { ...inputs, [field]: field === 'format' ? 'tar.gz' : `${inputs[field]}x` };
      expect(bakeKey(digest, other)).not.toBe(bakeKey(digest, inputs));
    },
  );

  it('changes with the content', () => {
    expect(bakeKey(`sha256:${'cd'.repeat(32)}`, inputs)).not.toBe(bakeKey(digest, inputs));
  });
});

describe('the simulated S3 checksums', () => {
  it('are CRC64NVME by default, the check value of CRC-64/NVME', () => {
    expect(Buffer.from(crc64nvme(Buffer.from('123456789')), 'base64').toString('hex')).toBe(
      'ae8b14860a799888',
    );
    expect(storedChecksum(BODY)).toMatchObject({ algorithm: 'CRC64NVME', type: 'FULL_OBJECT' });
  });

  it('are a SHA-256 of the whole object in one request, and of the parts in a multipart upload', () => {
    expect(storedChecksum(BODY, { checksumAlgorithm: 'SHA256' })).toEqual({
      algorithm: 'SHA256',
      type: 'FULL_OBJECT',
      value: sha256(BODY).toString('base64'),
    });
    const parts = Buffer.concat([sha256('PK\u0003\u0004 web'), sha256(' 1.1.0')]);
    expect(storedChecksum(BODY, { checksumAlgorithm: 'SHA256', partSize: 8 })).toEqual({
      algorithm: 'SHA256',
      type: 'COMPOSITE',
      value: `${createHash('sha256').update(parts).digest('base64')}-2`,
    });
  });
});

describe('redeploy execution names', () => {
  it('read as app-env-version-redeploy-hash, apart from the upload’s name', () => {
    const name = redeployExecutionName('web', 'prod', '1.1.0', ref, 'r1');
    expect(name).toMatch(/^web-prod-1_1_0-redeploy-[0-9a-f]{10}$/);
    expect(name).not.toBe(executionName('web', 'prod', '1.1.0', ref));
  });

  it('are the same for a retried request and differ for another request or object version', () => {
    const name = redeployExecutionName('web', 'prod', '1.1.0', ref, 'r1');
    expect(redeployExecutionName('web', 'prod', '1.1.0', { ...ref }, 'r1')).toBe(name);
    expect(redeployExecutionName('web', 'prod', '1.1.0', ref, 'r2')).not.toBe(name);
    expect(redeployExecutionName('web', 'prod', '1.1.0', { ...ref, versionId: 'v2' }, 'r1')).not.toBe(name);
  });

  it('stay within 80 characters of [A-Za-z0-9_-] for the longest inputs', () => {
    fc.assert(
      fc.property(nameArbitrary, nameArbitrary, versionArbitrary, (app, env, version) => {
        const name = redeployExecutionName(app, env, version, ref, 'request');
        expect(name.length).toBeLessThanOrEqual(80);
        expect(name).toMatch(/^[A-Za-z0-9_-]+-redeploy-[0-9a-f]{10}$/);
      }),
    );
  });
});

describe('a redeployment', () => {
  const object = {
    bucket: 'bluegreen-ec2-prod-releases-123456789012',
    key: 'releases/web/prod/1.1.0.zip',
    versionId: 'v1',
    eTag: '"abc"',
    size: 14,
  };

  it('is an execution input the state machine accepts, with no upload time', () => {
    const { name, input } = redeployment(object, 'undo-1');
    expect(readDeployment(input, true)).toEqual(input);
    expect(input).toEqual({
      deploymentId: name,
      app: 'web',
      env: 'prod',
      version: '1.1.0',
      format: 'zip',
      requestId: 'undo-1',
      artifact: { bucket: object.bucket, key: object.key, versionId: 'v1', eTag: 'abc', size: 14 },
    });
  });

  it('is the same for the same request, so a retried StartExecution is the same start', () => {
    expect(redeployment(object, 'undo-1')).toEqual(redeployment({ ...object }, 'undo-1'));
  });

  it('refuses a key that is not a release, naming why', () => {
    expect(() => redeployment({ ...object, key: 'releases/Web/prod/1.1.0.zip' }, 'r')).toThrow(
      /InvalidConfig|app "Web" must be/,
    );
    expect(() => redeployment({ ...object, key: 'config/web/prod.json' }, 'r')).toThrow(
      /not under releases\//,
    );
  });

  it('refuses a request id that is not one, naming requestId', () => {
    expect(() => redeployment(object, '')).toThrow(/^requestId "" must be/);
    expect(() => redeployment(object, 'a\nb')).toThrow(/^requestId "a\\nb" must be/);
    expect(() => redeployment(object, 'x'.repeat(129))).toThrow(/^requestId/);
  });
});

describe('the notification of an ignored upload', () => {
  const upload = {
    kind: 'key' as const,
    bucket: 'releases-123',
    eventKey: 'releases/web/prod/a+b%0ASubject%3A+x.zip',
    versionId: 'v1',
    eventName: 'ObjectCreated:Put',
    reason: 'file "a b\\nSubject: x.zip" must end in .zip or .tar.gz',
  };

  it('quotes the decoded key on a line of its own', () => {
    const { message } = ignoredUploadNotice(upload);
    expect(message.split('\n')).toContain('Key: "releases/web/prod/a b\\nSubject: x.zip"');
    expect(message.split('\n').filter((line) => line.startsWith('Subject'))).toEqual([]);
  });

  it('is recorded once per bucket, key, object version and event', () => {
    const id = ignoredPublicationId(upload);
    expect(id).toMatch(/^ignored#[0-9a-f]{64}$/);
    expect(ignoredPublicationId({ ...upload })).toBe(id);
    expect(ignoredPublicationId({ ...upload, versionId: 'v2' })).not.toBe(id);
    expect(ignoredPublicationId({ ...upload, eventName: 'ObjectCreated:Copy' })).not.toBe(id);
  });
});
