import type { Context, S3Event } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { configKey } from '#shared/domain/artifact-key.ts';
import { World } from '../../sim/world.ts';
import { BUCKET, defaultConfig, releaseKey, s3Record } from '../../sim/worlds.ts';
import { seededAccount } from '../support/accounts.ts';

// Two deliveries of one S3 event at the same moment (S3 is at-least-once; each delivery is its
// own Lambda invocation). Both ask Step Functions whether the execution exists before either has
// started it: one execution runs, and the starters' results say one started it and one was a
// duplicate, not both "started".

type StartResult = { started: string[]; duplicates: string[]; ignored: unknown[] };

function invocation(requestId: string): Context {
  return { awsRequestId: requestId, getRemainingTimeInMillis: () => 30_000 } as Context;
}

/** The starter against a fresh account, and the S3 event of release 1.1.0's upload. */
async function uploadedRelease() {
  const { handlers, world } = await seededAccount();
  // Started, not run: only the start is under test.
  world.sfn.onStart = () => undefined;
  world.s3.put(BUCKET, configKey('web', 'prod'), JSON.stringify(defaultConfig()));
  const key = releaseKey('1.1.0');
  const object = world.s3.put(BUCKET, key, 'PK\u0003\u0004 web 1.1.0');
  const event: S3Event = { Records: [s3Record(BUCKET, key, { ...object, size: 16 }, world.now())] };
  const start = handlers.startDeployment as unknown as (e: S3Event, c: Context) => Promise<StartResult>;
  return { world, event, start };
}

describe('two deliveries of one S3 event at the same moment', () => {
  it('start one execution, and one says it started it while the other says it was a duplicate', async () => {
    const { world, event, start } = await uploadedRelease();
    // Neither lookup answers before both were asked: the race the pre-check cannot close.
    const describe = world.sfn.DescribeExecution.bind(world.sfn);
    let asked = 0;
    let bothAsked: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => {
      bothAsked = resolve;
    });
    world.sfn.DescribeExecution = (async (input: { executionArn?: string }) => {
      asked += 1;
      if (asked === 2) bothAsked();
      await barrier;
      return describe(input);
    }) as unknown as typeof world.sfn.DescribeExecution;

    const results = await Promise.all([
      start(event, invocation('delivery-1')),
      start(event, invocation('delivery-2')),
    ]);

    expect(world.sfn.executions.size).toBe(1);
    expect(results.map((r) => r.started.length).sort()).toEqual([0, 1]);
    expect(results.map((r) => r.duplicates.length).sort()).toEqual([0, 1]);
    const [name] = [...world.sfn.executions.keys()];
    expect(results.flatMap((r) => [...r.started, ...r.duplicates])).toEqual([name, name]);
  });

  it('count a retry of the same delivery (Lambda keeps its request id) as the same start', async () => {
    const { world, event, start } = await uploadedRelease();

    // The first attempt started the execution and then failed (a later record, a timeout): Lambda
    // retries it with the same request id, and the execution is not started again.
    const first = await start(event, invocation('delivery-1'));
    const retry = await start(event, invocation('delivery-1'));

    expect(world.sfn.executions.size).toBe(1);
    expect(first.started).toHaveLength(1);
    expect(retry).toMatchObject({ started: [], duplicates: first.started });
  });

  it('meet a simulated Step Functions that answers starts as AWS documents them', () => {
    const world = new World();
    const arn = world.sfn.stateMachineArn;
    world.sfn.onStart = () => undefined;
    const first = world.sfn.StartExecution({
      stateMachineArn: arn,
      name: 'web-prod-1_1_0-x',
      input: '{"a":1}',
    });
    // The same name and input while it runs: the original start's answer, not a second execution.
    expect(
      world.sfn.StartExecution({ stateMachineArn: arn, name: 'web-prod-1_1_0-x', input: '{"a":1}' }),
    ).toEqual(first);
    // Another input under the name: refused.
    expect(() =>
      world.sfn.StartExecution({ stateMachineArn: arn, name: 'web-prod-1_1_0-x', input: '{"a":2}' }),
    ).toThrow(expect.objectContaining({ name: 'ExecutionAlreadyExists' }));
    // Once it has ended, any start under the name is refused.
    const execution = world.sfn.executions.get('web-prod-1_1_0-x');
    if (execution) execution.status = 'SUCCEEDED';
    expect(() =>
      world.sfn.StartExecution({ stateMachineArn: arn, name: 'web-prod-1_1_0-x', input: '{"a":1}' }),
    ).toThrow(expect.objectContaining({ name: 'ExecutionAlreadyExists' }));
    expect(world.sfn.executions.size).toBe(1);
  });
});
