import { describe, expect, it } from 'vitest';
import { PROGRESS_SOURCE } from '#shared/domain/progress.ts';
import { findScenario, type Scenario } from '../../sim/scenarios.ts';
import { simulate } from '../../sim/simulate.ts';
import type { World } from '../../sim/world.ts';
import { testScenario } from '../support/scenarios.ts';

// Progress events, as the tasks put them on the simulated default bus while the real state
// machine runs: one per phase, in order, and never the reason a deployment fails or retries.

function scenario(name: string): Scenario {
  const found = findScenario(name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
}

function details(world: World): Record<string, unknown>[] {
  return world.events.putByService.map((event) => event.detail);
}

describe('progress events', () => {
  it('tell a successful deployment phase by phase, each step with its weights', async () => {
    const { summary, world } = await simulate(scenario('happy'));
    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.events).toEqual([
      'Deployment started',
      'Deployment baked',
      'Deployment green launched',
      'Deployment green healthy',
      'Deployment step shifted',
      'Deployment step shifted',
      'Deployment step shifted',
      'Deployment termination window started',
      'Deployment blue terminated',
      'Deployment succeeded',
    ]);
    expect(world.events.putByService.every((e) => e.source === PROGRESS_SOURCE)).toBe(true);
    const all = details(world);
    const execution = all[0]?.execution;
    for (const detail of all) {
      expect(detail).toMatchObject({ app: 'web', env: 'prod', execution });
      expect(typeof detail.version).toBe('string');
      expect(Date.parse(String(detail.at))).not.toBeNaN();
    }
    // Ids are distinct per phase and step: a consumer dedupes a repeat by id, never two phases.
    expect(new Set(all.map((d) => d.id)).size).toBe(all.length);
    const steps = all.filter((d) => d.phase === 'step-shifted');
    expect(steps.map((d) => d.step)).toEqual([1, 2, 3]);
    const green = steps[0]?.green as 'a' | 'b';
    const greenShares = steps.map((d) => Number((d.weights as Record<string, number>)[green]));
    expect(greenShares[greenShares.length - 1]).toBe(100);
    expect([...greenShares].sort((x, y) => x - y)).toEqual(greenShares);
    expect(all.at(-1)).toMatchObject({ phase: 'finished', outcome: 'succeeded' });
  });

  it('tell a rollback: traffic back on blue, then the outcome, and no blue termination', async () => {
    const { summary, world } = await simulate(scenario('alarm-during-shift'));
    expect(summary.status).toBe('ROLLED_BACK');
    expect(summary.events).toEqual([
      'Deployment started',
      'Deployment baked',
      'Deployment green launched',
      'Deployment green healthy',
      'Deployment step shifted',
      'Deployment step shifted',
      'Deployment traffic returned to blue',
      'Deployment rolled back',
    ]);
    const returned = details(world).find((d) => d.phase === 'traffic-returned') ?? {};
    expect((returned.weights as Record<string, number>)[String(returned.green)]).toBe(0);
    expect(details(world).at(-1)).toMatchObject({ phase: 'finished', outcome: 'rolled-back' });
  });

  it('are best effort: a bus refusing every put fails nothing and retries nothing', async () => {
    const { summary: happy } = await simulate(scenario('happy'));
    const refusing = testScenario('bus-refuses-every-put', 'SUCCEEDED', {
      summary: 'every PutEvents is throttled: the deployment goes on as if nobody listened',
      prepare: ({ world }) => world.inject({ service: 'events', kind: 'throttle', times: 100_000 }),
    });
    const { summary, world } = await simulate(refusing);
    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.events).toEqual([]);
    expect(summary.retries).toBe(happy.retries);
    // One attempt per phase: the task does not retry a refused put, nor does the state machine.
    const puts = world.calls.filter((c) => c.service === 'events');
    expect(puts).toHaveLength(happy.events.length);
    expect(puts.every((c) => c.error)).toBe(true);
  });
});
