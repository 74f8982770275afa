import { describe, expect, it } from 'vitest';
import type { PromoteResult } from '#shared/domain/promotion.ts';
import { STATE } from '#shared/domain/states.ts';
import { promoteDeployment } from '#shared/operations/promote.ts';
import type { SimExecution } from '../../sim/aws/sfn.ts';
import { evaluate } from '../../sim/iam/evaluate.ts';
import { type IamRequest, iamRequestsFor } from '../../sim/iam/requests.ts';
import type { PolicyDocument } from '../../sim/iam/template.ts';
import type { Scenario } from '../../sim/scenarios.ts';
import { simulate } from '../../sim/simulate.ts';
import {
  ACCOUNT,
  type ApiCall,
  asSomeoneElse,
  callObservers,
  LOCKS_TABLE,
  REGION,
  SOMEONE_ELSE,
  STATE_MACHINE_ARN,
  type World,
} from '../../sim/world.ts';
import {
  ALARM,
  APP,
  ENV,
  greenWeightReaches,
  type ScenarioContext,
  uploadRelease,
} from '../../sim/worlds.ts';

// `bluegreen promote web prod` against the simulated account: the real promote operation, its SDK
// clients routed into the world like the handlers', the real ASL and handlers on the virtual clock.
// The operator is not one of the service's functions: their calls are not judged by its roles.

const OPERATOR = 'arn:aws:sts::123456789012:assumed-role/platform-oncall/alice@example.com';

/** Promotes as the operator, now; the result lands in `results` once it is known. */
function promoteNow(results: PromoteResult[], by = OPERATOR): void {
  void asSomeoneElse(() =>
    promoteDeployment({ locksTable: LOCKS_TABLE }, APP, ENV, by, new Date()).then((r) => results.push(r)),
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

/**
 * What the operator running `bluegreen promote` must be allowed, and no more: the lock and the
 * watch (GetItem on the locks table), the deployment's status and history (its executions, the
 * rollback's too: the lock may name one), and SendTaskSuccess, which IAM grants only on "*"
 * (the service authorization reference lists no resource type for it: the token is the authority).
 */
const PROMOTE_POLICY: PolicyDocument = {
  Statement: [
    {
      Effect: 'Allow',
      Action: ['dynamodb:GetItem'],
      Resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${LOCKS_TABLE}`,
    },
    {
      Effect: 'Allow',
      Action: ['states:DescribeExecution', 'states:GetExecutionHistory'],
      Resource: [
        `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:*`,
        `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}-rollback:*`,
      ],
    },
    { Effect: 'Allow', Action: ['states:SendTaskSuccess'], Resource: '*' },
  ],
};

describe('bluegreen promote', () => {
  it("ends the first step's settle wait: the step is checked, then the next step is shifted at once", async () => {
    const results: PromoteResult[] = [];
    const scenario: Scenario = {
      name: 'promote-first-step',
      summary: "90 s after the 10 % change is written, the operator promotes the step's wait",
      expect: 'SUCCEEDED',
      prepare: (ctx) => afterGreenReaches(ctx, 10, 90, () => promoteNow(results)),
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
    // The settle wait is 300 s; promoted 50 s into it, the step is checked and the next one written.
    expect(Date.parse(result.promotion.at) - settled).toBeLessThan(60_000);
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
      `Promoted traffic step 1 of 3 (10 %): the rest of its wait skipped by "${OPERATOR}" at ${result.promotion.at} (4m10s of it left); its checks still ran.`,
    );
  });

  it('ends the termination window early: blue is deregistered after one more check, then terminated', async () => {
    const results: PromoteResult[] = [];
    const scenario: Scenario = {
      name: 'promote-window',
      summary: 'the operator promotes the one-hour window about ten minutes after 100 % was written',
      expect: 'SUCCEEDED',
      prepare: (ctx) => afterGreenReaches(ctx, 100, 600, () => promoteNow(results)),
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
    const results: PromoteResult[] = [];
    const scenario: Scenario = {
      name: 'promote-then-alarm',
      summary: 'the 5xx alarm fires as the operator promotes the first step; its event arrives a second late',
      expect: 'ROLLED_BACK',
      prepare: (ctx) =>
        afterGreenReaches(ctx, 10, 90, () => {
          ctx.world.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed: 5xx 4 %');
          promoteNow(results);
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
    const results: PromoteResult[] = [];
    const scenario: Scenario = {
      name: 'alarm-then-promote',
      summary: 'the alarm fires during the first settle wait; the operator promotes ten seconds later',
      expect: 'ROLLED_BACK',
      prepare: (ctx) =>
        afterGreenReaches(ctx, 10, 90, () => {
          ctx.world.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed: 5xx 4 %');
          ctx.after(10, () => promoteNow(results));
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
    const results: PromoteResult[] = [];
    const scenario: Scenario = {
      name: 'promote-refused',
      summary: 'promotes before the upload, during the bake and after the end',
      expect: 'SUCCEEDED',
      act: (ctx) => {
        promoteNow(results);
        uploadRelease(ctx);
        ctx.after(5 * 60, () => promoteNow(results));
        ctx.after(3 * 3600, () => promoteNow(results));
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
    const results: PromoteResult[] = [];
    const scenario: Scenario = {
      name: 'promote-twice',
      summary: 'the operator promotes the first step twice, a second apart',
      expect: 'SUCCEEDED',
      prepare: (ctx) =>
        afterGreenReaches(ctx, 10, 90, () => {
          promoteNow(results);
          ctx.after(1, () => promoteNow(results, 'arn:aws:iam::123456789012:user/bob'));
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

  it("makes only calls the operator's promote policy allows", async () => {
    const requests = new Map<string, IamRequest>();
    const observe = (world: World, call: ApiCall, input: unknown) => {
      if (call.fn !== SOMEONE_ELSE) return;
      for (const request of iamRequestsFor(world, call, input))
        requests.set(`${request.action} ${request.resource}`, request);
    };
    callObservers.add(observe);
    try {
      const results: PromoteResult[] = [];
      await simulate({
        name: 'promote-calls',
        summary: 'promotes during the bake, the first step (twice) and the window, and after the end',
        expect: 'SUCCEEDED',
        act: (ctx) => {
          uploadRelease(ctx);
          ctx.after(5 * 60, () => promoteNow(results));
          afterGreenReaches(ctx, 10, 90, () => {
            promoteNow(results);
            ctx.after(1, () => promoteNow(results));
          });
          afterGreenReaches(ctx, 100, 600, () => promoteNow(results));
          ctx.after(3 * 3600, () => promoteNow(results));
        },
      });
      expect(results.map((r) => r.outcome)).toEqual([
        'not-promotable',
        'promoted',
        'already-promoted',
        'promoted',
        'nothing-running',
      ]);
    } finally {
      callObservers.delete(observe);
    }
    const actions = [...new Set([...requests.values()].map((r) => r.action))].sort();
    expect(actions).toEqual([
      'dynamodb:GetItem',
      'states:DescribeExecution',
      'states:GetExecutionHistory',
      'states:SendTaskSuccess',
    ]);
    const operator = `arn:aws:iam::${ACCOUNT}:role/platform-oncall`;
    for (const request of requests.values()) {
      const { decision } = await evaluate(operator, [PROMOTE_POLICY], request);
      expect(decision, `${request.action} on ${request.resource}`).toBe('Allowed');
    }
  });
});
