import { describe, expect, it } from 'vitest';
import { buildEnded, buildFailed, buildRunning } from '#shared/domain/bake.ts';
import {
  attempt,
  blueLeftText,
  buildsUnlisted,
  buildUnsettled,
  type HealFacts,
  healLeftText,
  healMayHaveLeft,
  recoveryUnfinished,
} from '#shared/domain/leftovers.ts';
import { alarmCheckCause } from '#shared/domain/text.ts';
import { carriesTraffic } from '#shared/domain/traffic.ts';

const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-prod-b/0123456789abcdef';

describe('a best-effort read', () => {
  it('gives the value, or the name of the error that stopped it', async () => {
    expect(await attempt(async () => 3)).toEqual({ ok: true, value: 3 });
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    expect(
      await attempt(async () => {
        throw throttled;
      }),
    ).toEqual({ ok: false, error: 'Throttling' });
  });
});

describe('what is left of blue after a failed termination', () => {
  it('names the instances still running, to deregister and terminate', () => {
    expect(blueLeftText('a', { ok: true, value: ['i-0b1', 'i-0b2'] })).toEqual([
      'blue instances still running in slot a: i-0b1, i-0b2; deregister them if still registered, then terminate them',
    ]);
  });

  it('is nothing once none runs, and says when they could not be listed', () => {
    expect(blueLeftText('a', { ok: true, value: [] })).toEqual([]);
    expect(blueLeftText('a', { ok: false, error: 'RequestLimitExceeded' })).toEqual([
      'instances: could not list blue slot a instances (RequestLimitExceeded); check them by hand',
    ]);
  });
});

describe('what is left of a heal that did not finish', () => {
  const facts: HealFacts = {
    heal: { from: 'b', to: 'a' },
    recordName: 'web.example.com',
    targetGroupArn: TG,
    weights: { ok: true, value: { a: 100, b: 0 } },
    healSlotInstances: { ok: true, value: [] },
  };

  it('is nothing once the cleared slot carries no traffic and none of its fleet runs', () => {
    expect(healLeftText(facts)).toEqual([]);
  });

  it('tells to finish moving the traffic, and to take out the fleet found there', () => {
    expect(
      healLeftText({
        ...facts,
        weights: { ok: true, value: { a: 60, b: 40 } },
        healSlotInstances: { ok: true, value: ['i-0s1'] },
      }),
    ).toEqual([
      'traffic: a=60 b=40; slot b still carries traffic, set it to 0 and slot a to 100 in one change',
      `slot b instances still running: i-0s1; deregister them from ${TG} if still registered, then terminate them`,
    ]);
  });

  it('says what could not be read, to check by hand', () => {
    const unread = { ok: false as const, error: 'Throttling' };
    expect(healLeftText({ ...facts, weights: unread, healSlotInstances: unread })).toEqual([
      'traffic: could not read the weights of web.example.com (Throttling); check them by hand',
      'instances: could not list slot b instances (Throttling); check them by hand',
    ]);
  });
});

describe('whether a deploy that planned a heal left anything of it', () => {
  const split = { a: 60, b: 40 };
  const unchanged = { weights: { ok: true as const, value: split } };
  const moved = { weights: { ok: true as const, value: { a: 100, b: 0 } } };

  it('did once the heal ran, whatever the records hold', () => {
    expect(healMayHaveLeft(true, split, unchanged)).toBe(true);
  });

  it('did not when the records still hold the split the plan saw', () => {
    expect(healMayHaveLeft(false, split, unchanged)).toBe(false);
  });

  it('did when the records changed, or could not be read, unless the slot is now another deployment’s', () => {
    expect(healMayHaveLeft(false, split, moved)).toBe(true);
    expect(healMayHaveLeft(false, split, { weights: { ok: false, error: 'Throttling' } })).toBe(true);
    expect(
      healMayHaveLeft(false, split, {
        ...moved,
        greenHeldBy: { ok: true, value: 'claimed by web/prod 1.2.0' },
      }),
    ).toBe(false);
    expect(healMayHaveLeft(false, split, { ...moved, greenHeldBy: { ok: false, error: 'Throttling' } })).toBe(
      true,
    );
  });
});

describe('builds and recoveries a person must finish', () => {
  it('names the build or the recipe, and what to do by hand', () => {
    expect(buildUnsettled('arn:build/1', 'AccessDenied')).toBe(
      'image build arn:build/1: could not cancel it or tag its AMI (AccessDenied); cancel it, or deregister its AMI, by hand',
    );
    expect(buildsUnlisted('web-prod-abc', 'Throttling')).toBe(
      'image builds of web-prod-abc: could not list them (Throttling); cancel any still building by hand',
    );
  });

  it('says why a recovery could not finish, on one line, and what to check when it saw nothing', () => {
    const error = Object.assign(new Error('Rate\nexceeded'), { name: 'Throttling' });
    expect(recoveryUnfinished(error)).toBe(
      'this recovery could not finish (Throttling: Rate\\u000aexceeded)',
    );
    expect(recoveryUnfinished(error, { app: 'web', env: 'prod', deploymentId: 'web-prod-1' })).toMatch(
      /^this recovery could not finish \(.*\) before it could read what the deployment had done: check the weights of web\/prod's records, .* tagged bluegreen:deployment-id=web-prod-1 unless they carry traffic$/,
    );
  });
});

describe('the cause an alarm check fails with', () => {
  const alarming = [{ name: 'web-prod-5xx', reason: 'Threshold Crossed' }];

  it('names the alarms in ALARM first, then the watched ones gone, and nothing when all are quiet', () => {
    expect(alarmCheckCause({ alarming, missing: ['gone'] })).toBe(
      'alarm in ALARM: "web-prod-5xx" ("Threshold Crossed")',
    );
    expect(alarmCheckCause({ alarming: [], missing: ['gone'] })).toBe(
      'watched alarm no longer exists: "gone"',
    );
    expect(alarmCheckCause({ alarming: [], missing: [] })).toBeUndefined();
  });

  it('says when it fired before any traffic moved, and when it was checked', () => {
    expect(
      alarmCheckCause({ alarming, missing: [] }, { beforeTraffic: true, checked: 'before launch' }),
    ).toBe(
      'alarm in ALARM before any traffic moved to the release, so not caused by it: "web-prod-5xx" ("Threshold Crossed"); checked before launch',
    );
  });
});

describe('the facts the guards decide on', () => {
  it('a slot carries traffic only with a weight above 0 (a missing record carries none)', () => {
    expect(carriesTraffic({ a: 100, b: 0 }, 'a')).toBe(true);
    expect(carriesTraffic({ a: 100, b: 0 }, 'b')).toBe(false);
    expect(carriesTraffic({ a: 100, b: null }, 'b')).toBe(false);
  });

  it("Image Builder's states: running, ended without an AMI, or ended", () => {
    expect(['PENDING', 'BUILDING', 'TESTING', 'DISTRIBUTING'].every(buildRunning)).toBe(true);
    expect(['FAILED', 'CANCELLED', 'DELETED'].every(buildFailed)).toBe(true);
    expect(buildEnded('AVAILABLE') && buildEnded('FAILED')).toBe(true);
    expect(buildEnded('BUILDING') || buildRunning('AVAILABLE') || buildFailed('AVAILABLE')).toBe(false);
  });
});
