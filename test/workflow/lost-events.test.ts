import { describe, expect, it } from 'vitest';
import { findScenario, type Scenario } from '../../sim/scenarios.ts';
import { type Summary, simulate } from '../../sim/simulate.ts';
import type { World } from '../../sim/world.ts';

// EventBridge delivers AWS service events best effort. With Image Builder's and CloudWatch's events
// lost, the scheduled re-drive (serverless.yml redriveWaits) resumes the bake wait and fails the
// alarm watch from AWS's state instead: each run ends as its twin with the events delivered.
// How soon is the bench's to measure (bakeWait.eventLost, rollbackDetectSecondsAlarmEventLost).

function scenario(name: string): Scenario {
  const found = findScenario(name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
}

/** The same scenario with the AWS events its waits listen for lost, and maybe no re-drive either. */
function eventsLost(base: Scenario, { redrive = true } = {}): Scenario {
  return {
    ...base,
    name: `${base.name}-events-lost${redrive ? '' : '-no-redrive'}`,
    prepare: (ctx) => {
      base.prepare?.(ctx);
      ctx.world.events.lostSources.add('aws.imagebuilder');
      ctx.world.events.lostSources.add('aws.cloudwatch');
      if (!redrive) ctx.world.events.schedulesOff.add('redriveWaits');
    },
  };
}

/** How a run ended, as a person would compare two runs (its timing aside). */
function outcome(summary: Summary) {
  return {
    status: summary.status,
    liveSlot: summary.liveSlot,
    liveVersion: summary.liveVersion,
    weights: summary.weights,
    running: summary.running,
    violations: summary.violations,
    cause: summary.cause,
    notifications: summary.notifications.map((n) => n.subject),
  };
}

/** The callbacks the re-drive made that Step Functions took (a gone token is answered with an error). */
function redriven(world: World, operation: 'SendTaskSuccess' | 'SendTaskFailure'): number {
  return world.calls.filter((c) => c.fn === 'redriveWaits' && c.operation === operation && !c.error).length;
}

describe('the waits with AWS’s events lost', () => {
  it('resume the bake from the re-drive, and the deploy ends as with the end-of-build event', async () => {
    // A 25-minute build: the default 20 minutes end on the second 10-minute fallback poll, which
    // would resume the wait at that moment with or without the re-drive.
    const happy = scenario('happy');
    const build25: Scenario = {
      ...happy,
      prepare: (ctx) => {
        happy.prepare?.(ctx);
        ctx.world.imagebuilder.buildMinutes = 25;
      },
    };
    const twin = await simulate(build25);
    const lost = await simulate(eventsLost(build25));
    expect(twin.summary.status).toBe('SUCCEEDED');
    expect(outcome(lost.summary)).toEqual(outcome(twin.summary));
    // The end-of-build event never arrived: the re-drive resumed the bake wait.
    expect(lost.world.events.delivered.filter((d) => d.event.source === 'aws.imagebuilder')).toEqual([]);
    expect(redriven(lost.world, 'SendTaskSuccess')).toBe(1);
  });

  for (const name of ['alarm-during-shift', 'alarm-during-termination-wait']) {
    it(`${name}: the re-drive fails the alarm watch, and the rollback ends as with the alarm's event`, async () => {
      const twin = await simulate(scenario(name));
      const lost = await simulate(eventsLost(scenario(name)));
      expect(twin.summary.status).toBe('ROLLED_BACK');
      expect(outcome(lost.summary)).toEqual(outcome(twin.summary));
      expect(lost.world.events.delivered.filter((d) => d.event.source === 'aws.cloudwatch')).toEqual([]);
      // The watch was failed by the re-drive, not left to the wait's own end.
      expect(redriven(lost.world, 'SendTaskFailure')).toBe(1);
    });
  }

  it('still roll back without the re-drive: the step’s own check catches the alarm', async () => {
    const base = scenario('alarm-during-shift');
    const withRedrive = await simulate(eventsLost(base));
    const without = await simulate(eventsLost(base, { redrive: false }));
    expect(outcome(without.summary)).toEqual(outcome(withRedrive.summary));
    expect(without.world.events.scheduled).toEqual([]);
    expect(redriven(without.world, 'SendTaskFailure')).toBe(0);
  });
});
