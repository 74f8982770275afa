import { describe, expect, it } from 'vitest';
import { decideAcquire, type LockItem, ownerActive, RECOVERY_GRACE_SECONDS } from '#shared/domain/lock.ts';

const NOW = new Date('2026-11-26T10:00:00.000Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);

describe('whether the owner of the lock still holds it', () => {
  it.each([
    ['runs', { status: 'RUNNING' }, true],
    [
      'was stopped a minute ago (its recovery may still be putting traffic back)',
      { status: 'ABORTED', stopDate: ago(60) },
      true,
    ],
    ['crashed just inside the grace', { status: 'FAILED', stopDate: ago(RECOVERY_GRACE_SECONDS - 1) }, true],
    [
      'was stopped longer ago than any recovery takes',
      { status: 'ABORTED', stopDate: ago(RECOVERY_GRACE_SECONDS) },
      false,
    ],
    ['ended with no end time known', { status: 'SUCCEEDED' }, false],
    ['does not exist', undefined, false],
  ])('yes if it %s', (_what, state, active) => {
    expect(ownerActive(state, NOW)).toBe(active);
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

  it('waits while the owner holds it, to be resumed by its release', () => {
    const decision = decideAcquire(item, me, true, 'web/prod', NOW.toISOString());
    expect(decision.outcome).toBe('waiting');
    expect(decision.item?.waiters.map((w) => w.name)).toEqual([me.name]);
    expect(decision.effects).toEqual([]);
  });

  it('takes it over from an owner that no longer holds it, and says from whom', () => {
    const decision = decideAcquire(item, me, false, 'web/prod', NOW.toISOString());
    expect(decision.outcome).toBe('acquired');
    expect(decision.item?.owner?.name).toBe(me.name);
    expect(decision.effects).toEqual([
      { kind: 'resume', token: 't2', output: { acquiredAt: NOW.toISOString(), tookOverFrom: owner.name } },
    ]);
  });
});
