import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lockId } from '#shared/domain/lock.ts';
import { METRICS_NAMESPACE, OUTCOME_METRICS } from '#shared/domain/metrics.ts';
import { publicationId } from '#shared/domain/publication.ts';
import type { DeploymentState, Notification } from '#shared/domain/workflow.ts';
import type { NotifyInput } from '#shared/tasks/notify.ts';
import { LOCKS_TABLE, STATE_MACHINE_ARN, type World } from '../../sim/world.ts';
import { seededAccount } from '../support/accounts.ts';
import { keptStdout } from '../support/stdout.ts';

// The final notifier against the simulated account: it tells first and releases last, and it
// tells once, however often Step Functions runs it for the same execution.

const NAME = 'web-prod-1_1_0-0123456789';
const EXECUTION_ARN = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${NAME}`;
const WAITER = 'web-prod-1_2_0-0123456789';

const deployment: DeploymentState = {
  deploymentId: NAME,
  app: 'web',
  env: 'prod',
  version: '1.1.0',
  format: 'zip',
  artifact: { bucket: 'bluegreen-ec2-sim-releases-123456789012', key: 'releases/web/prod/1.1.0.zip' },
} as DeploymentState;
const input: NotifyInput = { outcome: 'succeeded', executionArn: EXECUTION_ARN, deployment };

let world: World;
let notify: (input: NotifyInput, context: Context) => Promise<Notification>;

function context(remainingMs = 60_000): Context {
  return { awsRequestId: 'r', getRemainingTimeInMillis: () => remainingMs } as Context;
}

function finals() {
  return world.sns.messages.filter((m) => m.attributes.deployment === NAME);
}

function lock() {
  return world.dynamodb.items(LOCKS_TABLE).find((item) => item.id === lockId('web', 'prod'));
}

function record() {
  return world.dynamodb.items(LOCKS_TABLE).find((item) => item.id === publicationId(NAME));
}

/** Another invocation, `claimant`, claimed publishing this execution's notification until `until` (ms). */
function claimedBy(claimant: string, until: number): void {
  world.dynamodb.PutItem({
    TableName: LOCKS_TABLE,
    Item: {
      id: { S: publicationId(NAME) },
      state: { S: 'publishing' },
      claimant: { S: claimant },
      until: { N: String(until) },
      ttl: { N: String(Math.floor(Date.now() / 1000) + 3600) },
    },
  });
}

beforeEach(async () => {
  const account = await seededAccount();
  world = account.world;
  notify = account.handlers.notify as unknown as typeof notify;
  // This deployment holds the lock; a newer one, still running, waits on it.
  world.sfn.executions.set(WAITER, {
    arn: EXECUTION_ARN.replace(NAME, WAITER),
    stateMachineArn: world.sfn.stateMachineArn,
    name: WAITER,
    input: '{}',
    status: 'RUNNING',
    startedAt: world.now(),
    transitions: 0,
    states: [],
    retries: 0,
    history: [],
  });
  const token = world.sfn.issueToken(WAITER, 'Take the deployment lock');
  world.sfn.waitFor(token).catch(() => undefined);
  world.dynamodb.PutItem({
    TableName: LOCKS_TABLE,
    Item: {
      id: { S: lockId('web', 'prod') },
      version: { N: '3' },
      owner: {
        M: {
          name: { S: NAME },
          executionArn: { S: EXECUTION_ARN },
          uploadedAt: { S: '2026-03-02T09:00:00.000Z' },
          since: { S: '2026-03-02T09:00:05.000Z' },
        },
      },
      waiters: {
        L: [
          {
            M: {
              name: { S: WAITER },
              executionArn: { S: `${EXECUTION_ARN.replace(NAME, WAITER)}` },
              uploadedAt: { S: '2026-03-02T09:10:00.000Z' },
              since: { S: '2026-03-02T09:10:05.000Z' },
              token: { S: token },
            },
          },
        ],
      },
    },
  });
});

describe('the final notification', () => {
  it('is told first and the lock released last, handed to the waiter', async () => {
    const told = await notify(input, context());

    expect(told.subject).toBe('Deployed web/prod 1.1.0');
    expect(finals()).toHaveLength(1);
    expect(lock()?.owner).toMatchObject({ name: WAITER });
    const published = world.calls.findIndex((c) => c.operation === 'Publish');
    const handedOn = world.calls.findIndex((c) => c.operation === 'SendTaskSuccess');
    expect(published).toBeGreaterThanOrEqual(0);
    expect(handedOn).toBeGreaterThan(published);
  });

  it('leaves out an attribute it has no value for: SNS refuses an empty one', async () => {
    const unversioned = { ...deployment, version: undefined } as unknown as DeploymentState;

    await notify({ outcome: 'failed', executionArn: EXECUTION_ARN, deployment: unversioned }, context());

    expect(finals()).toHaveLength(1);
    expect(finals()[0]?.attributes).toMatchObject({ kind: 'outcome', outcome: 'failed', app: 'web' });
    expect(finals()[0]?.attributes).not.toHaveProperty('version');
  });

  it('is still sent when the locks table keeps failing, and the lock is left to the execution’s end', async () => {
    world.inject({ service: 'dynamodb', kind: 'throttle', times: 1000 });

    const told = await notify(input, context());

    expect(finals()).toHaveLength(1);
    expect(finals()[0]?.subject).toBe('Deployed web/prod 1.1.0');
    expect(told.messageId).not.toBe('');
    // Not handed on: the recovery on the execution's end releases it (the next deployment would
    // take it over at once anyway, the owner having ended on its own path).
    world.faults.length = 0;
    expect(lock()?.owner).toMatchObject({ name: NAME });
  });

  it('is sent once: a retry after a timeout, or the same invocation delivered twice, publishes nothing', async () => {
    const first = await notify(input, context());
    const again = await notify(input, context());
    const third = await notify({ ...input, deployment: { ...deployment } }, context());

    expect(finals()).toHaveLength(1);
    expect(again).toEqual(first);
    expect(third).toEqual(first);
    expect(record()).toMatchObject({ state: 'published', published: first });
    // Kept a while, then removed by DynamoDB's TTL.
    expect(Number(record()?.ttl)).toBeGreaterThan(Date.now() / 1000);
  });

  it('waits for an invocation that is publishing it at the same moment, rather than publish too', async () => {
    claimedBy('the-other-invocation', Date.now() + 50_000);

    await expect(notify(input, context())).rejects.toMatchObject({ name: 'NotificationInFlight' });

    expect(finals()).toHaveLength(0);
    // Nothing handed on while the message is not out.
    expect(lock()?.owner).toMatchObject({ name: NAME });
  });

  it('takes over the claim of an invocation that died before it recorded the publication (at least once)', async () => {
    claimedBy('an-invocation-that-timed-out', Date.now() - 1);

    const told = await notify(input, context());

    expect(finals()).toHaveLength(1);
    expect(record()).toMatchObject({ state: 'published', published: told });
  });

  it('publishes at once when the SDK retried its own claim, whose first put took effect', async () => {
    // The claim's put is written, its response lost; the SDK's retry then fails its condition.
    world.inject({
      service: 'dynamodb',
      operation: 'PutItem',
      kind: 'response-lost-then-retried',
      times: 1,
      when: (i) => JSON.stringify(i).includes(publicationId(NAME)),
    });

    const told = await notify(input, context());

    expect(finals()).toHaveLength(1);
    expect(record()).toMatchObject({ state: 'published', published: told });
  });

  it('frees its claim when the publish fails, so the retry publishes at once', async () => {
    world.inject({ service: 'sns', operation: 'Publish', kind: 'transient', times: 1 });

    await expect(notify(input, context())).rejects.toMatchObject({ name: 'AwsTransient' });
    expect(record()).toMatchObject({ state: 'abandoned' });
    expect(lock()?.owner).toMatchObject({ name: NAME });
    await notify(input, context());

    expect(finals()).toHaveLength(1);
    expect(lock()?.owner).toMatchObject({ name: WAITER });
  });
});

describe('the deployment metrics', () => {
  // Kept from the test output: the lines are read here.
  const written = keptStdout();
  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  /** The embedded-metric-format documents written to stdout. */
  function emf(): Record<string, unknown>[] {
    return written()
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"CloudWatchMetrics"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  const bake = {
    status: 'AVAILABLE',
    reused: false,
    startedAt: '2026-03-02T09:00:10.000Z',
    completedAt: '2026-03-02T09:20:10.000Z',
    polls: 4,
  } as const;

  it('counts a succeeded deployment once, by app and env, with its bake', async () => {
    const state = { ...deployment, bake } as DeploymentState;
    await notify({ ...input, deployment: state }, context());
    await notify({ ...input, deployment: state }, context());

    const docs = emf();
    expect(docs).toHaveLength(1);
    const doc = docs[0] as Record<string, unknown> & {
      _aws: {
        CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
      };
    };
    const [directive] = doc._aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive?.Dimensions).toEqual([['service', 'app', 'env']]);
    expect(directive?.Metrics.map((m) => m.Name)).toEqual([
      'DeploymentSucceeded',
      'BakeReused',
      'BakeDurationSeconds',
    ]);
    expect(doc).toMatchObject({
      app: 'web',
      env: 'prod',
      DeploymentSucceeded: 1,
      BakeReused: 0,
      BakeDurationSeconds: 1200,
    });
  });

  it('counts a rolled-back deployment as rolled back, not as succeeded', async () => {
    await notify({ ...input, outcome: 'rolled-back' }, context());

    const [doc] = emf();
    expect(doc).toMatchObject({ app: 'web', env: 'prod', [OUTCOME_METRICS['rolled-back']]: 1 });
    expect(doc).not.toHaveProperty(OUTCOME_METRICS.succeeded);
  });
});
