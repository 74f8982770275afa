import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STATE } from '#shared/domain/states.ts';
import { TAG } from '#shared/domain/tags.ts';
import type { ForwardWeightAt } from '../../sim/aws/elbv2.ts';
import { EVENT_KINDS, formatFailure, runSchedule, scheduleArbitrary } from '../../sim/chaos.ts';
import { findScenario, type Scenario } from '../../sim/scenarios.ts';
import { simulate } from '../../sim/simulate.ts';
import { ambientFault, asSomeoneElse, type World } from '../../sim/world.ts';
import {
  ALARM,
  ALB_STICKINESS_SECONDS,
  alarmAfterGreenReaches,
  albConfig,
  appNames,
  greenWeightReaches,
  stopRunning,
  uploadRelease,
} from '../../sim/worlds.ts';
import { testScenario } from '../support/scenarios.ts';

// traffic.mode alb, end to end: the real ASL and handlers against the simulated account whose one
// load balancer's listener forwards to both slots' target groups by weight, with target group
// stickiness. The safety monitor judges every listener write as it judges record changes.

const names = appNames();

function scenario(name: string): Scenario {
  const found = findScenario(name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
}

/** Each write of the listener's forward action, as both slots' weights, with when and its stickiness. */
function listenerWrites(world: World): { at: number; a: number; b: number; stickinessSeconds: number }[] {
  const written = world.elbv2.forwardLog.filter((e) => e.at > 0 && e.arn === names.listenerArn);
  const byTime = new Map<number, ForwardWeightAt[]>();
  for (const entry of written) byTime.set(entry.at, [...(byTime.get(entry.at) ?? []), entry]);
  return [...byTime.entries()].map(([at, entries]) => ({
    at,
    a: entries.find((e) => e.targetGroupArn === names.targetGroups.a)?.weight ?? -1,
    b: entries.find((e) => e.targetGroupArn === names.targetGroups.b)?.weight ?? -1,
    stickinessSeconds: entries[0]?.stickinessSeconds ?? 0,
  }));
}

function calls(world: World, operation: string): number {
  return world.calls.filter((c) => c.operation === operation && !c.error).length;
}

/** When the instances of `version` were terminated (virtual ms), first to last. */
function terminatedAt(world: World, version: string): number[] {
  return [...world.ec2.instances.values()]
    .filter((i) => i.tags[TAG.version] === version && i.terminateRequestedAt !== undefined)
    .map((i) => i.terminateRequestedAt as number)
    .sort((x, y) => x - y);
}

/**
 * Someone else replaces the listener's action with a forward of these weights, with target group
 * stickiness for `stickinessSeconds` if given.
 */
function writeByHand(world: World, a: number, b: number, stickinessSeconds?: number): void {
  void asSomeoneElse(() =>
    world.call('elbv2', 'ModifyListener', {
      ListenerArn: names.listenerArn,
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: names.targetGroups.a, Weight: a },
              { TargetGroupArn: names.targetGroups.b, Weight: b },
            ],
            ...(stickinessSeconds === undefined
              ? {}
              : { TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: stickinessSeconds } }),
          },
        },
      ],
    }),
  );
}

/** A Route 53 scenario in traffic.mode alb: its world is the alb one, its config keeps the mode. */
function inAlbMode(base: Scenario, alb: true | 'rule' = true): Scenario {
  return {
    ...base,
    alb,
    prepare: (ctx) => {
      base.prepare?.(ctx);
      ctx.config.traffic = { ...ctx.config.traffic, mode: 'alb' };
    },
  };
}

describe('traffic.mode alb', () => {
  it('alb-happy: each step is one ModifyListener with both weights, no Route 53 call, and blue goes once sticky clients left and the window passed', async () => {
    const { summary, world } = await simulate(scenario('alb-happy'));
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({
      status: 'SUCCEEDED',
      liveSlot: 'b',
      weights: { a: 0, b: 100 },
      running: { a: 0, b: 3, other: 0 },
    });
    const writes = listenerWrites(world);
    expect(writes.map(({ a, b }) => ({ a, b }))).toEqual([
      { a: 90, b: 10 },
      { a: 50, b: 50 },
      { a: 0, b: 100 },
    ]);
    // The stickiness of the action each step replaced is written back as it was.
    expect(writes.every((w) => w.stickinessSeconds === ALB_STICKINESS_SECONDS)).toBe(true);
    expect(calls(world, 'ModifyListener')).toBe(3);
    expect(calls(world, 'ChangeResourceRecordSets')).toBe(0);
    expect(calls(world, 'GetChange')).toBe(0);
    // No INSYNC or TTL wait: each step waits its own 5 minutes and no more.
    const gaps = writes.slice(1).map((w, i) => (w.at - (writes[i]?.at ?? 0)) / 1000);
    expect(gaps).toEqual([300, 300]);
    // Blue is terminated only after the stickiness duration and the one-hour window from 100 %.
    const last = writes.at(-1)?.at ?? 0;
    const blueGone = terminatedAt(world, '1.0.0');
    expect(blueGone).toHaveLength(3);
    expect((blueGone[0] ?? 0) - last).toBeGreaterThanOrEqual((ALB_STICKINESS_SECONDS + 3600) * 1000);
    // The write is the moment green has all traffic: TimeToFullGreenSeconds counts to it.
    const toFullGreen = summary.metrics
      .flatMap((m) => m.values)
      .find((v) => v.name === 'TimeToFullGreenSeconds');
    expect(toFullGreen?.value).toBe((last - world.startedAt) / 1000);
  });

  it('alb-alarm-during-shift: one ModifyListener puts 100 on blue, and green is drained only after its sticky clients left', async () => {
    const { summary, world } = await simulate(scenario('alb-alarm-during-shift'));
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({
      status: 'ROLLED_BACK',
      liveSlot: 'a',
      weights: { a: 100, b: 0 },
      running: { a: 3, b: 0, other: 0 },
    });
    const writes = listenerWrites(world);
    expect(writes.map(({ a, b }) => ({ a, b }))).toEqual([
      { a: 90, b: 10 },
      { a: 50, b: 50 },
      { a: 100, b: 0 },
    ]);
    const rollback = writes.at(-1)?.at ?? 0;
    const deregistered = world.calls.find((c) => c.operation === 'DeregisterTargets' && !c.error);
    expect((deregistered?.at ?? 0) - rollback).toBeGreaterThanOrEqual(ALB_STICKINESS_SECONDS * 1000);
    expect(terminatedAt(world, '1.1.0')).toHaveLength(3);
    expect(terminatedAt(world, '1.0.0')).toEqual([]);
    expect(summary.cause).toContain('AlarmTriggered');
  });

  it('alb-first-deploy: the fixed response is replaced by one forward to both target groups, 100 on green', async () => {
    const { summary, world } = await simulate(scenario('alb-first-deploy'));
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({
      status: 'SUCCEEDED',
      liveSlot: 'a',
      weights: { a: 100, b: 0 },
      running: { a: 1, b: 0, other: 0 },
    });
    expect(listenerWrites(world).map(({ a, b }) => ({ a, b }))).toEqual([{ a: 100, b: 0 }]);
    const actions = world.elbv2.listeners.get(names.listenerArn)?.actions ?? [];
    expect(actions.map((a) => a.Type)).toEqual(['forward']);
    expect(calls(world, 'TerminateInstances')).toBe(0);
  });

  it('alb-stopped-by-operator: the rollback puts 100 on blue in one call; green is terminated and the lock released', async () => {
    const { summary, world } = await simulate(scenario('alb-stopped-by-operator'));
    expect(summary.violations).toEqual([]);
    expect(summary.problems).toEqual([]);
    expect(summary).toMatchObject({
      status: 'ROLLED_BACK',
      liveSlot: 'a',
      weights: { a: 100, b: 0 },
      running: { a: 3, b: 0, other: 0 },
    });
    const modifies = world.calls.filter((c) => c.operation === 'ModifyListener' && !c.error);
    expect(modifies.map((c) => c.fn)).toEqual(['shiftTraffic', 'shiftTraffic', 'rollbackTraffic']);
    expect(listenerWrites(world).at(-1)).toMatchObject({ a: 100, b: 0 });
    expect(terminatedAt(world, '1.1.0')).toHaveLength(3);
  });
});

describe('a traffic split behind the listener', () => {
  it('is refused, nothing changed, without traffic.healSplit', async () => {
    const { summary, world } = await simulate(inAlbMode(scenario('split-traffic-at-start')));
    expect(summary).toMatchObject({ status: 'FAILED', violations: [], problems: [] });
    expect(summary.cause).toContain('both slots carry traffic (a=60 b=40)');
    expect(calls(world, 'ModifyListener')).toBe(0);
  });

  it('is healed with traffic.healSplit: one ModifyListener puts all on a, b is cleared once its sticky clients left, 1.1.0 deploys', async () => {
    const { summary, world } = await simulate(inAlbMode(scenario('split-traffic-heal')));
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', liveSlot: 'b', weights: { a: 0, b: 100 } });
    const [heal] = listenerWrites(world);
    expect(heal).toMatchObject({ a: 100, b: 0 });
    const cleared = world.calls.find((c) => c.operation === 'DeregisterTargets' && !c.error);
    expect((cleared?.at ?? 0) - (heal?.at ?? 0)).toBeGreaterThanOrEqual(ALB_STICKINESS_SECONDS * 1000);
  });
});

describe('a listener the service may not change', () => {
  it('is refused in Plan, naming the stack parameter ListenerArns, before anything is launched', async () => {
    const config = albConfig();
    const other = names.listenerArn.replace('f2f7dc8efc522ab2', '0123456789abcdef');
    config.listener = { listenerArn: other };
    const { summary, world } = await simulate(
      { ...scenario('alb-happy'), expect: 'FAILED' },
      { own: { app: 'web', env: 'prod', config } },
    );
    expect(summary.status).toBe('FAILED');
    expect(summary.cause).toContain(
      `listener.listenerArn: ${other} is not among the listeners and rules the service may change (its stack parameter ListenerArns)`,
    );
    expect(calls(world, 'RunInstances')).toBe(0);
    expect(calls(world, 'ModifyListener')).toBe(0);
  });
});

describe('traffic.mode alb with a listener rule (listener.ruleArn)', () => {
  it('alb-rule-happy: each step is one ModifyRule, the listener’s own default action untouched', async () => {
    const { summary, world } = await simulate(scenario('alb-rule-happy'));
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', liveSlot: 'b', weights: { a: 0, b: 100 } });
    expect(calls(world, 'ModifyRule')).toBe(3);
    expect(calls(world, 'ModifyListener')).toBe(0);
    expect(world.elbv2.listeners.get(names.listenerArn)?.actions.map((a) => a.Type)).toEqual([
      'fixed-response',
    ]);
  });

  it.each([
    ['alarm-during-shift', 'ROLLED_BACK'],
    ['stopped-by-operator', 'ROLLED_BACK'],
    ['split-traffic-heal', 'SUCCEEDED'],
  ] as const)('%s behind a rule ends %s with every invariant held', async (name, status) => {
    const { summary, world } = await simulate(inAlbMode(scenario(name), 'rule'));
    expect(summary.violations).toEqual([]);
    expect(summary.problems).toEqual([]);
    expect(summary.status).toBe(status);
    expect(summary.running.other).toBe(0);
    expect(calls(world, 'ModifyRule')).toBeGreaterThan(0);
    expect(calls(world, 'ModifyListener')).toBe(0);
  });
});

describe('a Stop while the AMI bakes, behind a listener', () => {
  it.each([true, 'rule'] as const)(
    'is recovered with nothing moved: the weights are read off the listener, traffic never left blue (alb: %s)',
    async (alb) => {
      const stopped = testScenario('alb-stopped-while-baking', 'FAILED', {
        summary: 'an operator presses Stop ten minutes into the bake',
        alb,
        act: (ctx) => {
          uploadRelease(ctx);
          ctx.after(600, () => stopRunning(ctx));
        },
      });
      const { summary, world } = await simulate(stopped);
      expect(summary.violations).toEqual([]);
      expect(summary).toMatchObject({ liveSlot: 'a', weights: { a: 100, b: 0 }, running: { a: 3, b: 0 } });
      expect(calls(world, 'RunInstances')).toBe(0);
      expect(calls(world, alb === 'rule' ? 'ModifyRule' : 'ModifyListener')).toBe(0);
      // The recovery judged by the listener whether the stopped deployment had moved traffic.
      const read = world.calls.filter(
        (c) =>
          c.fn === 'recoverExecution' &&
          c.operation === (alb === 'rule' ? 'DescribeRules' : 'DescribeListeners'),
      );
      expect(read.length).toBeGreaterThan(0);
    },
  );
});

describe('a rollback whose listener write keeps failing', () => {
  it.each([true, 'rule'] as const)(
    'fails and says what is left, the weights read off the listener (alb: %s)',
    async (alb) => {
      const refused = testScenario('alb-rollback-fails', 'FAILED', {
        summary: 'the alarm fires at 50 % and the listener refuses every write from then on',
        alb,
        breaksInvariants: true,
        prepare: ({ world }) => {
          greenWeightReaches(world, 50, () => {
            world.cloudwatch.setState(
              ALARM,
              'ALARM',
              'Threshold Crossed: 5xx rate 4.2 % > 1 %',
              world.now() + 90_000,
            );
            world.inject({
              service: 'elbv2',
              operation: alb === 'rule' ? 'ModifyRule' : 'ModifyListener',
              kind: 'transient',
              times: 1_000_000,
            });
          });
        },
      });
      const { summary } = await simulate(refused);
      expect(summary.status).toBe('FAILED');
      expect(summary.cause).toContain('Left for a person:');
      expect(summary.cause).toContain('a=50 b=50');
      expect(summary.weights).toEqual({ a: 50, b: 50 });
    },
  );
});

describe('the safety monitor behind a listener', () => {
  it('flags a listener write that sends traffic to a green failing its checks', async () => {
    const sabotage = testScenario('sabotage-alb-unhealthy', 'ROLLED_BACK', {
      summary: 'someone forwards half the traffic to green while its targets fail their checks',
      alb: true,
      prepare: (ctx) => {
        ctx.world.elbv2.failingFrom = (instance) =>
          instance.tags[TAG.version] === '1.1.0' ? instance.launchedAt : undefined;
        ctx.world.schedule(ctx.world.now() + 25 * 60_000, () => writeByHand(ctx.world, 50, 50));
      },
    });
    const { summary } = await simulate(sabotage);
    expect(summary.violations.join('\n')).toMatch(
      /invariant 1: traffic \(50\) sent to slot b with 0 of 3 targets healthy/,
    );
  });

  it('flags a listener write with both weights 0', async () => {
    const sabotage = testScenario('sabotage-alb-all-zero', 'ROLLED_BACK', {
      summary: 'someone sets both target groups’ weights to 0 while green takes 10 %',
      alb: true,
      prepare: (ctx) => {
        greenWeightReaches(ctx.world, 10, () => writeByHand(ctx.world, 0, 0));
      },
    });
    const { summary } = await simulate(sabotage);
    expect(summary.violations.join('\n')).toMatch(
      /invariant 1: both target groups' weights in the forward action were set to 0/,
    );
  });

  it('flags an instance terminated while a sticky client may still reach its slot', async () => {
    const sabotage = testScenario('sabotage-alb-sticky', 'ROLLED_BACK', {
      summary: 'someone terminates green a minute after the rollback took its weight away',
      alb: true,
      prepare: (ctx) => {
        const { world } = ctx;
        alarmAfterGreenReaches(world, 50, 90);
        let done = false;
        world.hooks.push({
          afterRecordsChange: () => {
            const b = world.elbv2.weightsOf(names.listenerArn).get(names.targetGroups.b);
            const green = [...world.ec2.instances.values()].filter((i) => i.tags[TAG.version] === '1.1.0');
            if (done || b !== 0 || green.length === 0) return;
            done = true;
            ctx.after(60, () => {
              const ids = green.map((i) => i.id);
              void asSomeoneElse(() => world.call('ec2', 'TerminateInstances', { InstanceIds: ids }));
            });
          },
        });
      },
    });
    const { summary } = await simulate(sabotage);
    expect(summary.violations.join('\n')).toMatch(
      new RegExp(
        `invariant 1: i-\\w+ terminated 60 s after slot b stopped taking traffic, inside the forward action's target group stickiness \\(${ALB_STICKINESS_SECONDS} s\\)`,
      ),
    );
  });
});

describe('faults on the tasks that write the listener', () => {
  // Each fault on its own, as test/workflow/fault-matrix.test.ts injects it, on the states that read
  // and write the forward action: the retries absorb the passing ones (a duplicate or a retry after
  // a write that landed finds its own weights in place), and a permanent one fails where its Catch
  // says: the step's rolls back, the rollback's leaves what is left for a person.
  type Fault = 'throttle' | 'transient' | 'permanent' | 'lambda-timeout' | 'delivered-twice';
  const inject =
    (state: string, fault: Fault) =>
    async (call: { state: string }, invoke: () => Promise<unknown>): Promise<unknown> => {
      if (call.state !== state) return invoke();
      if (fault === 'permanent') return ambientFault.run('permanent', invoke);
      const first = !tried.has(state);
      tried.add(state);
      if (!first) return invoke();
      if (fault === 'throttle' || fault === 'transient') return ambientFault.run(fault, invoke);
      if (fault === 'delivered-twice') {
        await invoke();
        return invoke();
      }
      await invoke();
      throw Object.assign(new Error('Task timed out after 60.00 seconds'), { name: 'Sandbox.Timedout' });
    };
  const tried = new Set<string>();
  const cases = [
    ['alb-happy', STATE.shift, 'SUCCEEDED'],
    ['alb-alarm-during-shift', STATE.returnTraffic, 'ROLLED_BACK'],
    ['alb-rule-happy', STATE.shift, 'SUCCEEDED'],
  ] as const;

  it.each(
    cases.flatMap(([base, state, status]) =>
      (['throttle', 'transient', 'lambda-timeout', 'delivered-twice'] as const).map(
        (fault) => [base, state, fault, status] as const,
      ),
    ),
  )(
    '%s: %s meets %s once and the run still ends %s, every invariant held',
    async (base, state, fault, status) => {
      tried.clear();
      const { summary } = await simulate(scenario(base), { intercept: inject(state, fault) });
      // The fault was felt: the state machine retried the task (a duplicate is no failure).
      if (fault !== 'delivered-twice') expect(summary.retries).toBeGreaterThan(0);
      expect(summary.violations).toEqual([]);
      expect(summary.problems).toEqual([]);
      expect(summary.status).toBe(status);
      expect(summary.running.other).toBe(0);
    },
  );

  it('a step whose write fails for good rolls back with nothing moved', async () => {
    tried.clear();
    const { summary, world } = await simulate(
      { ...scenario('alb-happy'), expect: 'ROLLED_BACK' },
      { intercept: inject(STATE.shift, 'permanent') },
    );
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({
      status: 'ROLLED_BACK',
      weights: { a: 100, b: 0 },
      running: { a: 3, b: 0 },
    });
    expect(calls(world, 'ModifyListener')).toBe(0);
  });

  it('a rollback whose write fails for good ends failed, listing what is left', async () => {
    tried.clear();
    const { summary } = await simulate(
      { ...scenario('alb-alarm-during-shift'), expect: 'FAILED', breaksInvariants: true },
      { intercept: inject(STATE.returnTraffic, 'permanent') },
    );
    expect(summary.status).toBe('FAILED');
    expect(summary.cause).toContain('Left for a person:');
    expect(summary.weights).toEqual({ a: 50, b: 50 });
  });
});

describe('randomized fault schedules over a deploy in traffic.mode alb', () => {
  // The chaos schedules of test/workflow/chaos.test.ts, with the faults drawn on Route 53's calls
  // striking the listener's (DescribeListeners, ModifyListener) instead.
  const RUNS = 100;
  it.each([true, 'rule'] as const)(
    `every run ends as chaos.test.ts requires of a Route 53 deploy (alb: %s, ${RUNS} schedules)`,
    async (alb) => {
      await fc.assert(
        fc.asyncProperty(scheduleArbitrary(EVENT_KINDS), async (schedule) => {
          const result = await runSchedule(schedule, { alb });
          if (result.failures.length > 0) throw new Error(`\n${formatFailure(result)}`);
        }),
        { numRuns: RUNS, seed: 20_261_202, endOnFailure: true },
      );
    },
    RUNS * 3_000,
  );
});

describe('the stickiness of the forward action changed by someone else during the deployment', () => {
  it('is not carried into a termination inside the new stickiness: the next step refuses and rolls back', async () => {
    const raised = testScenario('alb-stickiness-raised', 'ROLLED_BACK', {
      summary: 'someone raises the forward action’s stickiness to an hour while green takes 50 %',
      alb: true,
      prepare: (ctx) => {
        ctx.config.termination = { ...ctx.config.termination, waitSeconds: 600 };
        greenWeightReaches(ctx.world, 50, () => ctx.after(30, () => writeByHand(ctx.world, 50, 50, 3600)));
      },
    });
    const { summary, world } = await simulate(raised);
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('ROLLED_BACK');
    expect(summary.cause).toMatch(/stickiness/);
    // Nothing this deployment wrote after the change: the rollback's one write puts 100 on blue.
    expect(listenerWrites(world).map(({ a, b }) => ({ a, b }))).toEqual([
      { a: 90, b: 10 },
      { a: 50, b: 50 },
      { a: 50, b: 50 },
      { a: 100, b: 0 },
    ]);
  });
});

describe('the stickiness raised by someone else during the termination window', () => {
  it('is found by the window’s next check: the deployment rolls back instead of terminating blue inside it', async () => {
    const raised = testScenario('alb-stickiness-raised-in-window', 'ROLLED_BACK', {
      summary: 'someone raises the forward action’s stickiness to an hour 10m30s after green took 100 %',
      alb: true,
      prepare: (ctx) => {
        ctx.config.termination = { ...ctx.config.termination, waitSeconds: 1800 };
        greenWeightReaches(ctx.world, 100, () => ctx.after(630, () => writeByHand(ctx.world, 0, 100, 3600)));
      },
    });
    const { summary, world } = await simulate(raised);
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('ROLLED_BACK');
    expect(summary.cause).toMatch(/stickiness/);
    // Blue is kept: after the person's write, the rollback's one write puts all traffic back on it.
    expect(listenerWrites(world).slice(-2)).toMatchObject([
      { a: 0, b: 100, stickinessSeconds: 3600 },
      { a: 100, b: 0 },
    ]);
    expect(summary.running).toMatchObject({ a: 3, b: 0, other: 0 });
  });
});

describe('a stickiness longer than the last step’s wait', () => {
  it('is waited out before the window without running out of window checks', async () => {
    const short = testScenario('alb-short-window', 'SUCCEEDED', {
      summary: 'a ten-minute window checked every minute, after 600 s of stickiness and a 300 s step wait',
      alb: true,
      prepare: (ctx) => {
        ctx.config.termination = { waitSeconds: 600, checkIntervalSeconds: 60 };
      },
    });
    const { summary, world } = await simulate(short);
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('SUCCEEDED');
    // Blue goes once the stickiness and the window have both passed since the 100 % write.
    const last = listenerWrites(world).at(-1)?.at ?? 0;
    const blueGone = terminatedAt(world, '1.0.0');
    expect(blueGone).toHaveLength(3);
    expect((blueGone[0] ?? 0) - last).toBeGreaterThanOrEqual((ALB_STICKINESS_SECONDS + 600) * 1000);
  });
});
