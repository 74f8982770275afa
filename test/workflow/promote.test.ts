import { beforeAll, describe, expect, it } from 'vitest';
import { sendTaskSuccess } from '#shared/aws/sfn.ts';
import { type SignedPost, signedPost } from '#shared/aws/signed-request.ts';
import type { PromoteResult } from '#shared/domain/promotion.ts';
import { PROMOTIONS_PATH } from '#shared/domain/promotion-api.ts';
import { STATE } from '#shared/domain/states.ts';
import { promoteFromTerminal } from '#shared/operations/promote-from-terminal.ts';
import type { SimExecution } from '../../sim/aws/sfn.ts';
import {
  type DecisionHandler,
  PROMOTION_API_URL,
  promoterPolicy,
  signedApiFetch,
} from '../../sim/decision-api.ts';
import type { Handler } from '../../sim/runner.ts';
import type { Scenario } from '../../sim/scenarios.ts';
import { loadHandlers, simulate, simulatedEnvironment } from '../../sim/simulate.ts';
import { asSomeoneElse, LOCKS_TABLE, type World } from '../../sim/world.ts';
import {
  ALARM,
  APP,
  ENV,
  greenWeightReaches,
  type ScenarioContext,
  uploadRelease,
} from '../../sim/worlds.ts';

// `bluegreen promote web prod` against the simulated account: the client function the command
// calls signs its request as a session of an operator's role; the simulated API Gateway verifies
// the signature and execute-api:Invoke on `POST /promotions`, and the real promote function (its
// calls judged by its packaged role) ends the wait. The real ASL and handlers on the virtual clock.

const OPERATOR_ROLE = 'arn:aws:iam::123456789012:role/platform-oncall';
const OPERATOR = 'arn:aws:sts::123456789012:assumed-role/platform-oncall/alice@example.com';

let handlers: Record<string, Handler>;

beforeAll(async () => {
  simulatedEnvironment();
  handlers = await loadHandlers();
});

/** The promotion API as API Gateway serves it in the simulated account. */
function promotionApi(world: World) {
  return signedApiFetch(world, { [PROMOTIONS_PATH]: () => handlers.promote as unknown as DecisionHandler });
}

/** A POST signed as a session of the operator's role, with the README's promoter policy by default. */
function operator(world: World, session = 'alice@example.com', policies = [promoterPolicy()]): SignedPost {
  return signedPost(
    world.region,
    world.iam.assumeRole(OPERATOR_ROLE, session, policies),
    promotionApi(world),
  );
}

type Told = PromoteResult | { outcome: 'refused'; status: number; message: string };

/** Promotes as `post` signs (the operator), now; what the command would get lands in `results`. */
function promoteNow(ctx: ScenarioContext, results: Told[], post = operator(ctx.world)): void {
  void ctx.track(
    ctx
      .inFlight(() => promoteFromTerminal({ url: PROMOTION_API_URL, app: APP, env: ENV }, post))
      .then((r) =>
        results.push(
          r.kind === 'answered' ? r.result : { outcome: 'refused', status: r.status, message: r.message },
        ),
      ),
  );
}

/** `seconds` after green's weight first reaches `percent`, `then` runs. */
function afterGreenReaches(ctx: ScenarioContext, percent: number, seconds: number, then: () => void): void {
  greenWeightReaches(ctx.world, percent, () => ctx.after(seconds, then));
}

/** The deployment's execution (the only one these scenarios start). */
function deploymentOf(world: World): SimExecution {
  const [execution] = [...world.sfn.executions.values()];
  if (!execution) throw new Error('no execution started');
  return execution;
}

/** When the execution entered `state` (its `nth` entry, from 0). */
function entered(execution: SimExecution, state: string, nth = 0): number {
  const at = execution.states.filter((s) => s.name === state)[nth]?.at;
  if (at === undefined) throw new Error(`${execution.name} never entered "${state}" ${nth + 1} time(s)`);
  return at;
}

/** The output the state exited with, its `nth` time. */
function exitedWith(execution: SimExecution, state: string, nth = 0): Record<string, unknown> {
  const exits = execution.history.filter((e) => e.type === 'TaskStateExited' && e.name === state);
  const exit = exits[nth] as { output: string } | undefined;
  if (!exit) throw new Error(`"${state}" never exited ${nth + 1} time(s)`);
  return JSON.parse(exit.output) as Record<string, unknown>;
}

/** The final notification's text. */
function finalMessage(world: World): string {
  return world.sns.messages.find((m) => m.attributes.outcome !== undefined)?.message ?? '';
}

/** When the first traffic change was INSYNC, as the DNS check that saw it recorded it. */
function firstSyncedAt(execution: SimExecution): number {
  const exits = execution.history.filter((e) => e.type === 'TaskStateExited' && e.name === STATE.checkDns);
  for (const exit of exits) {
    const { shift } = JSON.parse((exit as { output: string }).output) as {
      shift?: { dns?: { syncedAt?: string } };
    };
    if (shift?.dns?.syncedAt) return Date.parse(shift.dns.syncedAt);
  }
  throw new Error('no traffic change was INSYNC');
}

describe('bluegreen promote', () => {
  it("ends the first step's settle wait: the step is checked, then the next step is shifted at once", async () => {
    const results: Told[] = [];
    const scenario: Scenario = {
      name: 'promote-first-step',
      summary:
        "120 s after the 10 % change is written (a TTL after INSYNC), the operator promotes the step's wait",
      expect: 'SUCCEEDED',
      prepare: (ctx) => afterGreenReaches(ctx, 10, 120, () => promoteNow(ctx, results)),
    };
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', weights: { a: 0, b: 100 }, running: { b: 3 } });
    expect(results).toEqual([expect.objectContaining({ outcome: 'promoted' })]);
    const [result] = results;
    if (result?.outcome !== 'promoted') throw new Error('not promoted');
    expect(result.promotion).toMatchObject({
      by: OPERATOR,
      wait: { kind: 'step', step: 1, of: 3, percent: 10 },
    });

    const execution = deploymentOf(world);
    const settled = entered(execution, STATE.settle);
    const checked = entered(execution, STATE.checkStep);
    const nextShift = entered(execution, STATE.shift, 1);
    // The settle wait is 300 s; promoted 80 s into it, the step is checked and the next one written.
    expect(Date.parse(result.promotion.at) - settled).toBeLessThan(120_000);
    expect(checked).toBe(Date.parse(result.promotion.at));
    expect(nextShift - settled).toBeLessThan(300_000);
    expect(nextShift).toBeGreaterThanOrEqual(checked);
    // The check ran in full, and recorded the promote (the second step's settle was not promoted).
    expect(exitedWith(execution, STATE.checkStep).check).toMatchObject({
      summary: expect.stringMatching(/green targets healthy.*alarm\(s\) OK/),
      promotions: [result.promotion],
    });
    expect(entered(execution, STATE.shift, 2) - entered(execution, STATE.settle, 1)).toBeGreaterThanOrEqual(
      300_000,
    );
    // The success notification says who promoted which step, when.
    expect(finalMessage(world)).toContain(
      `Promoted traffic step 1 of 3 (10 %): the rest of its wait skipped by "${OPERATOR}" at ${result.promotion.at} (3m40s of it left); its checks still ran.`,
    );
  });

  it('ends the termination window early: blue is deregistered after one more check, then terminated', async () => {
    const results: Told[] = [];
    const scenario: Scenario = {
      name: 'promote-window',
      summary: 'the operator promotes the one-hour window about ten minutes after 100 % was written',
      expect: 'SUCCEEDED',
      prepare: (ctx) => afterGreenReaches(ctx, 100, 600, () => promoteNow(ctx, results)),
    };
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({
      status: 'SUCCEEDED',
      weights: { a: 0, b: 100 },
      running: { a: 0, b: 3 },
    });
    const [result] = results;
    if (result?.outcome !== 'promoted') throw new Error(`not promoted: ${JSON.stringify(results)}`);
    expect(result.promotion.wait).toEqual({ kind: 'termination-window' });

    const execution = deploymentOf(world);
    const promotedAt = Date.parse(result.promotion.at);
    // The window's check ran once more at the promote, and found the window over.
    expect(entered(execution, STATE.watchWindow, 1)).toBe(promotedAt);
    expect(exitedWith(execution, STATE.watchWindow, 1).window).toMatchObject({
      done: true,
      checks: 2,
      promotions: [result.promotion],
    });
    const window = exitedWith(execution, STATE.watchWindow, 1).window as { endsAt: string };
    expect(entered(execution, STATE.deregisterBlue)).toBe(promotedAt);
    // Blue went some 50 minutes before the window would have ended.
    expect(Date.parse(window.endsAt) - entered(execution, STATE.terminateBlue)).toBeGreaterThan(40 * 60_000);
    expect(finalMessage(world)).toMatch(
      /Promoted the termination window: the rest of its wait skipped by ".*platform-oncall.*" at .* \(5\dm\d\ds of it left\); its checks still ran\./,
    );
  });

  it('still rolls back on an alarm after the promote: the step check that follows it finds the alarm', async () => {
    const results: Told[] = [];
    const scenario: Scenario = {
      name: 'promote-then-alarm',
      summary: 'the 5xx alarm fires as the operator promotes the first step; its event arrives a second late',
      expect: 'ROLLED_BACK',
      prepare: (ctx) =>
        afterGreenReaches(ctx, 10, 120, () => {
          ctx.world.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed: 5xx 4 %');
          promoteNow(ctx, results);
        }),
    };
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({
      status: 'ROLLED_BACK',
      weights: { a: 100, b: 0 },
      running: { a: 3, b: 0 },
    });
    expect(results.map((r) => r.outcome)).toEqual(['promoted']);
    expect(summary.cause).toMatch(/AlarmTriggered: alarm in ALARM: "web-prod-5xx"/);
    const execution = deploymentOf(world);
    expect(execution.states.filter((s) => s.name === STATE.shift)).toHaveLength(1);
    // The rollback's notification names the promote too.
    expect(finalMessage(world)).toContain(
      `Promoted traffic step 1 of 3 (10 %): the rest of its wait skipped by "${OPERATOR}"`,
    );
  });

  it('cannot undo an alarm that ended the wait first: the promote is refused and the deploy rolls back', async () => {
    const results: Told[] = [];
    const scenario: Scenario = {
      name: 'alarm-then-promote',
      summary: 'the alarm fires during the first settle wait; the operator promotes ten seconds later',
      expect: 'ROLLED_BACK',
      prepare: (ctx) =>
        afterGreenReaches(ctx, 10, 120, () => {
          ctx.world.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed: 5xx 4 %');
          ctx.after(10, () => promoteNow(ctx, results));
        }),
    };
    const { summary } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('ROLLED_BACK');
    expect(results).toHaveLength(1);
    expect(results[0]?.outcome).not.toBe('promoted');
    expect(results[0]).toMatchObject({ outcome: 'not-promotable', state: STATE.waitRollbackDns });
    expect(summary.notifications.map((n) => n.summary).join('\n')).not.toContain('Promoted');
  });

  it('refuses while nothing runs, and while the AMI bakes, changing nothing of the deploy', async () => {
    const results: Told[] = [];
    const scenario: Scenario = {
      name: 'promote-refused',
      summary: 'promotes before the upload, during the bake and after the end',
      expect: 'SUCCEEDED',
      act: (ctx) => {
        promoteNow(ctx, results);
        uploadRelease(ctx);
        ctx.after(5 * 60, () => promoteNow(ctx, results));
        ctx.after(3 * 3600, () => promoteNow(ctx, results));
      },
    };
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('SUCCEEDED');
    const execution = deploymentOf(world);
    expect(results).toEqual([
      { outcome: 'nothing-running', lock: 'web/prod' },
      {
        outcome: 'not-promotable',
        deployment: execution.name,
        executionArn: execution.arn,
        state: STATE.awaitBake,
      },
      { outcome: 'nothing-running', lock: 'web/prod' },
    ]);
    // Nothing was sent to any wait but what the service sends itself.
    expect(finalMessage(world)).not.toContain('Promoted');
    // The deploy took its whole time: every step waited, and the window.
    expect(summary.virtualSeconds).toBeGreaterThanOrEqual(5701);
  });

  it('promotes once when asked twice: the second finds the first promote', async () => {
    const results: Told[] = [];
    const scenario: Scenario = {
      name: 'promote-twice',
      summary: 'the operator promotes the first step twice, a second apart',
      expect: 'SUCCEEDED',
      prepare: (ctx) =>
        afterGreenReaches(ctx, 10, 120, () => {
          promoteNow(ctx, results);
          ctx.after(1, () => promoteNow(ctx, results, operator(ctx.world, 'bob')));
        }),
    };
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('SUCCEEDED');
    const [first, second] = results;
    if (first?.outcome !== 'promoted') throw new Error(`not promoted: ${JSON.stringify(results)}`);
    expect(second).toMatchObject({ outcome: 'already-promoted', promotion: first.promotion });
    const execution = deploymentOf(world);
    expect(exitedWith(execution, STATE.checkStep, 2).check).toMatchObject({ promotions: [first.promotion] });
    expect(finalMessage(world).match(/Promoted/g)).toHaveLength(1);
  });

  it('in traffic.mode alb promotes a step 5 s after its listener write: no resolver has to move', async () => {
    const results: Told[] = [];
    const scenario: Scenario = {
      name: 'alb-promote-first-step',
      summary: "5 s after the 10 % listener write, the operator promotes the step's wait",
      expect: 'SUCCEEDED',
      alb: true,
      prepare: (ctx) => afterGreenReaches(ctx, 10, 5, () => promoteNow(ctx, results)),
    };
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', weights: { a: 0, b: 100 } });
    expect(results).toEqual([expect.objectContaining({ outcome: 'promoted' })]);
    const [result] = results;
    if (result?.outcome !== 'promoted') throw new Error('not promoted');
    expect(result.promotion).toMatchObject({ wait: { kind: 'step', step: 1, of: 3, percent: 10 } });
    const execution = deploymentOf(world);
    expect(Date.parse(result.promotion.at) - entered(execution, STATE.shift)).toBeLessThan(10_000);
  });

  it('tells to try again while resolvers may still cache the step, and then promotes: the step is judged a TTL after INSYNC, not before', async () => {
    const results: Told[] = [];
    const scenario: Scenario = {
      name: 'promote-before-ttl',
      summary: 'the operator promotes the first step as soon as its settle wait begins, then again when told',
      expect: 'SUCCEEDED',
      prepare: (ctx) =>
        greenWeightReaches(ctx.world, 10, () => {
          // As soon as the settle wait has stored its watch, then every 10 s until promoted.
          const ask = (tries: number) => {
            const promoted = results.some((r) => r.outcome === 'promoted');
            const watching = ctx.world.dynamodb
              .items(LOCKS_TABLE)
              .some((i) => String(i.id).startsWith('watch#'));
            if (promoted || tries === 0) return;
            if (watching) promoteNow(ctx, results);
            ctx.after(watching ? 10 : 1, () => ask(tries - 1));
          };
          ask(100);
        }),
    };
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('SUCCEEDED');
    const execution = deploymentOf(world);
    const insync = firstSyncedAt(execution);
    const second = results.at(-1);
    const first = results[0];
    if (first?.outcome !== 'not-ready' || second?.outcome !== 'promoted') throw new Error('unexpected');
    expect(results.slice(0, -1).every((r) => r.outcome === 'not-ready')).toBe(true);
    // The record TTL is 60 s: not promotable before, promoted once it has passed.
    expect(Date.parse(first.readyAt ?? '')).toBe(insync + 60_000);
    const checked = entered(execution, STATE.checkStep);
    expect(checked).toBeGreaterThanOrEqual(insync + 60_000);
    expect(checked).toBe(Date.parse(second.promotion.at));
    expect(entered(execution, STATE.shift, 1)).toBeGreaterThanOrEqual(insync + 60_000);
    // Well before the 300 s settle wait would have ended.
    expect(checked - entered(execution, STATE.settle)).toBeLessThan(120_000);
  });

  it('refuses a caller without execute-api:Invoke on the route: nothing promoted, every wait taken', async () => {
    const results: Told[] = [];
    const scenario: Scenario = {
      name: 'promote-not-allowed',
      summary: 'someone with no promoter policy promotes the first step',
      expect: 'SUCCEEDED',
      prepare: (ctx) =>
        afterGreenReaches(ctx, 10, 120, () => promoteNow(ctx, results, operator(ctx.world, 'eve', []))),
    };
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('SUCCEEDED');
    expect(results).toEqual([
      {
        outcome: 'refused',
        status: 403,
        message: expect.stringMatching(
          /platform-oncall\/eve is not authorized to perform: execute-api:Invoke/,
        ),
      },
    ]);
    const execution = deploymentOf(world);
    expect(entered(execution, STATE.checkStep) - entered(execution, STATE.settle)).toBeGreaterThanOrEqual(
      300_000,
    );
    expect(finalMessage(world)).not.toContain('Promoted');
  });

  it('records the signing identity, never a caller the body names: such a body is refused', async () => {
    const results: Told[] = [];
    const mallory = 'arn:aws:iam::123456789012:user/mallory';
    const scenario: Scenario = {
      name: 'promote-claims-another',
      summary: 'the operator sends a body naming someone else as the promoter, then a plain one',
      expect: 'SUCCEEDED',
      prepare: (ctx) =>
        afterGreenReaches(ctx, 10, 120, () => {
          const post = operator(ctx.world);
          const claiming: SignedPost = (url, json) => post(url, { ...(json as object), by: mallory });
          promoteNow(ctx, results, claiming);
          ctx.after(1, () => promoteNow(ctx, results, post));
        }),
    };
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(results).toEqual([
      { outcome: 'invalid', problems: [expect.stringMatching(/by/)] },
      expect.objectContaining({ outcome: 'promoted', promotion: expect.objectContaining({ by: OPERATOR }) }),
    ]);
    expect(finalMessage(world)).not.toContain('mallory');
  });

  it("ignores a window promote sent to the last step's settle token: the step ends, the window is waited out", async () => {
    const forged = { promoted: { by: 'forger', at: '', wait: { kind: 'termination-window' } } };
    const sent: boolean[] = [];
    const scenario: Scenario = {
      name: 'forged-window-promote',
      summary: "someone holding the last step's token sends it a termination-window promote",
      expect: 'SUCCEEDED',
      prepare: (ctx) =>
        afterGreenReaches(ctx, 100, 90, () => {
          const watch = ctx.world.dynamodb
            .items(LOCKS_TABLE)
            .find((item) => String(item.id).startsWith('watch#'));
          forged.promoted.at = new Date(ctx.world.now()).toISOString();
          void ctx.track(
            asSomeoneElse(() => sendTaskSuccess(String(watch?.token), forged)).then((ok) => sent.push(ok)),
          );
        }),
    };
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('SUCCEEDED');
    expect(sent).toEqual([true]);
    const execution = deploymentOf(world);
    const steps = execution.states.filter((s) => s.name === STATE.checkStep).length;
    expect(exitedWith(execution, STATE.checkStep, steps - 1).check).not.toHaveProperty('promotions');
    const window = exitedWith(execution, STATE.watchWindow).window as Record<string, unknown>;
    expect(window).toMatchObject({ done: false });
    expect(window).not.toHaveProperty('promotions');
    // Blue went only once the whole hour had passed.
    const last = execution.states.filter((s) => s.name === STATE.watchWindow).length - 1;
    const { endsAt } = exitedWith(execution, STATE.watchWindow, last).window as { endsAt: string };
    expect(entered(execution, STATE.deregisterBlue)).toBeGreaterThanOrEqual(Date.parse(endsAt));
    expect(finalMessage(world)).not.toContain('Promoted');
  });
});
