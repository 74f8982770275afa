import type { Context, S3Event, S3EventRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { configKey, encodeEventKey } from '#shared/domain/artifact-key.ts';
import { MUTATING_OPERATIONS } from '../../sim/simulate.ts';
import { DEFAULT_TOPIC_ARN, LOCKS_TABLE, type World } from '../../sim/world.ts';
import { BUCKET, defaultConfig, releaseKey, s3Record } from '../../sim/worlds.ts';
import { seededAccount } from '../support/accounts.ts';

// The starter against the simulated account: an upload under releases/ that it ignores is told on
// the deployments topic, once per object version, with the key quoted on one line of its own.

type StartResult = { started: string[]; duplicates: string[]; ignored: { key: string; reason: string }[] };

let world: World;
let start: (event: S3Event, context: Context) => Promise<StartResult>;
let deliveries = 0;

function deliver(...records: S3EventRecord[]): Promise<StartResult> {
  deliveries += 1;
  return start({ Records: records }, {
    awsRequestId: `delivery-${deliveries}`,
    getRemainingTimeInMillis: () => 30_000,
  } as Context);
}

/** Writes the object and returns its event record, the key as S3 encodes it (or `eventKey` as given). */
function upload(key: string, eventKey?: string): S3EventRecord {
  const object = world.s3.put(BUCKET, key, `PK\u0003\u0004 ${key}`);
  const record = s3Record(BUCKET, key, { ...object, size: 10 }, world.now());
  if (eventKey !== undefined) record.s3.object.key = eventKey;
  return record;
}

function told() {
  return world.sns.messages.filter((m) => m.attributes.outcome === 'ignored');
}

beforeEach(async () => {
  const account = await seededAccount();
  world = account.world;
  start = account.handlers.startDeployment as unknown as typeof start;
  world.s3.put(BUCKET, configKey('web', 'prod'), JSON.stringify(defaultConfig()));
  world.sfn.onStart = () => undefined;
});

describe('an upload the starter ignores', () => {
  it('with a bad key is told once, naming the key and why, and starts nothing', async () => {
    const result = await deliver(upload('releases/Web App/prod/1.1.0.zip'));

    expect(result.started).toEqual([]);
    expect(world.sfn.executions.size).toBe(0);
    const [message, ...more] = told();
    expect(more).toEqual([]);
    expect(message?.topicArn).toBe(DEFAULT_TOPIC_ARN);
    expect(message?.subject).toBe('Upload ignored: not a release artifact key');
    expect(message?.attributes).toEqual({ kind: 'ignored-upload', outcome: 'ignored', reason: 'key' });
    expect(message?.message).toContain('Key: "releases/Web App/prod/1.1.0.zip"');
    expect(message?.message).toMatch(/^Why: app "Web App" must be 1-32 lowercase letters/m);
    expect(world.calls.filter((c) => MUTATING_OPERATIONS.has(c.operation))).toEqual([]);
  });

  it('for an app/env with no config is told once, naming the key, the config and the redeploy', async () => {
    const key = releaseKey('2.0.0', 'zip', 'billing');

    const result = await deliver(upload(key));

    expect(result.started).toEqual([]);
    expect(result.ignored).toEqual([{ key, reason: expect.stringContaining('config/billing/prod.json') }]);
    expect(world.sfn.executions.size).toBe(0);
    const [message, ...more] = told();
    expect(more).toEqual([]);
    expect(message?.subject).toBe('Upload ignored: no config for billing/prod');
    expect(message?.attributes).toEqual({
      kind: 'ignored-upload',
      outcome: 'ignored',
      reason: 'config',
      app: 'billing',
      env: 'prod',
      version: '2.0.0',
    });
    expect(message?.message).toContain(`Key: "${key}"`);
    expect(message?.message).toContain('bluegreen redeploy billing prod 2.0.0');
  });

  it('delivered again (the same object version) publishes nothing new', async () => {
    const record = upload('releases/web/prod/1.1.0.zip.bak');

    await deliver(record);
    await deliver(record);
    await deliver(structuredClone(record));

    expect(told()).toHaveLength(1);
    const records = world.dynamodb.items(LOCKS_TABLE).filter((i) => String(i.id).startsWith('ignored#'));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ state: 'published' });
  });

  it('written again under the same bad key (another object version) is told again', async () => {
    await deliver(upload('releases/web/prod/latest.zip.tmp'));
    await deliver(upload('releases/web/prod/latest.zip.tmp'));

    expect(told()).toHaveLength(2);
  });

  it('outside releases/ is not told (the rest of the bucket is the service’s own)', async () => {
    const result = await deliver(upload('uploads/web/prod/1.1.0.zip'), upload('config/web/prod.json'));

    expect(result.ignored).toHaveLength(2);
    expect(told()).toEqual([]);
    expect(world.calls.filter((c) => c.service === 'dynamodb' || c.service === 'sns')).toEqual([]);
  });

  it('that is not an object-created record is told, its event name quoted', async () => {
    const record = upload('releases/web/prod/1.1.0.zip');
    record.eventName = 'ObjectRemoved:Delete\nSubject: Deployed web/prod 9.9.9';

    await deliver(record);

    const [message] = told();
    expect(message?.subject).toBe('Upload ignored: not an object-created event');
    expect(message?.message).toContain('Event: "ObjectRemoved:Delete\\nSubject: Deployed web/prod 9.9.9"');
    expect(message?.message.split('\n').some((line) => line.startsWith('Subject:'))).toBe(false);
    expect(world.sfn.executions.size).toBe(0);
  });

  it('is told even when the release next to it in the event starts', async () => {
    const result = await deliver(upload('releases/web/Prod/1.1.0.zip'), upload(releaseKey('1.1.0')));

    expect(result.started).toHaveLength(1);
    expect(told()).toHaveLength(1);
  });

  it('fails the invocation when the message cannot be published, after starting the rest', async () => {
    world.sns.Publish = () => {
      throw Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabledException', $fault: 'client' });
    };

    const run = deliver(upload('releases/web/prod/v 1.zip'), upload(releaseKey('1.1.0')));

    await expect(run).rejects.toMatchObject({ name: 'KMSDisabledException' });
    expect(world.sfn.executions.size).toBe(1);
  });
});

describe('a hostile key', () => {
  const hostile: [string, string][] = [
    ['a line break and a forged header', 'releases/web/prod/1.1.0\nSubject: Deployed web/prod 9.9.9\n.zip'],
    ['a carriage return', 'releases/web/prod/1.1.0\r\nOutcome: succeeded.zip'],
    ['a bidi override', 'releases/web/prod/\u202Epiz.0.1.1'],
    ['a line separator', 'releases/web/prod/1\u2028Why: nothing.zip'],
    ['quotes and a backslash', 'releases/web/prod/"Key: \\"x\\"".zip'],
    ['a NUL and a DEL', 'releases/web/prod/1\u0000\u007f.zip'],
  ];

  it.each(hostile)('with %s is told on one quoted line and adds no line', async (_what, key) => {
    await deliver(upload(key, encodeEventKey(key)));

    const [message, ...more] = told();
    expect(more).toEqual([]);
    const lines = message?.message.split('\n') ?? [];
    const keyLines = lines.filter((line) => line.startsWith('Key: '));
    expect(keyLines).toHaveLength(1);
    // The quoted key reads back exactly (a JSON string literal) and is one line.
    expect(JSON.parse((keyLines[0] ?? '').slice('Key: '.length))).toBe(key);
    expect(lines.some((line) => /^(Subject|Outcome|Why: nothing)/.test(line))).toBe(false);
    // No line holds a control, format (bidi) or separator character: the key's are escaped.
    expect(lines.filter((line) => /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(line))).toEqual([]);
    // The key is neither the subject nor an attribute.
    expect(message?.subject).toBe('Upload ignored: not a release artifact key');
    expect(Object.values(message?.attributes ?? {}).join(' ')).not.toContain('9.9.9');
  });

  it('with broken URL encoding is told as the event carries it', async () => {
    await deliver(upload('releases/web/prod/1.2.0.zip', 'releases/web/prod/%E0%A4%A.zip'));

    const [message] = told();
    expect(message?.message).toContain('Key: "releases/web/prod/%E0%A4%A.zip"');
    expect(message?.message).toMatch(/^Why: key .* is not valid URL encoding$/m);
  });

  it('of 1,024 characters is told, its record id of bounded length', async () => {
    const key = `releases/web/prod/${'a'.repeat(1000)}.zip`;

    await deliver(upload(key));

    expect(told()).toHaveLength(1);
    const [record] = world.dynamodb.items(LOCKS_TABLE).filter((i) => String(i.id).startsWith('ignored#'));
    expect(String(record?.id)).toMatch(/^ignored#[0-9a-f]{64}$/);
  });
});
