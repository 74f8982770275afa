import { describe, expect, it } from 'vitest';
import { LIMITS } from '#shared/domain/config.ts';
import {
  decideAcquire,
  decideRelease,
  LOCK_ASK_SECONDS,
  LOCK_REASKS,
  LOCK_WAIT_SECONDS,
  type LockItem,
  lockStanding,
  longestHoldSeconds,
  ownerState,
  RECOVERY_GRACE_SECONDS,
  uploadOrder,
} from '#shared/domain/lock.ts';
import { STATE } from '#shared/domain/states.ts';
import { loadDefinition } from '../../sim/definition.ts';

const NOW = new Date('2026-11-26T10:00:00.000Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);

describe('where the owner of the lock is', () => {
  it.each([
    ['runs', { status: 'RUNNING' }, 'running'],
    [
      'was stopped a minute ago (its recovery may still be putting traffic back)',
      { status: 'ABORTED', stopDate: ago(60) },
      'recovering',
    ],
    [
      'crashed just inside the grace',
      { status: 'FAILED', stopDate: ago(RECOVERY_GRACE_SECONDS - 1) },
      'recovering',
    ],
    [
      'was stopped longer ago than any recovery takes',
      { status: 'ABORTED', stopDate: ago(RECOVERY_GRACE_SECONDS) },
      'ended',
    ],
    ['ended with no end time known', { status: 'ABORTED' }, 'ended'],
    [
      'succeeded a minute ago (nothing to recover: only its release was lost)',
      { status: 'SUCCEEDED', stopDate: ago(60) },
      'ended',
    ],
    [
      'rolled back a minute ago, through its own path',
      { status: 'FAILED', error: 'DeploymentRolledBack', stopDate: ago(60) },
      'ended',
    ],
    [
      'crashed a minute ago (a runtime error: its recovery runs)',
      { status: 'FAILED', error: 'States.Runtime', stopDate: ago(60) },
      'recovering',
    ],
    ['timed out a minute ago', { status: 'TIMED_OUT', stopDate: ago(60) }, 'recovering'],
    ['does not exist', undefined, 'ended'],
  ] as const)('it %s: %s', (_what, state, where) => {
    expect(ownerState(state, NOW)).toBe(where);
  });
});

describe('where a stopped deployment stands with its lock', () => {
  const item = (owner?: string): LockItem => ({
    id: 'web/prod',
    version: 3,
    ...(owner
      ? { owner: { name: owner, executionArn: `arn:${owner}`, uploadedAt: NOW.toISOString(), since: '' } }
      : {}),
    waiters: [],
  });
  it.each([
    ['holds it: nothing has recovered it yet', item('me'), { kind: 'held' }],
    ['finds it handed on: recovered already', item('next'), { kind: 'another', holder: 'next' }],
    ['finds no item (deleted by hand, a table restored)', undefined, { kind: 'unheld', item: 'missing' }],
    ['finds an item with no owner', item(), { kind: 'unheld', item: 'no-owner' }],
  ] as const)('it %s', (_what, current, standing) => {
    expect(lockStanding(current, 'me')).toEqual(standing);
  });
});

describe('asking for the lock', () => {
  const owner = {
    name: 'web-prod-1_1_0-a',
    executionArn: 'arn:1',
    uploadedAt: '2026-11-26T09:00:00.000Z',
    since: '',
  };
  const me = {
    name: 'web-prod-1_2_0-b',
    executionArn: 'arn:2',
    uploadedAt: '2026-11-26T09:30:00.000Z',
    since: '',
    token: 't2',
  };
  const item: LockItem = { id: 'web/prod', version: 3, owner, waiters: [] };

  it('waits while the owner runs, to be resumed by its release', () => {
    const decision = decideAcquire(item, me, 'running', 'web/prod', NOW.toISOString());
    expect(decision.outcome).toBe('waiting');
    expect(decision.item?.waiters.map((w) => w.name)).toEqual([me.name]);
    expect(decision.effects).toEqual([]);
  });

  it('behind an owner whose recovery may still run, is recorded as polling and told to ask again', () => {
    const decision = decideAcquire(item, me, 'recovering', 'web/prod', NOW.toISOString());
    expect(decision).toMatchObject({ outcome: 'recovering', holder: owner, effects: [] });
    expect(decision.item?.waiters).toEqual([{ ...me, polling: true }]);
  });

  it('supersedes an older polling waiter when a newer upload asks during the recovery', () => {
    const older = { ...me, name: 'web-prod-1_2_0-x', uploadedAt: '2026-11-26T09:10:00.000Z', token: 't1' };
    const withOlder: LockItem = { ...item, waiters: [{ ...older, polling: true }] };
    const newer = { ...me, name: 'web-prod-1_3_0-y', uploadedAt: '2026-11-26T09:40:00.000Z', token: 't3' };
    const decision = decideAcquire(withOlder, newer, 'recovering', 'web/prod', NOW.toISOString());
    expect(decision.outcome).toBe('recovering');
    expect(decision.item?.waiters.map((w) => w.name)).toEqual([newer.name]);
    expect(decision.effects).toEqual([
      {
        kind: 'supersede',
        token: 't1',
        by: newer,
        loser: { name: older.name, uploadedAt: older.uploadedAt },
      },
    ]);
  });

  it('the release hands the lock to a polling waiter without resuming it; its next ask finds it the owner', () => {
    const polling: LockItem = { ...item, waiters: [{ ...me, polling: true }] };
    const released = decideRelease(polling, owner.name, NOW.toISOString());
    expect(released.item?.owner?.name).toBe(me.name);
    expect(released.effects).toEqual([]);
    const asked = decideAcquire(
      released.item,
      { ...me, token: 't9' },
      'running',
      'web/prod',
      NOW.toISOString(),
    );
    expect(asked).toMatchObject({ outcome: 'acquired', effects: [{ kind: 'resume', token: 't9' }] });
  });

  it('a waiter that ends while waiting is taken off the list, so the lock never reaches it', () => {
    const waiting: LockItem = { ...item, waiters: [{ ...me, polling: true }] };
    const gone = decideRelease(waiting, me.name, NOW.toISOString());
    expect(gone.item).toMatchObject({ owner, version: item.version + 1, waiters: [] });
    expect(decideRelease(gone.item, owner.name, NOW.toISOString()).item?.owner).toBeUndefined();
  });

  it('the release never hands the lock to a waiter whose execution ended: the lock is free', () => {
    const waiting: LockItem = { ...item, waiters: [me] };
    const released = decideRelease(waiting, owner.name, NOW.toISOString(), new Set([me.name]));
    expect(released.item).toMatchObject({ waiters: [] });
    expect(released.item?.owner).toBeUndefined();
    expect(released.effects).toEqual([]);
  });

  it('the release skips an ended waiter and hands the lock to the next one still running', () => {
    const older = { ...me, name: 'web-prod-1_1_5-c', uploadedAt: '2026-11-26T09:20:00.000Z', token: 't3' };
    const waiting: LockItem = { ...item, waiters: [older, me] };
    const released = decideRelease(waiting, owner.name, NOW.toISOString(), new Set([me.name]));
    expect(released.item?.owner?.name).toBe(older.name);
    expect(released.effects).toEqual([
      { kind: 'resume', token: 't3', output: { acquiredAt: NOW.toISOString() } },
    ]);
  });

  it('a free lock goes to the one asking, not to a listed waiter that ended (told nothing)', () => {
    const newer = { ...me, name: 'web-prod-1_3_0-d', uploadedAt: '2026-11-26T09:40:00.000Z', token: 't4' };
    const free: LockItem = { id: 'web/prod', version: 4, waiters: [newer] };
    const asked = decideAcquire(free, me, 'ended', 'web/prod', NOW.toISOString(), new Set([newer.name]));
    expect(asked).toMatchObject({ outcome: 'acquired', holder: { name: me.name } });
    expect(asked.effects).toEqual([
      { kind: 'resume', token: 't2', output: { acquiredAt: NOW.toISOString() } },
    ]);
  });

  it('is superseded at once behind a recovering owner that was a newer upload', () => {
    const older = { ...me, uploadedAt: '2026-11-26T08:00:00.000Z' };
    expect(decideAcquire(item, older, 'recovering', 'web/prod', NOW.toISOString()).outcome).toBe(
      'superseded',
    );
  });

  it('supersedes an upload older than the newest that ever held it, though the lock is free', () => {
    const free: LockItem = { id: 'web/prod', version: 9, waiters: [], newest: { ...me, since: '' } };
    const late = { ...me, name: 'web-prod-1_1_5-z', uploadedAt: '2026-11-26T09:20:00.000Z', token: 't5' };
    const decision = decideAcquire(free, late, 'running', 'web/prod', NOW.toISOString());
    expect(decision.outcome).toBe('superseded');
    expect(decision.effects).toEqual([
      {
        kind: 'supersede',
        token: 't5',
        by: free.newest,
        loser: { name: late.name, uploadedAt: late.uploadedAt },
      },
    ]);
    // The newest itself, asking again, is not held back by its own record.
    expect(decideAcquire(free, me, 'running', 'web/prod', NOW.toISOString()).outcome).toBe('acquired');
  });

  it('remembers the newest holder through hand-overs and releases', () => {
    const taken = decideAcquire(item, me, 'ended', 'web/prod', NOW.toISOString());
    expect(taken.item?.newest?.name).toBe(me.name);
    const released = decideRelease(taken.item, me.name, NOW.toISOString());
    expect(released.item?.newest?.name).toBe(me.name);
  });

  it('takes it over from an owner that ended for good, and says from whom', () => {
    const decision = decideAcquire(item, me, 'ended', 'web/prod', NOW.toISOString());
    expect(decision.outcome).toBe('acquired');
    expect(decision.item?.owner?.name).toBe(me.name);
    expect(decision.effects).toEqual([
      { kind: 'resume', token: 't2', output: { acquiredAt: NOW.toISOString(), tookOverFrom: owner.name } },
    ]);
  });
});

describe('the time that orders uploads', () => {
  const received = '2026-11-26T10:00:00.000Z';

  it('is the S3 event time, but never later than when the upload was received', () => {
    expect(uploadOrder('2026-11-26T09:59:58.000Z', received)).toBe('2026-11-26T09:59:58.000Z');
    // A client-side copy, a replayed or a forged event can carry any time: three hours ahead
    // counts as the receipt, so it cannot make every later upload look older.
    expect(uploadOrder('2026-11-26T13:00:00.000Z', received)).toBe(received);
    expect(uploadOrder(undefined, received)).toBe(received);
  });

  it('lets no upload recorded with a time ahead of its own lock-taking block the app/env', () => {
    // Written before the bound existed: the newest holder says it was uploaded at 13:00, though it
    // took the lock at 09:00. A real upload of 09:30 is newer, not superseded.
    const ahead = {
      name: 'web-prod-1_1_0-a',
      executionArn: 'arn:1',
      uploadedAt: '2026-11-26T13:00:00.000Z',
      since: '2026-11-26T09:00:00.000Z',
    };
    const free: LockItem = { id: 'web/prod', version: 4, waiters: [], newest: ahead };
    const next = {
      name: 'web-prod-1_2_0-b',
      executionArn: 'arn:2',
      uploadedAt: '2026-11-26T09:30:00.000Z',
      since: '2026-11-26T09:30:05.000Z',
      token: 't2',
    };
    expect(decideAcquire(free, next, 'running', 'web/prod', NOW.toISOString()).outcome).toBe('acquired');
  });

  it('tells a superseded upload both upload times, its own too', () => {
    const newest = {
      name: 'web-prod-1_2_0-b',
      executionArn: 'arn:2',
      uploadedAt: '2026-11-26T09:30:00.000Z',
      since: '2026-11-26T09:30:05.000Z',
    };
    const free: LockItem = { id: 'web/prod', version: 9, waiters: [], newest };
    const late = { ...newest, name: 'web-prod-1_1_5-z', uploadedAt: '2026-11-26T09:20:00.000Z', token: 't5' };
    const decision = decideAcquire(free, late, 'running', 'web/prod', NOW.toISOString());
    expect(decision.effects).toEqual([
      { kind: 'supersede', token: 't5', by: newest, loser: { name: late.name, uploadedAt: late.uploadedAt } },
    ]);
  });
});

describe('how long an upload waits for the lock', () => {
  const lockState = (loadDefinition().definition.States as Record<string, unknown>)[STATE.lock] as {
    TimeoutSeconds: number;
    Retry: { ErrorEquals: string[]; MaxAttempts: number }[];
  };
  const reasks = lockState.Retry.find((r) => r.ErrorEquals.includes('States.Timeout'))?.MaxAttempts ?? 0;

  it('asks as often as the state machine does, and so waits as long as it says', () => {
    expect(lockState.TimeoutSeconds).toBe(LOCK_ASK_SECONDS);
    expect(reasks).toBe(LOCK_REASKS);
  });

  it('outlasts the longest an owner can hold it: two week-long approvals, a two-day window and more', () => {
    const approvalsAndWindow =
      LIMITS.approvalStages * LIMITS.approvalTimeoutSeconds + LIMITS.terminationWaitSeconds;
    expect(longestHoldSeconds()).toBeGreaterThan(approvalsAndWindow + LIMITS.bakeTimeoutMinutes * 60);
    expect(LOCK_WAIT_SECONDS).toBeGreaterThanOrEqual(longestHoldSeconds());
  });

  it('grows with a limit that grows', () => {
    const longer = { ...LIMITS, approvalTimeoutSeconds: LIMITS.approvalTimeoutSeconds * 2 };
    expect(longestHoldSeconds(longer) - longestHoldSeconds()).toBe(
      LIMITS.approvalStages * LIMITS.approvalTimeoutSeconds,
    );
  });

  it('keeps the waiting execution far under 25,000 history events (4 per ask)', () => {
    expect((reasks + 1) * 4).toBeLessThan(5_000);
  });
});
