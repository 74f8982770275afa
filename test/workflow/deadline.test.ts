import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeployConfigInput } from '#shared/domain/config.ts';
import { allowedSeconds } from '#shared/domain/deadline.ts';
import { DURATION_METRICS, OVERRUN_METRIC } from '#shared/domain/metrics.ts';
import { STATE } from '#shared/domain/states.ts';
import type { Plan } from '#shared/domain/workflow.ts';
import { simulate } from '../../sim/simulate.ts';
import { ALARM, APPROVERS, greenWeightReaches, slowDrain } from '../../sim/worlds.ts';
import { testScenario } from '../support/scenarios.ts';

// The deadline Plan stores is an upper bound of every legitimate run: random valid configs (every
// wait anywhere within the schema's limits, approvals at one stage or both), run through the real
// ASL and handlers with AWS as slow as it may legitimately be (builds and boots up to and past
// their timeouts, Route 53 just inside a step's three minutes, or up to 30 minutes for a rollback's
// change, ELB's longest deregistration delay, clients that ignore DNS), approvers who answer late
// or not at all, and an alarm at a random moment. No task counts DeploymentOverrun, and each
// deployment ends within the time its config allows. DEADLINE_RUNS runs more.

const RUNS = Number(process.env.DEADLINE_RUNS ?? 20);

const steps = fc
  .uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 9 })
  .map((percents) => [...percents.sort((x, y) => x - y), 100]);

const share = fc.double({ min: 0.05, max: 1.1, noNaN: true });

const run = fc.record({
  config: fc.record({
    steps,
    stepWaitSeconds: fc.integer({ min: 0, max: 3600 }),
    ttlSeconds: fc.integer({ min: 0, max: 3600 }),
    health: fc.record({
      timeoutSeconds: fc.integer({ min: 60, max: 3600 }),
      pollSeconds: fc.integer({ min: 5, max: 300 }),
    }),
    bake: fc.record({
      timeoutMinutes: fc.integer({ min: 10, max: 240 }),
      pollSeconds: fc.integer({ min: 60, max: 3600 }),
    }),
    termination: fc.record(
      {
        waitSeconds: fc.integer({ min: 0, max: 172_800 }),
        checkIntervalSeconds: fc.integer({ min: 60, max: 3600 }),
      },
      { requiredKeys: ['waitSeconds'] },
    ),
    approval: fc.option(
      fc.record({
        before: fc.constantFrom<('traffic-shift' | 'blue-termination')[][]>(
          ['traffic-shift'],
          ['blue-termination'],
          ['traffic-shift', 'blue-termination'],
        ),
        timeoutSeconds: fc.integer({ min: 300, max: 604_800 }),
      }),
      { nil: undefined },
    ),
  }),
  buildShare: share,
  bootShare: share,
  answerShare: fc.option(fc.double({ min: 0.01, max: 1.05, noNaN: true }), { nil: undefined }),
  propagationSeconds: fc.integer({ min: 5, max: 175 }),
  deregistrationDelaySeconds: fc.integer({ min: 0, max: 3600 }),
  clientsIgnoreDns: fc.boolean(),
  buildEventLost: fc.boolean(),
  alarm: fc.option(
    fc.record({
      atFirstStep: fc.boolean(),
      afterSeconds: fc.integer({ min: 0, max: 800_000 }),
      rollbackChangeSlow: fc.boolean(),
    }),
    { nil: undefined },
  ),
});

type Run = typeof run extends fc.Arbitrary<infer T> ? T : never;

/**
 * The longest legitimate run: every limit at its maximum, both approvals answered just before
 * their 7 days, and the alarm firing while the second one waits, so the rollback starts at the
 * last moment one can, its change taking Route 53's 30 minutes and green an hour to drain.
 */
const LONGEST: Run = {
  config: {
    steps: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    stepWaitSeconds: 3600,
    ttlSeconds: 3600,
    health: { timeoutSeconds: 3600, pollSeconds: 5 },
    bake: { timeoutMinutes: 240, pollSeconds: 60 },
    termination: { waitSeconds: 172_800, checkIntervalSeconds: 60 },
    approval: { before: ['traffic-shift', 'blue-termination'], timeoutSeconds: 604_800 },
  },
  buildShare: 0.99,
  bootShare: 0.9,
  answerShare: 0.99,
  propagationSeconds: 175,
  deregistrationDelaySeconds: 3600,
  clientsIgnoreDns: true,
  buildEventLost: true,
  alarm: { atFirstStep: false, afterSeconds: 3600 + 172_800 + 590_000, rollbackChangeSlow: true },
};

function configure(config: DeployConfigInput, { config: c }: Run): void {
  config.traffic = { steps: c.steps, stepWaitSeconds: c.stepWaitSeconds };
  if (!config.dns) throw new Error('the built-in world is a Route 53 one: its config has dns');
  config.dns.ttlSeconds = c.ttlSeconds;
  config.health = c.health;
  config.bake.timeoutMinutes = c.bake.timeoutMinutes;
  config.bake.pollSeconds = c.bake.pollSeconds;
  config.termination = c.termination;
  if (c.approval) config.approval = { ...c.approval, approvers: APPROVERS };
  else delete config.approval;
}

describe('the deadline of a deployment', () => {
  it('is never passed by a legitimate run of any valid config, however slow within its limits', async () => {
    await fc.assert(
      fc.asyncProperty(run, async (r) => {
        const { config: c, alarm } = r;
        const answer = c.approval && r.answerShare !== undefined ? r.answerShare : undefined;
        const scenario = testScenario('random-config', 'SUCCEEDED', {
          summary: 'a random valid config, AWS slow within its limits',
          prepare: (ctx) => {
            const { world } = ctx;
            configure(ctx.config, r);
            world.imagebuilder.buildMinutes = Math.max(1, Math.round(c.bake.timeoutMinutes * r.buildShare));
            world.ec2.bootSeconds = Math.max(1, Math.round(c.health.timeoutSeconds * r.bootShare));
            world.route53.propagationSeconds = r.propagationSeconds;
            for (const group of world.elbv2.targetGroups.values())
              group.deregistrationDelaySeconds = r.deregistrationDelaySeconds;
            if (r.clientsIgnoreDns) slowDrain(world);
            if (r.buildEventLost) world.events.lostSources.add('aws.imagebuilder');
            if (!alarm) return;
            greenWeightReaches(world, alarm.atFirstStep ? (c.steps[0] ?? 100) : 100, () => {
              world.cloudwatch.setState(
                ALARM,
                'ALARM',
                'Threshold Crossed',
                world.now() + alarm.afterSeconds * 1000,
              );
              // Route 53 slow from then on: the rollback's change takes up to its 30 minutes.
              if (alarm.rollbackChangeSlow)
                ctx.after(alarm.afterSeconds, () => {
                  world.route53.propagationSeconds = 1780;
                });
            });
          },
          ...(c.approval
            ? {
                approvers:
                  answer === undefined
                    ? { kind: 'ignore' as const }
                    : {
                        kind: 'approve' as const,
                        afterMinutes: Math.round((c.approval.timeoutSeconds * answer) / 60),
                        comment: 'Checked.',
                      },
              }
            : {}),
        });
        const { summary, world } = await simulate(scenario);
        const values = summary.metrics.flatMap((m) => m.values);
        expect(values.filter((v) => v.name === OVERRUN_METRIC)).toEqual([]);
        const execution = [...world.sfn.executions.values()][0];
        const planned = execution?.history.find((e) => e.type === 'TaskStateExited' && e.name === STATE.plan);
        if (!planned || !('output' in planned)) throw new Error('the deployment did not plan');
        const { plan } = JSON.parse(planned.output) as { plan: Plan };
        const duration = values.find((v) => v.name === DURATION_METRICS.deployment)?.value;
        expect(duration).toBeDefined();
        expect(duration).toBeLessThanOrEqual(allowedSeconds(plan));
      }),
      { numRuns: RUNS, examples: [[LONGEST]] },
    );
  });
});
