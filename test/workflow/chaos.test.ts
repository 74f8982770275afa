import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EVENT_KINDS,
  type EventKind,
  formatFailure,
  runSchedule,
  scheduleArbitrary,
  scheduleFromSeed,
} from '../../sim/chaos.ts';

// Randomized fault schedules: 1-4 events at random virtual times over a deploy, each run through
// the real ASL and handlers in the simulated account and judged at its end (sim/chaos.ts). A
// failure prints the schedule's events, what they did, and how the run ended; `npm run chaos`
// runs more. CHAOS_RUNS, CHAOS_SEED and CHAOS_WITHOUT (comma-separated kinds) change the run.

const RUNS = Number(process.env.CHAOS_RUNS ?? 300);
const SEED = Number(process.env.CHAOS_SEED ?? 20_261_201);
const WITHOUT = new Set((process.env.CHAOS_WITHOUT ?? '').split(',').filter(Boolean));
const KINDS = EVENT_KINDS.filter((kind) => !WITHOUT.has(kind));

describe('a schedule', () => {
  it('holds 1-4 events in time order, the same for the same seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const schedule = scheduleFromSeed(seed);
        expect(schedule).toEqual(scheduleFromSeed(seed));
        expect(schedule.events.length).toBeGreaterThanOrEqual(1);
        expect(schedule.events.length).toBeLessThanOrEqual(4);
        const times = schedule.events.map((e) => ('at' in e ? e.at : 0));
        expect(times).toEqual([...times].sort((x, y) => x - y));
      }),
    );
  });

  it('draws only the kinds asked for', () => {
    const only: EventKind[] = ['stop', 'alarm-blip'];
    fc.assert(
      fc.property(scheduleArbitrary(only), (schedule) => {
        expect(schedule.events.every((e) => only.includes(e.kind))).toBe(true);
      }),
    );
  });
});

describe('randomized fault schedules over a deploy', () => {
  it(
    `every run ends with the invariants held, traffic on one healthy slot, the lock free, no wait open, one final notification per execution and the newest upload live unless it failed (${RUNS} schedules)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(scheduleArbitrary(KINDS), async (schedule) => {
          const result = await runSchedule(schedule);
          if (result.failures.length > 0) throw new Error(`\n${formatFailure(result)}`);
        }),
        // Each run is a whole deploy: no shrinking, the first failing schedule is reported as drawn.
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    },
    // About half a second a run on an idle machine; the suite's machines are shared.
    RUNS * 3_000,
  );
});
