import { readFileSync } from 'node:fs';
import type { Context, S3Event } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configKey, NAME_PATTERN, parseEventKey, VERSION_PATTERN } from '#shared/domain/artifact-key.ts';
import { validateConfig } from '#shared/domain/config.ts';
import { MUTATING_OPERATIONS } from '../../sim/simulate.ts';
import { BUCKET, s3Record } from '../../sim/worlds.ts';
import { seededAccount } from '../support/accounts.ts';

// Hostile input at the two edges: S3 keys (what CI uploads) and configs (what operators write).

const hostileSegments = [
  'web',
  'prod',
  'Web',
  'web app',
  'web%20app',
  'web%2Fprod',
  'web%252Fprod',
  '..',
  '.',
  '',
  'é',
  'web\u202eppa',
  'web\u0000',
  '🚀',
  'a'.repeat(33),
  'x'.repeat(300),
  '-web',
  'web-',
  '<script>',
  "web';rm -rf /",
  '$(reboot)',
  '%00',
  '%E0%A4%A',
  '+',
];
const hostileFiles = [
  '1.1.0.zip',
  '1.1.0.tar.gz',
  '1.1.0.tgz',
  '1.1.0.ZIP',
  '.zip',
  '1..1.zip',
  '1.1.0.zip.exe',
  '1.1.0',
  `${'1'.repeat(65)}.zip`,
  '..%2F..%2Fconfig.zip',
  '1.1.0%2Ezip',
  'v1.0$(id).zip',
  '1.1.0 .zip',
];

const keyArbitrary = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...hostileSegments),
      fc.constantFrom(...hostileSegments),
      fc.constantFrom(...hostileFiles),
    )
    .map(([app, env, file]) => `releases/${app}/${env}/${file}`),
  fc
    .array(fc.constantFrom(...hostileSegments, ...hostileFiles), { maxLength: 6 })
    .map((parts) => `releases/${parts.join('/')}`),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }).map((s) => `releases/web/prod/${s}.zip`),
);

const KEYS = fc.sample(keyArbitrary, { numRuns: 1500, seed: 20261126 });

describe('fuzzed artifact keys', () => {
  it(`parses ${KEYS.length} generated keys without throwing, accepting only well-formed releases`, () => {
    let accepted = 0;
    for (const key of KEYS) {
      const parsed = parseEventKey(key);
      if (parsed.ok) {
        accepted += 1;
        const { app, env, version } = parsed.artifact;
        expect(app).toMatch(NAME_PATTERN);
        expect(env).toMatch(NAME_PATTERN);
        expect(version).toMatch(VERSION_PATTERN);
        expect(parsed.key).toBe(`releases/${app}/${env}/${version}.${parsed.artifact.format}`);
      } else {
        expect(parsed.reason).toMatch(/^(key|app|env|version|file) /);
      }
    }
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(KEYS.length);
  });

  it('starts an execution for the well-formed keys only, and launches nothing', async () => {
    const { handlers, world } = await seededAccount();
    const started: unknown[] = [];
    world.sfn.onStart = (execution) => started.push(execution);
    const records = KEYS.map((key, i) => {
      const record = s3Record(
        BUCKET,
        'placeholder',
        { versionId: `v${i}`, eTag: `e${i}`, size: 1 },
        world.now(),
      );
      record.s3.object.key = key;
      return record;
    });
    const valid = new Set(KEYS.filter((key) => parseEventKey(key).ok).map((key, i) => `${key}#${i}`));
    // Every app/env a well-formed key names has a config (without one the starter ignores it).
    for (const key of KEYS) {
      const parsed = parseEventKey(key);
      if (parsed.ok) world.s3.put(BUCKET, configKey(parsed.artifact.app, parsed.artifact.env), '{}');
    }
    for (let i = 0; i < records.length; i += 100) {
      const event: S3Event = { Records: records.slice(i, i + 100) };
      await handlers.startDeployment?.(event, {
        awsRequestId: 'fuzz',
        getRemainingTimeInMillis: () => 60_000,
      } as Context);
    }
    expect(started.length).toBeGreaterThan(0);
    expect(started.length).toBeLessThanOrEqual(valid.size);
    expect(world.calls.filter((c) => MUTATING_OPERATIONS.has(c.operation))).toEqual([]);
  });
});

// The config fuzz: every rule of the published JSON Schema broken in turn, on a config that uses
// every optional section, then random mutations.

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  anyOf?: Schema[];
};

const schema = JSON.parse(
  readFileSync(new URL('../../schema/deploy-config.schema.json', import.meta.url), 'utf8'),
) as Schema;
const example = JSON.parse(
  readFileSync(new URL('../../examples/web-prod.config.json', import.meta.url), 'utf8'),
);
const FULL = {
  ...example,
  instanceCount: 4,
  dns: { ...example.dns, recordType: 'A', ttlSeconds: 60, evaluateTargetHealth: true },
  bake: { ...example.bake, installDirectory: '/opt/app', timeoutMinutes: 60, pollSeconds: 60 },
  termination: { waitSeconds: 3600, checkIntervalSeconds: 300 },
  notifications: { topicArn: 'arn:aws:sns:us-east-1:123456789012:web-prod' },
  approval: { before: ['traffic-shift'], approvers: ['alice@example.com'], timeoutSeconds: 3600 },
};

interface Breach {
  rule: string;
  path: (string | number)[];
  value: unknown;
  remove?: boolean;
}

function* breaches(node: Schema, path: (string | number)[], current: unknown): Generator<Breach> {
  const at = path.join('.') || '(root)';
  if (node.type === 'object' && node.properties) {
    yield { rule: `${at} must be an object`, path, value: 'not an object' };
    for (const name of node.required ?? []) {
      yield { rule: `${at}.${name} is required`, path: [...path, name], value: undefined, remove: true };
    }
    if (node.additionalProperties === false) {
      yield { rule: `${at} accepts no unknown key`, path: [...path, 'unexpectedKey'], value: 1 };
    }
    for (const [name, child] of Object.entries(node.properties)) {
      const value = (current as Record<string, unknown> | undefined)?.[name];
      if (value !== undefined && name !== '$schema') yield* breaches(child, [...path, name], value);
    }
    return;
  }
  if (node.type === 'array') {
    yield { rule: `${at} must be an array`, path, value: 'not an array' };
    if (node.minItems !== undefined && node.minItems > 0) yield { rule: `${at} minItems`, path, value: [] };
    if (node.maxItems !== undefined && Array.isArray(current) && current.length > 0) {
      yield {
        rule: `${at} maxItems`,
        path,
        value: Array.from({ length: node.maxItems + 1 }, () => current[0]),
      };
    }
    if (node.items && Array.isArray(current) && current.length > 0)
      yield* breaches(node.items, [...path, 0], current[0]);
    return;
  }
  if (node.enum) yield { rule: `${at} enum`, path, value: 'not-one-of-them' };
  if (node.type === 'string') {
    yield { rule: `${at} must be a string`, path, value: 42 };
    if (node.pattern) {
      const pattern = new RegExp(node.pattern, 'u');
      const value = ['<script>alert(1)</script>', "'; rm -rf /", 'bell\u0007', '../..'].find(
        (c) => !pattern.test(c),
      );
      if (value !== undefined) yield { rule: `${at} pattern`, path, value };
    }
    if (node.minLength) yield { rule: `${at} minLength`, path, value: '' };
    if (node.maxLength)
      yield { rule: `${at} maxLength`, path, value: `${String(current)}${'x'.repeat(node.maxLength)}` };
  }
  if (node.type === 'integer' || node.type === 'number') {
    yield { rule: `${at} must be a number`, path, value: 'ten' };
    if (node.type === 'integer') yield { rule: `${at} must be an integer`, path, value: 1.5 };
    if (node.minimum !== undefined) yield { rule: `${at} minimum`, path, value: node.minimum - 1 };
    if (node.maximum !== undefined) yield { rule: `${at} maximum`, path, value: node.maximum + 1 };
  }
  if (node.type === 'boolean') yield { rule: `${at} must be a boolean`, path, value: 'yes' };
}

function apply(breach: Breach): unknown {
  const copy = structuredClone(FULL);
  if (breach.path.length === 0) return breach.value;
  const parent = breach.path
    .slice(0, -1)
    .reduce<Record<string | number, unknown>>((node, key) => node[key] as never, copy);
  const last = breach.path.at(-1) as string | number;
  if (breach.remove) delete parent[last];
  else parent[last] = breach.value;
  return copy;
}

const BREACHES = [...breaches(schema, [], FULL)];

describe('fuzzed configs', () => {
  it('the config with every optional section is valid (the fuzz starts from a good one)', () => {
    expect(validateConfig(FULL)).toMatchObject({ ok: true });
  });

  it(`refuses each of the ${BREACHES.length} schema rules broken in turn, naming the field`, () => {
    expect(BREACHES.length).toBeGreaterThan(100);
    for (const breach of BREACHES) {
      const result = validateConfig(apply(breach));
      expect(result.ok, breach.rule).toBe(false);
      if (result.ok) continue;
      const field = breach.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.') || '(root)';
      const named = result.problems.some(
        (p) =>
          p.startsWith(field) ||
          (breach.remove || breach.path.at(-1) === 'unexpectedKey'
            ? p.startsWith(breach.path.slice(0, -1).join('.') || '(root)')
            : false),
      );
      expect(named, `${breach.rule}: ${result.problems.join(' | ')}`).toBe(true);
    }
  });

  it('never throws on random JSON, and every problem starts with the field it is about', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc
            .tuple(fc.constantFrom(...BREACHES), fc.jsonValue())
            .map(([b, v]) => apply({ ...b, value: v, remove: false })),
        ),
        (json) => {
          const result = validateConfig(json);
          if (!result.ok) for (const problem of result.problems) expect(problem).toMatch(/^[\w$.[\]()]+: \S/);
        },
      ),
      { numRuns: 1000, seed: 1126 },
    );
  });
});
