import { describe, expect, it } from 'vitest';
import { writeWeights } from '#shared/aws/route53.ts';
import { allowedSeconds } from '#shared/domain/deadline.ts';
import { DURATION_METRICS, OVERRUN_METRIC } from '#shared/domain/metrics.ts';
import { STATE } from '#shared/domain/states.ts';
import { TAG } from '#shared/domain/tags.ts';
import type { Plan } from '#shared/domain/workflow.ts';
import { findScenario, SCENARIOS, type Scenario } from '../../sim/scenarios.ts';
import { simulate } from '../../sim/simulate.ts';
import { actor, asSomeoneElse, lambdaFunction, type World } from '../../sim/world.ts';
import {
  appNames,
  blueFailsChecks,
  greenWeightReaches,
  runningExecution,
  type ScenarioContext,
} from '../../sim/worlds.ts';
import { testScenario } from '../support/scenarios.ts';

// Each scenario runs the real ASL with the real handlers against the simulated account; the
// safety monitor checks the invariants of DESIGN.md after every state and at every weight change
// and termination, and records each breach as a violation.

function scenario(name: string): Scenario {
  const found = findScenario(name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
}

function writes(world: World, operation: string): number {
  return world.calls.filter((c) => c.operation === operation && !c.error).length;
}

function runningVersions(world: World): string[] {
  return [...world.ec2.instances.values()]
    .filter((i) => ['pending', 'running'].includes(world.ec2.state(i)))
    .map((i) => i.tags[TAG.version] ?? '?')
    .sort();
}

const automatic = SCENARIOS.filter((s) => !s.needsPerson);

/** The scenarios that run longer than their config allows (Step Functions late), on purpose. */
const OVERRUNNING = new Set(['rollback-resumed-late']);

/** The plan each execution of the run wrote, by execution name (from its history). */
function plansOf(world: World): Map<string, Plan> {
  const plans = new Map<string, Plan>();
  for (const execution of world.sfn.executions.values()) {
    const exited = execution.history.find((e) => e.type === 'TaskStateExited' && e.name === STATE.plan);
    if (exited && 'output' in exited)
      plans.set(execution.name, (JSON.parse(exited.output) as { plan: Plan }).plan);
  }
  return plans;
}

/**
 * No false alarm: no task of a deployment ran past its plan's deadline, and each deployment that
 * planned ended within the time its config allows.
 */
function expectWithinDeadline(
  summary: { metrics: { execution: string | null; values: { name: string; value: number }[] }[] },
  world: World,
): void {
  expect(summary.metrics.flatMap((m) => m.values).filter((v) => v.name === OVERRUN_METRIC)).toEqual([]);
  const plans = plansOf(world);
  for (const doc of summary.metrics) {
    const plan = plans.get(doc.execution ?? '');
    const duration = doc.values.find((v) => v.name === DURATION_METRICS.deployment)?.value;
    if (plan && duration !== undefined) expect(duration).toBeLessThanOrEqual(allowedSeconds(plan));
  }
}

describe.each(automatic.map((s) => [s.name, s] as const))('scenario %s', (_name, s) => {
  const title = s.breaksInvariants
    ? `ends ${s.expect} and its cause names what is left`
    : `ends ${s.expect} with every safety invariant held after every state`;
  it(title, async () => {
    const { summary, world } = await simulate(s);
    if (!OVERRUNNING.has(s.name)) expectWithinDeadline(summary, world);
    if (s.breaksInvariants) {
      // Only a rollback that cannot finish may break them, and its cause must say what is left.
      expect(summary.violations.length).toBeGreaterThan(0);
      expect(summary.cause).toContain('Left for a person:');
    } else {
      expect(summary.violations).toEqual([]);
    }
    expect(summary.problems).toEqual([]);
    expect(summary.status).toBe(s.expect);
    if (!s.breaksInvariants) expect(summary.running.other).toBe(0);
    expect(summary.ok).toBe(true);
  });
});

describe("a step's longer wait for a slow Route 53 change", () => {
  it('rolls back on the poll that finds green below its minimum, not once the change is in sync', async () => {
    const scenario = findScenario('route53-slow-green-fails-in-longer-wait');
    if (!scenario) throw new Error('no such scenario');
    const { summary } = await simulate(scenario);
    expect(summary.status).toBe('ROLLED_BACK');
    expect(summary.cause).toMatch(/GreenUnhealthy: 0 of 3 green targets healthy .* still PENDING/);
  });
});

/** A write the rollback task of the running execution could make: all traffic to slot a. */
function rollbackPutsAllOnSlotA(ctx: ScenarioContext): void {
  const running = runningExecution(ctx);
  if (!running) return;
  const plan = {
    dns: { recordType: 'A', evaluateTargetHealth: true, ...ctx.config.dns },
    slots: ctx.config.slots,
  } as unknown as Plan;
  void lambdaFunction.run('rollbackTraffic', () =>
    actor.run(running.name, () => writeWeights(plan, { a: 100, b: 0 }, 'sabotage')),
  );
}

describe('what each scenario leaves behind', () => {
  it('happy: 1.1.0 serves all traffic from slot b, blue is gone, in 10/50/100 steps', async () => {
    const { summary, world } = await simulate(scenario('happy'));
    expect(summary).toMatchObject({
      liveSlot: 'b',
      weights: { a: 0, b: 100 },
      running: { a: 0, b: 3, other: 0 },
    });
    expect(runningVersions(world)).toEqual(['1.1.0', '1.1.0', '1.1.0']);
    const written = world.calls.filter((c) => c.operation === 'ChangeResourceRecordSets').length;
    expect(written).toBe(3);
    // Bake (20 min) + 3 steps of 5 min + the one-hour window, which starts with the last step.
    expect(summary.virtualSeconds).toBeGreaterThanOrEqual(20 * 60 + 10 * 60 + 3600);
    expect(summary.notifications.map((n) => n.subject)).toEqual(['Deployed web/prod 1.1.0']);
  });

  it('first-deploy: one instance in slot a takes 100 % at once; nothing is terminated', async () => {
    const { summary, world } = await simulate(scenario('first-deploy'));
    expect(summary).toMatchObject({
      liveSlot: 'a',
      weights: { a: 100, b: 0 },
      running: { a: 1, b: 0, other: 0 },
    });
    expect(writes(world, 'ChangeResourceRecordSets')).toBe(1);
    expect(writes(world, 'TerminateInstances')).toBe(0);
  });

  it('bake-fails: nothing is launched and the cause carries the build failure', async () => {
    const { summary, world } = await simulate(scenario('bake-fails'));
    expect(writes(world, 'RunInstances')).toBe(0);
    expect(summary.cause).toContain('./install.sh exited with 1');
    expect(runningVersions(world)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
  });

  it('capacity-shortfall: the two instances EC2 did launch are terminated', async () => {
    const { summary, world } = await simulate(scenario('capacity-shortfall'));
    expect(summary.cause).toContain('EC2 launched 2 of 3 green instances');
    expect(writes(world, 'ChangeResourceRecordSets')).toBe(0);
    expect(runningVersions(world)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
  });

  it('green-unhealthy: traffic never moves and the cause names the failing targets', async () => {
    const { summary, world } = await simulate(scenario('green-unhealthy'));
    expect(writes(world, 'ChangeResourceRecordSets')).toBe(0);
    expect(summary.cause).toMatch(/green not healthy \d+ s after launch: 0 of 3 green targets healthy/);
    expect(summary.cause).toContain('Target.ResponseCodeMismatch');
  });

  it('alarm-during-shift: traffic returns to blue in one batch and green is terminated', async () => {
    const { summary, world } = await simulate(scenario('alarm-during-shift'));
    expect(summary.weights).toEqual({ a: 100, b: 0 });
    expect(writes(world, 'ChangeResourceRecordSets')).toBe(3); // 10 %, 50 %, back to 0 %
    expect(summary.cause).toContain('web-prod-5xx');
    expect(runningVersions(world)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
  });

  it('blue-dies-then-alarm: green keeps the traffic, and nothing tells a person to move it to the dead blue', async () => {
    const { summary, world } = await simulate(scenario('blue-dies-then-alarm'));
    expect(summary.weights).toEqual({ a: 0, b: 100 });
    expect(summary.cause).toContain('RollbackBlocked');
    for (const text of [summary.cause ?? '', world.sns.messages.at(-1)?.message ?? '']) {
      expect(text).toContain(
        'blue slot a has no healthy target (3 registered), so keep the traffic on slot b',
      );
      expect(text).not.toMatch(/set slot a to 100|terminate them once no traffic/);
    }
  });

  /** The calls an execution made that changed something, by operation. */
  function changesBy(world: World, execution: string): string[] {
    return world.calls
      .filter((c) => c.actor === execution && !c.error)
      .filter((c) =>
        [
          'RunInstances',
          'TerminateInstances',
          'RegisterTargets',
          'DeregisterTargets',
          'ChangeResourceRecordSets',
          'AddTags',
        ].includes(c.operation),
      )
      .map((c) => c.operation);
  }

  function executionOf(world: World, version: string, app = 'web') {
    const found = [...world.sfn.executions.values()].find((e) =>
      e.name.startsWith(`${app}-prod-${version.replace(/\./g, '_')}-`),
    );
    if (!found) throw new Error(`no execution of ${app} ${version}`);
    return found;
  }

  it('lock-lost-second-deploy: 1.2.0 stops at launch naming 1.1.0 and changes nothing; 1.1.0 deploys untouched', async () => {
    const { summary, world } = await simulate(scenario('lock-lost-second-deploy'));
    const first = executionOf(world, '1.1.0');
    const second = executionOf(world, '1.2.0');
    expect(first.status).toBe('SUCCEEDED');
    expect(second.error).toBe('DeploymentRolledBack');
    expect(second.cause).toContain(
      `SlotInUse: slot b's target group targetgroup/web-prod-b/fedcba9876543210 is claimed by web/prod 1.1.0 (execution arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-sim-deploy:${first.name}), which still runs`,
    );
    expect(changesBy(world, second.name)).toEqual([]);
    expect(runningVersions(world)).toEqual(['1.1.0', '1.1.0', '1.1.0']);
    expect(summary.weights).toEqual({ a: 0, b: 100 });
    expect(summary.notifications.map((n) => n.subject)).toEqual([
      'Rolled back: web/prod 1.2.0',
      'Deployed web/prod 1.1.0',
    ]);
  });

  it('foreign-instance-in-green: the step check names the instance nobody launched; the rollback takes only 1.1.0', async () => {
    const { summary, world } = await simulate(scenario('foreign-instance-in-green'));
    expect(summary.cause).toMatch(
      /SlotInUse: green slot b's target group targetgroup\/web-prod-b\/fedcba9876543210 holds instances this deployment did not launch \(i-\w+ not launched by this service\)/,
    );
    expect(summary.weights).toEqual({ a: 100, b: 0 });
    const stranger = [...world.ec2.instances.values()].find((i) => i.tags.Name === 'hand-made');
    expect(stranger && world.ec2.state(stranger)).toBe('running');
  });

  it('slots-of-another-app: api/prod is refused in Plan naming web/prod, launching nothing; web/prod 1.1.0 deploys', async () => {
    const { world } = await simulate(scenario('slots-of-another-app'));
    const web = executionOf(world, '1.1.0');
    const api = executionOf(world, '1.1.0', 'api');
    expect(web.status).toBe('SUCCEEDED');
    expect(api.error).toBe('DeploymentFailed');
    expect(api.states.map((s) => s.name)).not.toContain(STATE.launch);
    expect(api.cause).toContain(
      "slot a's target group targetgroup/web-prod-a/0123456789abcdef belongs to web/prod (its bluegreen:app and bluegreen:env tags), not api/prod",
    );
    expect(changesBy(world, api.name)).toEqual([]);
    expect(runningVersions(world)).toEqual(['1.1.0', '1.1.0', '1.1.0']);
  });

  it('alarm-with-partly-healthy-blue: all traffic returns to blue with 2 of 3 targets healthy, and the monitor accepts it', async () => {
    const { summary, world } = await simulate(scenario('alarm-with-partly-healthy-blue'));
    expect(summary.weights).toEqual({ a: 100, b: 0 });
    expect(summary.violations).toEqual([]);
    const blue = world.elbv2.targetGroups.get(
      [...world.elbv2.targetGroups.keys()].find((arn) => arn.includes('web-prod-a')) ?? '',
    );
    const states = [...(blue?.registrations.keys() ?? [])].map((id) =>
      blue ? world.elbv2.health(blue, id).State : '',
    );
    expect(states.sort()).toEqual(['healthy', 'healthy', 'unhealthy']);
    expect(runningVersions(world)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
  });

  it('stopped-with-partly-healthy-blue: the recovery returns all traffic to the partly healthy blue', async () => {
    const { summary } = await simulate(scenario('stopped-with-partly-healthy-blue'));
    expect(summary.weights).toEqual({ a: 100, b: 0 });
    expect(summary.cause).toContain('traffic returned to slot a');
  });

  it('alarm-with-unhealthy-blue: no traffic is moved to the blue without a healthy target, and nothing tells a person to', async () => {
    const { summary, world } = await simulate(scenario('alarm-with-unhealthy-blue'));
    expect(summary.weights).toEqual({ a: 50, b: 50 });
    expect(writes(world, 'ChangeResourceRecordSets')).toBe(2); // 10 % and 50 %, no rollback write
    expect(summary.cause).toContain(
      'RollbackBlocked: not returning traffic to blue slot a: blue slot a has no healthy target',
    );
    expect(summary.cause).not.toMatch(/set slot a to 100/);
    expect(summary.violations.filter((v) => !v.includes('invariant 3:'))).toEqual([]);
  });

  it("next-upload-after-blue-died: blue's dead targets are deregistered, slot a serves 1.2.0 alone, 1.1.0 is retired", async () => {
    const { summary, world } = await simulate(scenario('next-upload-after-blue-died'));
    expect(summary).toMatchObject({ status: 'SUCCEEDED', liveSlot: 'a', running: { a: 3, b: 0, other: 0 } });
    const slotA = world.elbv2.targetGroups.get(appNames().targetGroups.a);
    const registered = [...(slotA?.registrations.entries() ?? [])]
      .filter(([, r]) => r.deregisteredAt === undefined)
      .map(([id]) => world.ec2.instances.get(id)?.tags[TAG.version]);
    expect(registered).toEqual(['1.2.0', '1.2.0', '1.2.0']);
    expect(summary.notifications.map((n) => n.subject).at(-1)).toBe('Deployed web/prod 1.2.0');
  });

  it('next-upload-hours-after-blue-died: targets whose instance EC2 forgot do not block Plan; the launch deregisters them', async () => {
    const { summary, world } = await simulate(scenario('next-upload-hours-after-blue-died'));
    expect(summary).toMatchObject({ status: 'SUCCEEDED', liveSlot: 'a', running: { a: 3, b: 0, other: 0 } });
    const dead = [...world.ec2.instances.values()].filter((i) => i.tags[TAG.version] === '1.0.0');
    // EC2 no longer lists them: Plan saw targets whose instance is gone.
    expect(dead.map((i) => world.ec2.listed(i))).toEqual([false, false, false]);
    const second = executionOf(world, '1.2.0');
    const planned = world.calls.filter(
      (c) => c.actor === second.name && c.fn === 'planDeployment' && c.operation === 'DescribeInstances',
    );
    expect(planned.length).toBeGreaterThan(0);
    const slotA = world.elbv2.targetGroups.get(appNames().targetGroups.a);
    const registered = [...(slotA?.registrations.entries() ?? [])]
      .filter(([, r]) => r.deregisteredAt === undefined)
      .map(([id]) => world.ec2.instances.get(id)?.tags[TAG.version]);
    expect(registered).toEqual(['1.2.0', '1.2.0', '1.2.0']);
  });

  it("lock-lost-during-heal: 1.2.0 finds the slot the heal clears claimed by 1.1.0 and launches nothing; 1.1.0's heal touches nothing of 1.2.0 and deploys", async () => {
    const { summary, world } = await simulate(scenario('lock-lost-during-heal'));
    const first = executionOf(world, '1.1.0');
    const second = executionOf(world, '1.2.0');
    expect(first.status).toBe('SUCCEEDED');
    expect(second.error).toBe('DeploymentFailed');
    expect(second.cause).toContain(
      `slot b's target group targetgroup/web-prod-b/fedcba9876543210 is claimed by web/prod 1.1.0 (execution arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-sim-deploy:${first.name}), which still runs`,
    );
    expect(changesBy(world, second.name)).toEqual([]);
    // The heal terminated only the fleet it found in slot b (1.0.1), and 1.1.0 took the claim once.
    const terminatedByHeal = [...world.ec2.instances.values()].filter(
      (i) => i.terminateRequestedAt !== undefined && i.tags[TAG.slot] === 'b',
    );
    expect(new Set(terminatedByHeal.map((i) => i.tags[TAG.version]))).toEqual(new Set(['1.0.1']));
    expect(runningVersions(world)).toEqual(['1.1.0', '1.1.0', '1.1.0']);
    expect(summary.weights).toEqual({ a: 0, b: 100 });
  });

  it("lock-lost-two-heals: 1.1.0's heal finds slot b claimed by 1.2.0 and moves, clears and tells a person nothing; 1.2.0 deploys untouched", async () => {
    const { summary, world } = await simulate(scenario('lock-lost-two-heals'));
    const first = executionOf(world, '1.1.0');
    const second = executionOf(world, '1.2.0');
    expect(second.status).toBe('SUCCEEDED');
    expect(first.error).toBe('DeploymentFailed');
    expect(first.cause).toContain(
      `failed before anything was changed: SlotInUse: slot b's target group targetgroup/web-prod-b/fedcba9876543210 is claimed by web/prod 1.2.0 (execution arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-sim-deploy:${second.name}), which still runs`,
    );
    expect(first.cause).not.toContain('Left for a person');
    expect(changesBy(world, first.name)).toEqual([]);
    expect(runningVersions(world)).toEqual(['1.2.0', '1.2.0', '1.2.0']);
    expect(summary.weights).toEqual({ a: 0, b: 100 });
  });

  it('release-key-rewritten: the live fleet runs the first bits; the rewrite is refused in Plan and told', async () => {
    const { summary, world } = await simulate(scenario('release-key-rewritten'));
    const live = [...world.ec2.instances.values()].filter((i) => world.ec2.state(i) === 'running');
    expect(live.map((i) => world.imagebuilder.baked.get(i.imageId)?.body)).toEqual([
      'PK\u0003\u0004 web 1.1.0',
      'PK\u0003\u0004 web 1.1.0',
      'PK\u0003\u0004 web 1.1.0',
    ]);
    expect(writes(world, 'RunInstances')).toBe(1);
    expect(summary.notifications.map((n) => n.subject)).toEqual([
      'Deployed web/prod 1.1.0',
      'Deployment failed: web/prod 1.1.0',
    ]);
    expect(world.sns.messages.at(-1)?.message).toContain('release keys are immutable');
  });

  /** The scenario, recording the largest share of traffic green's slot (b) ever had. */
  function watchingGreenWeight(name: string): { scenario: Scenario; most: () => number } {
    const base = scenario(name);
    let most = 0;
    return {
      scenario: {
        ...base,
        prepare: (ctx) => {
          base.prepare?.(ctx);
          ctx.world.hooks.push({
            afterRecordsChange: () => {
              most = Math.max(
                most,
                ctx.world.route53.weights('Z0123456789ABCDEFGHIJ', 'web.example.com', 'A').b ?? 0,
              );
            },
          });
        },
      },
      most: () => most,
    };
  }

  it('alarm-before-launch: an alarm already firing launches nothing, moves no traffic, and is not blamed on the release', async () => {
    const watched = watchingGreenWeight('alarm-before-launch');
    const { summary, world } = await simulate(watched.scenario);
    expect(writes(world, 'RunInstances')).toBe(0);
    expect(watched.most()).toBe(0);
    expect(summary.weights).toEqual({ a: 100, b: 0 });
    expect(summary.cause).toContain(
      'alarm in ALARM before any traffic moved to the release, so not caused by it',
    );
    expect(summary.cause).toContain('checked before launching green');
  });

  it('alarm-before-first-shift: an alarm that fires while green boots moves no traffic to green', async () => {
    const watched = watchingGreenWeight('alarm-before-first-shift');
    const { summary, world } = await simulate(watched.scenario);
    expect(writes(world, 'RunInstances')).toBe(1);
    expect(watched.most()).toBe(0);
    expect(summary.cause).toContain('checked right before the first traffic step');
    expect(runningVersions(world)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
  });

  it('alarm-during-termination-wait: blue, still running, takes the traffic back', async () => {
    const { summary, world } = await simulate(scenario('alarm-during-termination-wait'));
    expect(summary.weights).toEqual({ a: 100, b: 0 });
    expect(runningVersions(world)).toEqual(['1.0.0', '1.0.0', '1.0.0']);
    expect(summary.notifications.at(-1)?.subject).toBe('Rolled back: web/prod 1.1.0');
  });

  it('throttled: every injected throttle was hit and retried', async () => {
    const { summary, world } = await simulate(scenario('throttled'));
    const throttled = world.calls.filter((c) => c.error && /Throttl|RequestLimitExceeded/.test(c.error));
    // 2 each on three Route 53 and three EC2 operations, 1 on DescribeTargetHealth.
    expect(throttled.length).toBe(13);
    expect(world.faults.every((f) => f.times === 0)).toBe(true);
    expect(summary.status).toBe('SUCCEEDED');
  });

  it('approval-response-lost: both answers arrived though their responses were lost, and the records say approved', async () => {
    const { summary, world } = await simulate(scenario('approval-response-lost'));
    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.approvals).toEqual([
      { stage: 'traffic-shift', decision: 'approved', approver: 'alice@example.com' },
      { stage: 'blue-termination', decision: 'approved', approver: 'alice@example.com' },
    ]);
    const answers = world.calls.filter((c) => c.fn === 'approvalPage' && c.operation === 'SendTaskSuccess');
    expect(answers.map((c) => c.error)).toEqual([
      'TimeoutError',
      'TaskTimedOut',
      'TimeoutError',
      'TaskTimedOut',
    ]);
    expect(
      world.calls.filter((c) => c.fn === 'approvalPage' && c.operation === 'GetExecutionHistory').length,
    ).toBe(2);
  });

  it('duplicate-event: the second delivery starts nothing', async () => {
    const { summary, world } = await simulate(scenario('duplicate-event'));
    expect(summary.executions).toBe(1);
    expect(world.calls.filter((c) => c.operation === 'StartExecution')).toHaveLength(1);
    expect(world.calls.filter((c) => c.operation === 'DescribeExecution')).toHaveLength(2);
  });

  it('bad-config: fails in Plan naming both broken fields, and changes nothing', async () => {
    const { summary, world } = await simulate(scenario('bad-config'));
    expect(summary.cause).toContain('slots.b.targetGroupArn: must be a target group ARN');
    expect(summary.cause).toContain('traffic.steps: the last step must be 100');
    expect(writes(world, 'RunInstances') + writes(world, 'CreateImage')).toBe(0);
    expect(summary.notifications.map((n) => n.subject)).toEqual(['Deployment failed: web/prod 1.1.0']);
  });

  it('bad-key: no execution, no AWS call but telling of each key once', async () => {
    const { summary, world } = await simulate(scenario('bad-key'));
    expect(summary.executions).toBe(0);
    // Each ignored upload: its publication claimed, its message published, the claim settled.
    expect(world.calls.map((c) => `${c.service}:${c.operation}`)).toEqual(
      Array(4).fill(['dynamodb:PutItem', 'sns:Publish', 'dynamodb:PutItem']).flat(),
    );
  });
});

describe('the safety monitor', () => {
  // A rollback that breaks the rollback rule: at 50 %, written as the rollback task of the running
  // execution would write it, all traffic goes to blue although green is healthy and nothing says
  // it failed, and blue is less healthy: 1 of 3 targets healthy, below the 80 % minimum.
  it('flags a rollback that returns traffic to a blue below its minimum and less healthy than a green nothing is wrong with', async () => {
    const sabotage = testScenario('sabotage-rollback-rule', 'ROLLED_BACK', {
      summary: 'a rollback task returns all traffic to a partly healthy blue while green is fine',
      prepare: (ctx) => {
        ctx.config.health = { ...ctx.config.health, minHealthyPercent: 80 };
        greenWeightReaches(ctx.world, 10, () => blueFailsChecks(ctx.world, 2));
        greenWeightReaches(ctx.world, 100, () => ctx.after(60, () => rollbackPutsAllOnSlotA(ctx)));
      },
    });
    const { summary } = await simulate(sabotage);
    expect(summary.violations.join('\n')).toMatch(
      /invariant 1 \(rollback rule\): all traffic returned to slot a although blue is below its healthy minimum, less healthy than green, has at most half of its targets healthy, and nothing says green failed \(blue slot a: 1 of 3 targets healthy; green slot b: 3 of 3 targets healthy\)/,
    );
    expect(summary.ok).toBe(false);
  });

  it('flags a rollback that returns traffic to a blue with no healthy target', async () => {
    const sabotage = testScenario('sabotage-dead-blue', 'FAILED', {
      summary: 'a rollback task returns all traffic to a blue whose targets all fail their checks',
      prepare: (ctx) => {
        greenWeightReaches(ctx.world, 10, () => blueFailsChecks(ctx.world, 3));
        greenWeightReaches(ctx.world, 50, () => ctx.after(60, () => rollbackPutsAllOnSlotA(ctx)));
      },
    });
    const { summary } = await simulate(sabotage);
    expect(summary.violations.join('\n')).toMatch(
      /invariant 1 \(rollback rule\): all traffic returned to slot a although blue slot a has no healthy target \(0 of 3 targets healthy\)/,
    );
    expect(summary.ok).toBe(false);
  });

  it('flags blue terminated before green carried all traffic for the whole window', async () => {
    const sabotage = testScenario('sabotage', 'SUCCEEDED', {
      summary: 'someone terminates blue as soon as green takes 50 %',
      prepare: ({ world }) => {
        let done = false;
        world.hooks.push({
          afterRecordsChange: () => {
            const b = world.route53.weights('Z0123456789ABCDEFGHIJ', 'web.example.com', 'A').b;
            if (done || b !== 50) return;
            done = true;
            const blue = [...world.ec2.instances.values()]
              .filter((i) => i.tags[TAG.version] === '1.0.0')
              .map((i) => i.id);
            void asSomeoneElse(() => world.call('ec2', 'TerminateInstances', { InstanceIds: blue }));
          },
        });
      },
    });
    const { summary } = await simulate(sabotage);
    expect(summary.violations.join('\n')).toMatch(
      /invariant 3: i-\w+ terminated while registered in slot a, which carries traffic/,
    );
    expect(summary.violations.join('\n')).toMatch(
      /invariant 2: blue i-\w+ terminated while slot b does not carry all traffic/,
    );
    expect(summary.ok).toBe(false);
  });
});
