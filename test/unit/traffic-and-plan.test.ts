import { describe, expect, it } from 'vitest';
import { validateConfig } from '#shared/domain/config.ts';
import { buildPlan, defaultCheckInterval, healthierSlot, windowProgress } from '#shared/domain/plan.ts';
import { findLiveSlot, weightsForStep } from '#shared/domain/traffic.ts';
import type { PinnedDeployment } from '#shared/domain/workflow.ts';
import example from '../../examples/web-prod.config.json' with { type: 'json' };

const parsed = validateConfig(example);
if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
const config = parsed.config;
const deployment: PinnedDeployment = {
  deploymentId: 'web-prod-1_1_0-0123456789',
  app: 'web',
  env: 'prod',
  version: '1.1.0',
  format: 'zip',
  artifact: { bucket: 'releases-123', key: 'releases/web/prod/1.1.0.zip', versionId: 'v1' },
};
const now = new Date('2026-03-02T09:00:00Z');
const plan = (weights: { a: number | null; b: number | null }, blueTargetCount = 3, withConfig = config) =>
  buildPlan({
    configVersionId: 'v-config',
    deployment,
    config: withConfig,
    weights,
    blueTargetCount,
    defaultTopicArn: 'arn:aws:sns:us-east-1:1:t',
    now,
  });

describe('the live slot', () => {
  it('is the one with weight > 0', () => {
    expect(findLiveSlot({ a: 100, b: 0 })).toEqual({ kind: 'live', slot: 'a' });
    expect(findLiveSlot({ a: 0, b: 7 })).toEqual({ kind: 'live', slot: 'b' });
  });

  it('is none when no record exists or every weight is 0 (a first deploy)', () => {
    expect(findLiveSlot({ a: null, b: null })).toEqual({ kind: 'none' });
    expect(findLiveSlot({ a: 0, b: 0 })).toEqual({ kind: 'none' });
  });

  it('is a split when both carry traffic', () => {
    expect(findLiveSlot({ a: 60, b: 40 })).toEqual({ kind: 'split', weights: { a: 60, b: 40 } });
  });
});

describe('step weights', () => {
  it('put the percent on green and the rest on blue', () => {
    expect(weightsForStep('b', 10)).toEqual({ a: 90, b: 10 });
    expect(weightsForStep('a', 100)).toEqual({ a: 100, b: 0 });
  });

  it('never sum to 0 and stay within 0-100', () => {
    for (let percent = 0; percent <= 100; percent++) {
      const w = weightsForStep('b', percent);
      expect(w.a + w.b).toBe(100);
    }
    expect(() => weightsForStep('b', 101)).toThrow(RangeError);
    expect(() => weightsForStep('b', 12.5)).toThrow(RangeError);
  });
});

describe('the plan', () => {
  it('makes the live slot blue and the other green, sized like blue', () => {
    const p = plan({ a: 100, b: 0 }, 4);
    expect(p).toMatchObject({ blue: 'a', green: 'b', instanceCount: 4, blueTargetCount: 4 });
    expect(p.steps).toEqual([
      { percent: 10, settleSeconds: 300 },
      { percent: 50, settleSeconds: 300 },
      { percent: 100, settleSeconds: 300 },
    ]);
  });

  it('sends a first deploy to slot a and to 100 % at once', () => {
    const p = plan({ a: 0, b: 0 }, 0);
    expect(p).toMatchObject({ blue: null, green: 'a', instanceCount: 1 });
    expect(p.steps.map((s) => s.percent)).toEqual([100]);
  });

  it('never settles a step for less than the record TTL', () => {
    const slow = validateConfig({ ...example, dns: { ...example.dns, ttlSeconds: 900 } });
    if (!slow.ok) throw new Error('invalid');
    const p = plan({ a: 100, b: 0 }, 3, slow.config);
    expect(p.steps.every((s) => s.settleSeconds === 900)).toBe(true);
  });

  it('refuses to start when both slots carry traffic, showing the weights', () => {
    expect(() => plan({ a: 70, b: 30 })).toThrow(/both slots carry traffic \(a=70 b=30\)/);
  });

  it('refuses a split it may heal when neither slot has a healthy target', () => {
    const healing = { ...config, traffic: { ...config.traffic, healSplit: true } };
    const none = { healthy: 0, registered: 3 };
    expect(() =>
      buildPlan({
        configVersionId: 'v-config',
        deployment,
        config: healing,
        weights: { a: 70, b: 30 },
        blueTargetCount: 0,
        defaultTopicArn: 't',
        now,
        slotHealth: { a: none, b: none },
      }),
    ).toThrow('both slots carry traffic (a=70 b=30) and neither has a healthy target to heal toward');
  });

  it('bounds every polling loop', () => {
    const p = plan({ a: 100, b: 0 });
    // The bake waits on Image Builder's event; without one it checks every 10 minutes.
    expect(p.bake).toMatchObject({ pollSeconds: 600, maxPolls: 13 });
    expect(p.health).toMatchObject({ pollSeconds: 15, maxPolls: 61 });
    expect(p.termination.maxChecks).toBeGreaterThan(3600 / p.termination.checkIntervalSeconds);
  });
});

describe('the termination window', () => {
  it('checks at most 100 times however long it is', () => {
    const long = validateConfig({
      ...example,
      termination: { waitSeconds: 172800, checkIntervalSeconds: 60 },
    });
    if (!long.ok) throw new Error('invalid');
    const p = plan({ a: 100, b: 0 }, 3, long.config);
    expect(p.termination.checkIntervalSeconds).toBe(1728);
    expect(p.termination.maxChecks).toBe(102);
  });

  it('checks about 12 times, between 1 and 15 minutes apart', () => {
    expect(defaultCheckInterval(3600)).toBe(300);
    expect(defaultCheckInterval(60)).toBe(60);
    expect(defaultCheckInterval(172800)).toBe(900);
  });

  it('schedules the last check at the end of the window, never after', () => {
    const start = new Date('2026-03-02T10:00:00Z');
    const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);
    expect(windowProgress(start, 3600, 300, at(0))).toMatchObject({ done: false, nextCheckSeconds: 300 });
    expect(windowProgress(start, 3600, 300, at(3500))).toMatchObject({ done: false, nextCheckSeconds: 100 });
    expect(windowProgress(start, 3600, 300, at(3600))).toMatchObject({ done: true, nextCheckSeconds: 0 });
  });
});

describe('the slot a split heals toward', () => {
  const health = (healthy: number, registered: number) => ({ healthy, registered });

  it('is the one with the larger share of healthy targets, whatever the weights', () => {
    expect(healthierSlot({ a: 90, b: 10 }, { a: health(2, 4), b: health(3, 3) })).toBe('b');
  });

  it('breaks a tie on share by more healthy targets, then by more traffic', () => {
    expect(healthierSlot({ a: 50, b: 50 }, { a: health(2, 2), b: health(4, 4) })).toBe('b');
    expect(healthierSlot({ a: 40, b: 60 }, { a: health(3, 3), b: health(3, 3) })).toBe('b');
    expect(healthierSlot({ a: 50, b: 50 }, { a: health(3, 3), b: health(3, 3) })).toBe('a');
  });

  it('is none when neither slot has a healthy target', () => {
    expect(healthierSlot({ a: 50, b: 50 }, { a: health(0, 3), b: health(0, 0) })).toBeUndefined();
  });
});
