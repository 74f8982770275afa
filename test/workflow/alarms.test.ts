import { describe, expect, it } from 'vitest';
import { type Summary, simulate } from '../../sim/simulate.ts';
import type { World } from '../../sim/world.ts';
import { ALARM, APPROVERS, greenWeightReaches, type ScenarioContext } from '../../sim/worlds.ts';
import { testScenario } from '../support/scenarios.ts';

// An alarm that goes into ALARM and clears again while nothing waits on its event: the next
// check reads its history, and blue, still running, takes the traffic back.

/** An approval before blue goes (approvers: the scenario's); `alarm` runs once green takes all traffic. */
function approvalBeforeBlueGoes(alarm: (world: World) => void): (ctx: ScenarioContext) => void {
  return ({ world, config }) => {
    config.approval = { before: ['blue-termination'], approvers: APPROVERS };
    greenWeightReaches(world, 100, () => alarm(world));
  };
}

/** The run rolled back, safely: all traffic and all three instances on blue, slot a. */
function expectBackOnBlue(summary: Summary): void {
  expect(summary.violations).toEqual([]);
  expect(summary).toMatchObject({
    status: 'ROLLED_BACK',
    weights: { a: 100, b: 0 },
    running: { a: 3, b: 0 },
  });
}

describe('an alarm that fires and clears between checks', () => {
  it('rolls back when it fired while the 100 % change propagated', async () => {
    const scenario = testScenario('alarm-blip-during-dns', 'ROLLED_BACK', {
      summary: 'the alarm is in ALARM for 25 s while the 100 % change propagates',
      prepare: ({ world }) => {
        greenWeightReaches(world, 100, () => {
          world.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed: 5xx 3 %', world.now() + 5_000);
          world.cloudwatch.setState(ALARM, 'OK', 'Threshold Crossed: 5xx 0.1 %', world.now() + 30_000);
        });
      },
    });
    const { summary } = await simulate(scenario);
    expectBackOnBlue(summary);
    expect(summary.cause).toMatch(
      /"web-prod-5xx" \(in ALARM at .*, cleared since: "Threshold Crossed: 5xx 3 %"\)/,
    );
  });

  it('rolls back when it fired while an approver decided whether blue may go', async () => {
    const scenario = testScenario('alarm-during-termination-approval', 'ROLLED_BACK', {
      summary: 'approval before blue goes; the alarm fires for 5 minutes while the approver decides',
      prepare: approvalBeforeBlueGoes((world) => {
        world.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed', world.now() + 3_900_000);
        world.cloudwatch.setState(ALARM, 'OK', 'back to normal', world.now() + 4_200_000);
      }),
      approvers: { kind: 'approve', afterMinutes: 30, comment: 'ok' },
    });
    const { summary } = await simulate(scenario);
    expectBackOnBlue(summary);
  });

  it('does not count an alarm that only flips between OK and INSUFFICIENT_DATA, however long', async () => {
    const scenario = testScenario('sparse-metric-alarm', 'SUCCEEDED', {
      summary: 'the alarm flips OK / INSUFFICIENT_DATA every 2 minutes; the approver answers after 18 h',
      prepare: approvalBeforeBlueGoes((world) => {
        const start = world.now() + 3_900_000;
        for (let i = 1; i <= 600; i++)
          world.cloudwatch.setState(
            ALARM,
            i % 2 ? 'INSUFFICIENT_DATA' : 'OK',
            'sparse data',
            start + i * 120_000,
          );
      }),
      approvers: { kind: 'approve', afterMinutes: 18 * 60, comment: 'ok' },
    });
    const { summary } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('SUCCEEDED');
  });

  it('reads no alarm history when no alarm changed state', async () => {
    const { summary } = await simulate({
      name: 'quiet',
      summary: 'a deploy with quiet alarms',
      expect: 'SUCCEEDED',
    });
    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.apiCalls['cloudwatch:DescribeAlarmHistory'] ?? 0).toBe(0);
  });
});
