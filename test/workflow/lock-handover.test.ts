import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { LOCK_WAIT_SECONDS } from '#shared/domain/lock.ts';
import { STATE } from '#shared/domain/states.ts';
import { slowCall } from '../../sim/runner.ts';
import { simulate } from '../../sim/simulate.ts';
import { actor, LOCKS_TABLE, STATE_MACHINE_ARN, type World } from '../../sim/world.ts';
import { greenWeightReaches, releaseKey, uploadVersion } from '../../sim/worlds.ts';
import { executionOf, recoveryNeverComes, stopRelease } from '../support/releases.ts';
import { testScenario } from '../support/scenarios.ts';

// The lock handed over at awkward moments: a resume that lands after the waiter asked again and
// found itself the owner, and a waiter that ends before the lock reaches it.

/**
 * How long after the Stop the lock is released: the status event (1 s), then the rollback
 * execution's change in sync (40 s), the TTL (60 s), green's deregistration delay (300 s).
 */
const RELEASE_AFTER_STOP_SECONDS = 401;

const rel = (world: World, ms?: number) =>
  ms === undefined ? '-' : ((ms - world.startedAt) / 1000).toFixed(1);

/**
 * 1.1.0 deploys; 1.2.0 parks on the lock at A. 1.1.0 is stopped `lead` seconds before A + 1800
 * (1.2.0's 30-minute re-ask); the rollback's SendTaskSuccess to 1.2.0 takes 2 s (one SDK retry);
 * 1.3.0 is uploaded 10 minutes after the stop.
 */
async function run(lead: number, withNewer: boolean) {
  const log: string[] = [];
  const scenario = testScenario('reask-vs-release', 'SUCCEEDED', {
    summary: 'release and the 30-minute re-ask at the same moment',
    executions: withNewer ? 3 : 2,
    prepare: (ctx) => {
      const { world } = ctx;
      const sfn = world.sfn as unknown as Record<string, (i: unknown) => unknown>;
      const send = sfn.SendTaskSuccess?.bind(world.sfn);
      let delayed = false;
      sfn.SendTaskSuccess = (input: unknown) => {
        const by = actor.getStore() ?? '';
        if (!delayed && by.includes('1_1_0') && executionOf(world, '1.1.0')?.status !== 'RUNNING') {
          delayed = true;
          log.push(`${rel(world, world.now())} recovery SendTaskSuccess sent (lands 2 s later)`);
          const landing = new Promise((resolve, reject) =>
            setTimeout(() => {
              try {
                resolve(send?.(input));
                log.push(`${rel(world, world.now())} recovery SendTaskSuccess landed`);
              } catch (e) {
                log.push(`${rel(world, world.now())} recovery SendTaskSuccess -> ${(e as Error).name}`);
                reject(e);
              }
            }, 2000),
          );
          // Sent by the rollback execution's final notification: a task, whose clock must move.
          const outside = slowCall.getStore();
          return outside ? outside(landing) : landing;
        }
        return send?.(input);
      };
      const put = world.dynamodb.PutItem.bind(world.dynamodb);
      world.dynamodb.PutItem = ((input: { Item?: Record<string, { S?: string }> }) => {
        const out = put(input as never);
        const item = JSON.stringify(input.Item ?? {});
        if (item.includes('web/prod') && !item.includes('#'))
          log.push(
            `${rel(world, world.now())} lock write by ${actor.getStore()}: owner=${/"owner".{0,80}?web-prod-(1_\d_0)/.exec(item)?.[1] ?? 'none'}`,
          );
        return out;
      }) as typeof world.dynamodb.PutItem;
    },
    act: (ctx) => {
      const { world } = ctx;
      uploadVersion(ctx, '1.1.0');
      ctx.after(60, () => {
        uploadVersion(ctx, '1.2.0');
        const watch = () => {
          const at = executionOf(world, '1.2.0')?.states.find((s) => s.name === STATE.lock)?.at;
          if (at === undefined) return ctx.after(0.1, watch);
          log.push(`${rel(world, at)} 1.2.0 asks (times out at ${rel(world, at + 1_800_000)})`);
          ctx.after((at + 1_800_000 - world.now()) / 1000 - lead, () => {
            log.push(`${rel(world, world.now())} stop 1.1.0`);
            ctx.stop(executionOf(world, '1.1.0')?.name ?? '');
            if (withNewer) ctx.after(600, () => uploadVersion(ctx, '1.3.0'));
          });
        };
        ctx.after(0.1, watch);
      });
    },
  });
  const result = await simulate(scenario);
  const { world, summary } = result;
  for (const e of world.sfn.executions.values()) {
    const plan = e.states.find((s) => s.name === STATE.plan)?.at;
    log.push(
      `${e.name} ${e.status} ${e.error ?? ''} start ${rel(world, e.startedAt)} planned ${rel(world, plan)} end ${rel(world, e.stoppedAt)}`,
    );
  }
  return { log, summary, world };
}

describe('handing the lock over', () => {
  it('keeps it with a waiter that asked again and found itself the owner, though the old resume fails', async () => {
    const { log, summary, world } = await run(RELEASE_AFTER_STOP_SECONDS, true);
    expect(executionOf(world, '1.2.0')?.states.some((s) => s.name === STATE.plan)).toBe(true);
    expect(summary.violations, log.join('\n')).toEqual([]);
  });

  it('never hands it to a waiter that ended before it came its turn', async () => {
    const scenario = testScenario('polling-waiter-stopped', 'SUCCEEDED', {
      summary: '1.1.0 stopped at 50 %; 1.2.0 polls for the lock and is stopped; 1.3.0 five minutes later',
      executions: 3,
      expectLive: '1.3.0',
      prepare: (ctx) => {
        greenWeightReaches(ctx.world, 50, () =>
          ctx.after(30, () => {
            stopRelease(ctx, '1.1.0');
            ctx.after(2, () => uploadVersion(ctx, '1.2.0'));
            ctx.after(20, () => stopRelease(ctx, '1.2.0'));
            ctx.after(300, () => uploadVersion(ctx, '1.3.0'));
          }),
        );
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.problems.filter((p) => /still held by/.test(p))).toEqual([]);
    expect(summary.violations).toEqual([]);
    const newest = executionOf(world, '1.3.0');
    const planned = newest?.states.find((s) => s.name === STATE.plan)?.at ?? 0;
    // It took the free lock at once instead of waiting out a dead waiter's grace.
    expect((planned - (newest?.startedAt ?? 0)) / 60_000).toBeLessThan(2);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', liveVersion: '1.3.0' });
  });

  describe('a waiter stopped while it waits', () => {
    /** 1.1.0 deploys; 1.2.0 parks on the lock 10 minutes in and is stopped 20 minutes later. */
    function stoppedWaiter(recovered: boolean, seen: { waitersAfterStop?: unknown; owners: string[] }) {
      const scenario = testScenario('stopped-waiter', 'SUCCEEDED', {
        summary: '1.2.0 waits for the lock behind 1.1.0 and is stopped; 1.1.0 ends; 1.3.0 is uploaded later',
        executions: 3,
        expectLive: '1.3.0',
        prepare: ({ world }) => {
          const put = world.dynamodb.PutItem.bind(world.dynamodb);
          world.dynamodb.PutItem = ((input: Parameters<typeof put>[0]) => {
            const out = put(input);
            const owner = input.Item?.owner?.M?.name?.S;
            if (input.Item?.id?.S === 'web/prod' && owner) seen.owners.push(owner);
            return out;
          }) as typeof put;
        },
        act: (ctx) => {
          uploadVersion(ctx, '1.1.0');
          ctx.after(600, () => uploadVersion(ctx, '1.2.0'));
          ctx.after(1800, () => {
            if (!recovered) recoveryNeverComes(ctx.world, '1.2.0');
            stopRelease(ctx, '1.2.0');
          });
          ctx.after(1860, () => {
            seen.waitersAfterStop = ctx.world.dynamodb
              .items(LOCKS_TABLE)
              .find((i) => i.id === 'web/prod')?.waiters;
          });
          ctx.after(4 * 3600, () => uploadVersion(ctx, '1.3.0'));
        },
      });
      return simulate(scenario);
    }

    it('is taken off the waiters by its recovery', async () => {
      const seen: { waitersAfterStop?: unknown; owners: string[] } = { owners: [] };
      const { summary } = await stoppedWaiter(true, seen);
      expect(seen.waitersAfterStop).toEqual([]);
      expect(seen.owners.filter((o) => o.includes('1_2_0'))).toEqual([]);
      expect(summary.problems).toEqual([]);
    });

    it('is never handed the lock, though its recovery never ran: the lock is free for the next upload', async () => {
      const seen: { waitersAfterStop?: unknown; owners: string[] } = { owners: [] };
      const { summary, world } = await stoppedWaiter(false, seen);
      // Still listed (nobody took it off), but checked before the hand-over, and skipped.
      expect(seen.waitersAfterStop).toHaveLength(1);
      expect(seen.owners.filter((o) => o.includes('1_2_0'))).toEqual([]);
      // No resume was sent to its dead token.
      const resumes = world.calls.filter((c) => c.operation === 'SendTaskSuccess' && c.fn !== 'onAwsEvent');
      expect(resumes.filter((c) => c.error)).toEqual([]);
      expect(world.sfn.openTokens()).toBe(0);
      const newest = executionOf(world, '1.3.0');
      const planned = newest?.states.find((s) => s.name === STATE.plan)?.at ?? 0;
      expect((planned - (newest?.startedAt ?? 0)) / 60_000).toBeLessThan(2);
      expect(summary.problems).toEqual([]);
    });
  });

  it('refuses an older upload whose event arrives after a newer one was deployed', async () => {
    const scenario = testScenario('late-older-event', 'SUCCEEDED', {
      summary: '1.1.5 is uploaded first, but its event arrives two hours later, after 1.2.0 was deployed',
      executions: 2,
      expectLive: '1.2.0',
      act: (ctx) => {
        const late = ctx.upload(releaseKey('1.1.5'), 'PK\u0003\u0004 web 1.1.5');
        ctx.after(1, () => uploadVersion(ctx, '1.2.0'));
        ctx.deliver([late], 7200);
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(executionOf(world, '1.1.5')).toMatchObject({ status: 'FAILED', error: 'DeploymentSuperseded' });
    expect(executionOf(world, '1.1.5')?.states.some((s) => s.name === STATE.plan)).toBe(false);
    expect(summary).toMatchObject({ liveVersion: '1.2.0', weights: { a: 0, b: 100 } });
    // Its cause and its notification say why: who is newer, and both upload times.
    const cause = executionOf(world, '1.1.5')?.cause ?? '';
    expect(cause).toMatch(
      /superseded by web-prod-1_2_0-\w+ \(uploaded \S+\), newer than this upload \(uploaded \S+\)/,
    );
    const told = world.sns.messages.find((m) => m.subject === 'Superseded: web/prod 1.1.5');
    expect(told?.message.split('\n')[0]).toBe(cause);
  });

  it('lets no event time far ahead block the uploads after it', async () => {
    const scenario = testScenario('event-time-ahead', 'SUCCEEDED', {
      summary:
        "1.1.0's S3 event says it was uploaded three hours from now; 1.2.0 is uploaded 10 minutes later",
      executions: 2,
      expectLive: '1.2.0',
      act: (ctx) => {
        const ahead = ctx.upload(releaseKey('1.1.0'), 'PK\u0003\u0004 web 1.1.0');
        ahead.eventTime = new Date(ctx.world.now() + 3 * 3600_000).toISOString();
        ctx.deliver([ahead]);
        ctx.after(600, () => uploadVersion(ctx, '1.2.0'));
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.problems).toEqual([]);
    expect(executionOf(world, '1.2.0')?.error).toBeUndefined();
    expect(summary).toMatchObject({ status: 'SUCCEEDED', liveVersion: '1.2.0' });
  });

  it('tells an upload that gave up waiting why, once, and takes it off the waiters', async () => {
    // An owner that runs on past every limit of the config (an execution stuck in a state of an
    // older definition, say): nothing that deploys now can outlast the wait.
    const stuck = 'web-prod-1_0_9-0000000000';
    const arn = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${stuck}`;
    const scenario = testScenario('lock-wait-gives-up', 'FAILED', {
      summary:
        'the lock is held by an execution that never ends; 1.1.0 waits for it as long as any deployment may hold it',
      executions: 2,
      prepare: ({ world }) => {
        const at = world.now() - 3600_000;
        world.sfn.executions.set(stuck, {
          arn,
          stateMachineArn: STATE_MACHINE_ARN,
          name: stuck,
          input: '{}',
          status: 'RUNNING',
          startedAt: at,
          transitions: 0,
          states: [],
          retries: 0,
          history: [],
        });
        const owner = {
          name: stuck,
          executionArn: arn,
          uploadedAt: new Date(at).toISOString(),
          since: new Date(at).toISOString(),
        };
        world.dynamodb.PutItem({
          TableName: LOCKS_TABLE,
          Item: marshall({ id: 'web/prod', version: 1, owner, waiters: [], newest: owner }),
        });
      },
    });
    const { summary, world } = await simulate(scenario);
    const waiter = executionOf(world, '1.1.0');
    expect(waiter).toMatchObject({ status: 'FAILED', error: 'DeploymentFailed' });
    expect(((waiter?.stoppedAt ?? 0) - (waiter?.startedAt ?? 0)) / 1000).toBeGreaterThanOrEqual(
      LOCK_WAIT_SECONDS,
    );
    expect(summary.historyEvents).toBeLessThan(25_000);
    const told = world.sns.messages.filter((m) => m.subject === 'Deployment failed: web/prod 1.1.0');
    expect(told).toHaveLength(1);
    expect(told[0]?.message.split('\n')[0]).toBe(
      'web/prod 1.1.0 failed before anything was changed: it gave up waiting for the deployment lock after 17 days, the longest any deployment of web/prod can hold it, while another one still held it; upload releases/web/prod/1.1.0.zip again to deploy it',
    );
    expect(world.calls.filter((c) => c.operation === 'RunInstances')).toHaveLength(0);
    // It no longer waits: the owner's release will not hand the lock to it.
    const lock = world.dynamodb.items(LOCKS_TABLE).find((item) => item.id === 'web/prod');
    expect(lock).toMatchObject({ owner: { name: stuck }, waiters: [] });
    expect(world.sfn.openTokens()).toBe(0);
  });
});
