import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DURATION_METRICS,
  METRIC_DIMENSIONS,
  METRICS_NAMESPACE,
  OUTCOME_METRICS,
  OVERRUN_METRIC,
} from '#shared/domain/metrics.ts';
import { DNS_POLL_SECONDS } from '#shared/domain/plan.ts';
import { FINISHED_DETAIL_TYPES } from '#shared/domain/progress.ts';
import type { Outcome } from '#shared/domain/report.ts';
import { STATE } from '#shared/domain/states.ts';
import type { Plan } from '#shared/domain/workflow.ts';
import { emitDeploymentMetrics } from '#shared/metrics.ts';
import { recordMetricsPerWorld } from '../../sim/metrics.ts';
import { loadOwnApp } from '../../sim/own-config.ts';
import { inWorld } from '../../sim/router.ts';
import { findScenario } from '../../sim/scenarios.ts';
import { type Summary, simulate } from '../../sim/simulate.ts';
import { summaryLines } from '../../sim/summary.ts';
import { World } from '../../sim/world.ts';
import {
  ALARM,
  APPROVERS,
  alarmAfterGreenReaches,
  greenWeightReaches,
  stopWhenIn,
} from '../../sim/worlds.ts';
import { testScenario } from '../support/scenarios.ts';
import { ROOT } from '../support/simulation.ts';
import { keptStdout } from '../support/stdout.ts';

// The deployment metrics as the notify task writes them (Powertools Metrics, one embedded-metric
// document per deployment) while the real state machine runs: each run of the simulator reports
// the documents its own account's functions wrote under `metrics`, beside the `finished` progress
// event of the same outcome, and none of them reaches stdout.

const OUTCOME_OF_METRIC = new Map<string, string>(
  Object.entries(OUTCOME_METRICS).map(([outcome, name]) => [name, outcome]),
);
const OUTCOME_OF_EVENT = new Map<string, string>(
  Object.entries(FINISHED_DETAIL_TYPES).map(([outcome, type]) => [type, outcome]),
);

const written = keptStdout();
afterEach(() => {
  // Not an EMF line, nor anything else: `--json` prints its report on stdout.
  expect(written().join('')).toBe('');
});

async function runInWorld(name: string, options: Parameters<typeof simulate>[1] = {}) {
  const scenario = findScenario(name);
  if (!scenario) throw new Error(`no scenario ${name}`);
  return simulate(scenario, options);
}

async function run(name: string, options: Parameters<typeof simulate>[1] = {}): Promise<Summary> {
  return (await runInWorld(name, options)).summary;
}

/** Every value of `name` the run's documents hold. */
function valuesOf(summary: Summary, name: string): number[] {
  return summary.metrics.flatMap((m) => m.values.filter((v) => v.name === name).map((v) => v.value));
}

/**
 * The deployment's one AlarmToBlueSeconds runs from `alarmedAt` (the simulated clock) to the
 * rollback's change (the last weights written) INSYNC, as the service sees it at its next poll.
 * Returns it.
 */
function expectAlarmToBlue(summary: Summary, world: World, alarmedAt: number | undefined): number {
  const [seconds, ...more] = valuesOf(summary, DURATION_METRICS.alarmToBlue);
  expect(more).toEqual([]);
  const returnedAt = (world.route53.weightLog.at(-1)?.at ?? 0) + world.route53.propagationSeconds * 1000;
  if (alarmedAt === undefined || seconds === undefined) throw new Error('no alarm, or no AlarmToBlueSeconds');
  expect(seconds * 1000).toBeGreaterThanOrEqual(returnedAt - alarmedAt);
  expect(seconds * 1000).toBeLessThan(returnedAt - alarmedAt + DNS_POLL_SECONDS * 1000);
  return seconds;
}

/** The outcomes the metrics counted and the outcomes the finished events told, in order. */
function outcomes(summary: Summary): { counted: string[]; told: string[] } {
  return {
    counted: summary.metrics.flatMap((m) =>
      m.values.flatMap((v) =>
        OUTCOME_OF_METRIC.has(v.name) ? [OUTCOME_OF_METRIC.get(v.name) as string] : [],
      ),
    ),
    told: summary.events.flatMap((type) =>
      OUTCOME_OF_EVENT.has(type) ? [OUTCOME_OF_EVENT.get(type) as string] : [],
    ),
  };
}

describe('the deployment metrics in the simulator', () => {
  it.each<[string, Outcome, Summary['status']]>([
    ['happy', 'succeeded', 'SUCCEEDED'],
    ['alarm-during-shift', 'rolled-back', 'ROLLED_BACK'],
    ['bake-fails', 'failed', 'FAILED'],
    ['rollback-fails', 'rollback-failed', 'FAILED'],
    ['blue-termination-fails', 'cleanup-failed', 'FAILED'],
  ])(
    '%s: one document, counting %s once by app and env, as its finished event tells',
    async (name, outcome, status) => {
      const summary = await run(name);
      expect(summary.status).toBe(status);
      expect(summary.metrics).toHaveLength(1);
      const [doc] = summary.metrics;
      expect(doc).toMatchObject({
        namespace: METRICS_NAMESPACE,
        dimensions: { service: 'bluegreen-ec2', app: 'web', env: 'prod' },
      });
      expect(Object.keys(doc?.dimensions ?? {})).toEqual(expect.arrayContaining([...METRIC_DIMENSIONS]));
      const counts = doc?.values.filter((v) => OUTCOME_OF_METRIC.has(v.name));
      expect(counts).toEqual([{ name: OUTCOME_METRICS[outcome], unit: 'Count', value: 1 }]);
      // The execution that wrote it is the deployment that ended so.
      expect(doc?.execution).toMatch(/^web-prod-1_1_0-/);
      expect(summary.events.at(-1)).toBe(FINISHED_DETAIL_TYPES[outcome]);
      expect(outcomes(summary)).toEqual({ counted: [outcome], told: [outcome] });
    },
  );

  it('times the deployment it counts: the durations the notify task measured, in seconds', async () => {
    const summary = await run('happy');
    const values = Object.fromEntries(summary.metrics[0]?.values.map((v) => [v.name, v]) ?? []);
    expect(values.DeploymentDurationSeconds).toMatchObject({ unit: 'Seconds' });
    const duration = values.DeploymentDurationSeconds?.value ?? -1;
    // From the plan to the notification: within the run, after the time to full green and the bake.
    expect(duration).toBeGreaterThan(0);
    expect(duration).toBeLessThanOrEqual(summary.virtualSeconds);
    expect(values.TimeToFullGreenSeconds?.value).toBeLessThan(duration);
    expect(values.BakeReused).toEqual({ name: 'BakeReused', unit: 'Count', value: 0 });
    expect(values.BakeDurationSeconds?.value).toBeGreaterThan(0);
    expect(summaryLines(summary)).toContain(
      `Metrics:     ${summary.metrics[0]?.values.map((v) => `${v.name} ${v.value}`).join(', ')}`,
    );
  });

  it('concurrent uploads: the superseded one is counted as superseded, each deployment once', async () => {
    const summary = await run('concurrent-uploads');
    expect(summary.status).toBe('SUCCEEDED');
    const { counted, told } = outcomes(summary);
    expect(counted).toContain('superseded');
    expect(counted).toEqual(told);
    // One document per execution, by the execution that wrote it.
    const executions = summary.metrics.map((m) => m.execution);
    expect(new Set(executions).size).toBe(summary.executions);
    for (const doc of summary.metrics) expect(doc.dimensions).toMatchObject({ app: 'web', env: 'prod' });
  });

  it("are dimensioned by the deployed app and env: a user's own config", async () => {
    const loaded = await loadOwnApp(join(ROOT, 'test/fixtures/configs/orders-qa.json'), 'orders', 'qa');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const summary = await run('happy', { own: loaded.own });
    expect(summary.metrics).toEqual([
      expect.objectContaining({
        dimensions: { service: 'bluegreen-ec2', app: 'orders', env: 'qa' },
        values: expect.arrayContaining([{ name: 'DeploymentSucceeded', unit: 'Count', value: 1 }]),
      }),
    ]);
  });

  it('are each recorded in the account whose work wrote them, with several accounts at work at once', async () => {
    recordMetricsPerWorld();
    const worlds = [new World(), new World()];
    const count = [{ name: 'DeploymentSucceeded' as const, unit: 'Count' as const, value: 1 }];
    // Interleaved: each account's work yields to the other's between its writes.
    await Promise.all(
      worlds.map((world, i) =>
        inWorld(world, async () => {
          for (const env of ['qa', 'prod']) {
            await new Promise((resolve) => setImmediate(resolve));
            emitDeploymentMetrics(`app${i}`, env, count);
          }
        }),
      ),
    );
    for (const [i, world] of worlds.entries()) {
      const apps = world.metrics.map((m) => JSON.parse(m.line) as { app: string; env: string });
      expect(apps).toEqual([
        expect.objectContaining({ app: `app${i}`, env: 'qa' }),
        expect.objectContaining({ app: `app${i}`, env: 'prod' }),
      ]);
    }
    // Outside every account nothing is recorded, and (metrics disabled) nothing is written (afterEach).
    emitDeploymentMetrics('elsewhere', 'prod', count);
    expect(worlds.flatMap((w) => w.metrics)).toHaveLength(4);
  });

  it.each([
    'alarm-during-shift',
    'alarm-with-partly-healthy-blue',
    'alarm-during-termination-wait',
    'route53-slow-blue-weakened-alarm',
  ])(
    '%s: AlarmToBlueSeconds from the alarm going into ALARM to the rollback change seen INSYNC',
    async (name) => {
      const { summary, world } = await runInWorld(name);
      expect(summary.status).toBe('ROLLED_BACK');
      // When the alarm went into ALARM (the simulated clock).
      const alarmedAt = [...world.cloudwatch.alarms.values()]
        .flat()
        .filter((change) => change.state === 'ALARM')
        .map((change) => change.at)
        .sort((x, y) => x - y)[0];
      const seconds = expectAlarmToBlue(summary, world, alarmedAt);
      expect(summary.metrics[0]?.values).toContainEqual({
        name: 'AlarmToBlueSeconds',
        unit: 'Seconds',
        value: seconds,
      });
    },
  );

  it('AlarmToBlueSeconds from the first time an alarm went into ALARM, when it fired and cleared twice while a person decided', async () => {
    // Nothing watches the alarms while the approval to terminate blue waits: the check after it
    // reads the alarm's history, which holds both times it fired.
    let firstAt = 0;
    const scenario = testScenario('alarm-flaps-during-approval', 'ROLLED_BACK', {
      summary: 'the 5xx alarm fires and clears twice while the approval to terminate blue waits',
      prepare: ({ world, config }) => {
        config.approval = { before: ['blue-termination'], approvers: APPROVERS, timeoutSeconds: 86_400 };
        greenWeightReaches(world, 100, () => {
          // The window (an hour) has passed two hours after the 100 % change; the approver
          // answers five hours after it.
          firstAt = world.now() + 7200 * 1000;
          const secondAt = world.now() + 14_400 * 1000;
          world.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed: 5xx rate 3.1 % > 1 %', firstAt);
          world.cloudwatch.setState(
            ALARM,
            'OK',
            'Threshold Crossed: 5xx rate 0.2 % < 1 %',
            firstAt + 300_000,
          );
          world.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed: 5xx rate 2.4 % > 1 %', secondAt);
          world.cloudwatch.setState(
            ALARM,
            'OK',
            'Threshold Crossed: 5xx rate 0.1 % < 1 %',
            secondAt + 300_000,
          );
        });
      },
      approvers: { kind: 'approve', afterMinutes: 300, comment: 'Checked.' },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.status).toBe('ROLLED_BACK');
    expectAlarmToBlue(summary, world, firstAt);
  });

  it('AlarmToBlueSeconds of an alarm rollback stopped on its way, from the rollback execution the recovery started', async () => {
    let alarmedAt = 0;
    const scenario = testScenario('alarm-rollback-stopped', 'ROLLED_BACK', {
      summary: 'the 5xx alarm fires at 50 %, and an operator presses Stop while resolvers leave green',
      prepare: (ctx) => {
        alarmAfterGreenReaches(ctx.world, 50, 90);
        greenWeightReaches(ctx.world, 50, () => {
          alarmedAt = ctx.world.now() + 90_000;
        });
        stopWhenIn(ctx, STATE.leaveGreen, 5);
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.status).toBe('ROLLED_BACK');
    expect([...world.sfn.rollbacks.values()].map((r) => r.status)).toEqual(['FAILED']);
    // The rollback execution wrote the records again: all traffic was on blue once its change was in sync.
    expectAlarmToBlue(summary, world, alarmedAt);
  });

  it.each([
    'happy',
    'green-unhealthy',
    'route53-slow',
    'bake-fails',
    'rollback-fails',
    'blue-dies-then-alarm',
    'alarm-before-first-shift',
  ])('%s: no alarm put the traffic back on blue, so no AlarmToBlueSeconds', async (name) => {
    const summary = await run(name);
    expect(summary.metrics.length).toBeGreaterThan(0);
    expect(valuesOf(summary, DURATION_METRICS.alarmToBlue)).toEqual([]);
  });

  it('rollback-resumed-late: every task after the deadline counts DeploymentOverrun, by app and env', async () => {
    const { summary, world } = await runInWorld('rollback-resumed-late');
    expect(summary.status).toBe('ROLLED_BACK');
    const overruns = summary.metrics.filter((m) => m.values.some((v) => v.name === OVERRUN_METRIC));
    // Step Functions resumed the rollback 12 hours late, at the wait before green drains: the
    // tasks after it (drain green, remove green, the final notification) each count one.
    expect(overruns.map((m) => m.values)).toEqual(
      Array.from({ length: 3 }, () => [{ name: OVERRUN_METRIC, unit: 'Count', value: 1 }]),
    );
    for (const doc of overruns) {
      expect(doc).toMatchObject({
        namespace: METRICS_NAMESPACE,
        dimensions: { service: 'bluegreen-ec2', app: 'web', env: 'prod' },
      });
      expect(doc.execution).toMatch(/^web-prod-1_1_0-/);
    }
    // Beside the final notification's own document, which still counts the outcome once.
    expect(outcomes(summary)).toEqual({ counted: ['rolled-back'], told: ['rolled-back'] });
    // The tasks before the late wait ran within the deadline: none of them counted.
    const execution = [...world.sfn.executions.values()][0];
    const late = execution?.states.find((s) => s.name === STATE.leaveGreen)?.at ?? 0;
    const planned = execution?.history.find((e) => e.type === 'TaskStateExited' && e.name === STATE.plan);
    const plan =
      planned && 'output' in planned ? (JSON.parse(planned.output) as { plan: Plan }).plan : undefined;
    expect(Date.parse(plan?.deadline ?? '')).toBeGreaterThan(late);
  });
});
