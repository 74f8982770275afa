import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeployConfig } from '#shared/domain/config.ts';
import {
  allowedSeconds,
  allowedStretches,
  deadlineOf,
  LONGEST_DRAIN_SECONDS,
  longestDnsSeconds,
  overran,
  RETRY_MARGIN_SECONDS,
} from '#shared/domain/deadline.ts';
import { buildPlan } from '#shared/domain/plan.ts';
import { STATE } from '#shared/domain/states.ts';
import { deployTimeline } from '#shared/domain/timeline.ts';
import { deployMachine, rollbackMachine } from '../../statemachines/deploy.ts';
import { CONFIG_VERSION_ID, config, deployment, healingPlan } from '../handlers/fixtures.ts';

const NOW = new Date('2026-03-02T09:00:00.000Z');

function planWith(change: (c: DeployConfig) => void = () => undefined, weights = { a: 100, b: 0 }) {
  const c = structuredClone(config);
  change(c);
  return buildPlan({
    deployment,
    config: c,
    configVersionId: CONFIG_VERSION_ID,
    weights,
    blueTargetCount: 3,
    defaultTopicArn: 'arn:aws:sns:us-east-1:123456789012:deployments',
    now: NOW,
  });
}

interface Waits {
  stepWaitSeconds: number;
  terminationWaitSeconds: number;
  healthTimeoutSeconds: number;
  bakeTimeoutMinutes: number;
  ttlSeconds: number;
}

describe('the time a deployment may run (its deadline)', () => {
  it('sums every bounded stretch of the example config at its longest, each with a retry margin', () => {
    const plan = planWith();
    const stretches = allowedStretches(plan);
    expect(stretches.map((s) => s.what)).toEqual([
      'bake',
      'launch green and wait for it to be healthy',
      ...plan.steps.map((step, i) => `traffic step ${i + 1} (${step.percent} %)`),
      'termination window',
      'retire blue or roll back, then tell',
    ]);
    // A traffic step: its change waited for as long as a rollback's, then its settle time.
    expect(stretches[2]?.seconds).toBe(
      longestDnsSeconds() + (plan.steps[0]?.settleSeconds ?? 0) + RETRY_MARGIN_SECONDS,
    );
    // The end: the rollback's change, the TTL and green's drain (longer than retiring blue), told.
    expect(stretches.at(-1)?.seconds).toBe(
      longestDnsSeconds() + plan.leaveSeconds + LONGEST_DRAIN_SECONDS + 300 + RETRY_MARGIN_SECONDS,
    );
    expect(longestDnsSeconds()).toBe(1800);
    expect(allowedSeconds(plan)).toBe(stretches.reduce((sum, s) => sum + s.seconds, 0));
    expect(plan.deadline).toBe(deadlineOf(plan, NOW));
    expect(Date.parse(plan.deadline) - NOW.getTime()).toBe(allowedSeconds(plan) * 1000);
  });

  it('allows at least what the timeline lays out (every wait at its limit), heals and approvals included', () => {
    for (const plan of [
      planWith(),
      planWith((c) => {
        c.approval = {
          before: ['traffic-shift', 'blue-termination'],
          timeoutSeconds: 7200,
          approvers: ['ops@example.com'],
        };
      }),
      healingPlan(),
      planWith(undefined, { a: 0, b: 0 }),
    ]) {
      const last = deployTimeline(plan).at(-1);
      expect(allowedSeconds(plan)).toBeGreaterThan((last?.atSeconds ?? 0) + (last?.waitSeconds ?? 0));
    }
  });

  it('allows longer when the config waits longer, never shorter', () => {
    const waits = fc.record({
      stepWaitSeconds: fc.integer({ min: 0, max: 3600 }),
      terminationWaitSeconds: fc.integer({ min: 0, max: 172_800 }),
      healthTimeoutSeconds: fc.integer({ min: 60, max: 3600 }),
      bakeTimeoutMinutes: fc.integer({ min: 10, max: 240 }),
      ttlSeconds: fc.integer({ min: 0, max: 3600 }),
    });
    const apply = (w: Waits, more = 0) =>
      planWith((c) => {
        c.traffic.stepWaitSeconds = Math.min(3600, w.stepWaitSeconds + more);
        c.termination.waitSeconds = Math.min(172_800, w.terminationWaitSeconds + more);
        c.health.timeoutSeconds = Math.min(3600, w.healthTimeoutSeconds + more);
        c.bake.timeoutMinutes = Math.min(240, w.bakeTimeoutMinutes + Math.ceil(more / 60));
        if (c.dns) c.dns.ttlSeconds = Math.min(3600, w.ttlSeconds + more);
        delete c.termination.checkIntervalSeconds;
      });
    fc.assert(
      fc.property(waits, fc.integer({ min: 1, max: 3600 }), (w, more) => {
        expect(allowedSeconds(apply(w, more))).toBeGreaterThanOrEqual(allowedSeconds(apply(w)));
      }),
      { numRuns: 200 },
    );
    const longer = planWith((c) => {
      c.traffic.stepWaitSeconds = config.traffic.stepWaitSeconds + 600;
    });
    expect(allowedSeconds(longer)).toBe(allowedSeconds(planWith()) + 600 * longer.steps.length);
  });

  it('is over only after the deadline, and never for a plan written before deadlines', () => {
    const deadline = '2026-03-02T17:00:00.000Z';
    expect(overran(deadline, new Date('2026-03-02T17:00:00.000Z'))).toBe(false);
    expect(overran(deadline, new Date('2026-03-02T17:00:00.001Z'))).toBe(true);
    expect(overran(undefined, new Date('2099-01-01T00:00:00Z'))).toBe(false);
    expect(overran('not a time', new Date('2099-01-01T00:00:00Z'))).toBe(false);
  });
});

/** The longest one Retry policy of the ASL waits: every attempt at its longest backoff (AWS's defaults). */
function longestRetrySeconds(retriers: readonly Retrier[]): number {
  let total = 0;
  for (const r of retriers) {
    const cap = r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY;
    for (let k = 0; k < (r.MaxAttempts ?? 3); k++)
      total += Math.min((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** k, cap);
  }
  return total;
}

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
  MaxDelaySeconds?: number;
}

describe('the retry margin of each stretch', () => {
  it('covers the longest any task after Plan waits in its retries (statemachines/deploy.ts)', () => {
    // The lock is taken before Plan (not counted); a notification's wait for another delivery of
    // it is the end's own 300 s.
    const policies = [deployMachine(), rollbackMachine()].flatMap((m) =>
      Object.entries(m.States as Record<string, { Retry?: Retrier[] }>)
        .filter(([name, state]) => name !== STATE.lock && state.Retry)
        .map(([, state]) => state.Retry ?? []),
    );
    const inFlight = policies.map((p) => p.filter((r) => r.ErrorEquals.includes('NotificationInFlight')));
    const rest = policies.map((p) => p.filter((r) => !r.ErrorEquals.includes('NotificationInFlight')));
    const longest = Math.max(...rest.map(longestRetrySeconds));
    // Throttling's 20 tries (962 s), transient errors' 6 (122 s) and Lambda's 3 (14 s).
    expect(longest).toBe(962 + 122 + 14);
    expect(longest).toBeLessThan(RETRY_MARGIN_SECONDS);
    expect(Math.max(...inFlight.map(longestRetrySeconds))).toBeLessThan(300);
  });
});
