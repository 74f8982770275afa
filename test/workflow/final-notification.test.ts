import { describe, expect, it } from 'vitest';
import { STATE } from '#shared/domain/states.ts';
import { simulate } from '../../sim/simulate.ts';
import { lambdaFunction, type World } from '../../sim/world.ts';
import { uploadVersion } from '../../sim/worlds.ts';
import { stopRelease } from '../support/releases.ts';
import { testScenario } from '../support/scenarios.ts';

// The final notifier tells first and releases the lock last: a locks table that keeps failing
// for it costs the hand-over some time (the recovery on the execution's end releases the lock),
// never the message.

/** Every call the final notifier makes to DynamoDB fails, for the whole run. */
function locksTableFailsForTheNotifier(world: World): void {
  world.inject({
    service: 'dynamodb',
    kind: 'throttle',
    times: 100_000,
    when: () => lambdaFunction.getStore() === 'notify',
  });
}

function toldPerExecution(world: World): Record<string, string[]> {
  const told: Record<string, string[]> = {};
  for (const message of world.sns.messages.filter((m) => m.attributes.outcome)) {
    const name = message.attributes.deployment ?? '(unnamed)';
    told[name] = [...(told[name] ?? []), message.subject];
  }
  return told;
}

describe('the final notification when the locks table keeps failing', () => {
  it('is sent, once, and the lock is freed at the execution’s end', async () => {
    const scenario = testScenario('locks-table-down-for-notifier', 'SUCCEEDED', {
      summary:
        'every DynamoDB call of the final notifier is throttled: the deploy is told, the lock freed after',
      prepare: ({ world }) => locksTableFailsForTheNotifier(world),
    });
    const { summary, world } = await simulate(scenario);
    // The run's own checks include "the lock is still held" at the end.
    expect(summary.problems).toEqual([]);
    const [execution] = world.sfn.executions.values();
    expect(toldPerExecution(world)).toEqual({ [execution?.name ?? '']: ['Deployed web/prod 1.1.0'] });
    expect(execution?.states.map((s) => s.name)).toContain(STATE.succeeded);
  });

  it('still hands the app/env to the upload waiting behind it', async () => {
    const scenario = testScenario('locks-table-down-for-notifier-with-waiter', 'SUCCEEDED', {
      summary: '1.1.0 deploys, 1.2.0 waits; the final notifier cannot reach the locks table',
      executions: 2,
      expectLive: '1.2.0',
      prepare: ({ world }) => locksTableFailsForTheNotifier(world),
      act: (ctx) => {
        uploadVersion(ctx, '1.1.0');
        ctx.after(60, () => uploadVersion(ctx, '1.2.0'));
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.problems).toEqual([]);
    const told = toldPerExecution(world);
    expect(Object.values(told).sort()).toEqual([['Deployed web/prod 1.1.0'], ['Deployed web/prod 1.2.0']]);
  });
});

describe('the recovery of a stopped deploy when the locks table throttles it', () => {
  it('tells once, though it published before it could record that and then had to be retried', async () => {
    const scenario = testScenario('stopped-recovery-table-throttled', 'ROLLED_BACK', {
      summary:
        'Stop during the bake; the recovery cannot write its notification claim, publishes, then fails to free the lock and is retried',
      prepare: ({ world }) =>
        world.inject({
          service: 'dynamodb',
          operation: 'PutItem',
          kind: 'throttle',
          times: 2,
          when: () => lambdaFunction.getStore() === 'recoverExecution',
        }),
      act: (ctx) => {
        uploadVersion(ctx, '1.1.0');
        ctx.after(8 * 60, () => stopRelease(ctx, '1.1.0'));
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.problems).toEqual([]);
    const [execution] = world.sfn.executions.values();
    expect(toldPerExecution(world)).toEqual({ [execution?.name ?? '']: ['Stopped: web/prod 1.1.0'] });
  });
});
