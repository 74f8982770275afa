import { describe, expect, it } from 'vitest';
import { STATE } from '#shared/domain/states.ts';
import { TAG } from '#shared/domain/tags.ts';
import type { Scenario } from '../../sim/scenarios.ts';
import { type Summary, simulate } from '../../sim/simulate.ts';
import { LOCKS_TABLE, type World } from '../../sim/world.ts';
import {
  alarmAfterGreenReaches,
  appNames,
  blueFailsChecks,
  greenWeightReaches,
  halfFinishedSlotB,
  loseLockItem,
  runningExecution,
  SPLIT_WEIGHTS,
  stopAfterGreenReaches,
  stopRunning,
  stopWhenIn,
  TARGET_GROUPS,
  uploadVersion,
  ZONE,
} from '../../sim/worlds.ts';
import { executionOf, recoveryNeverComes, stopRelease } from '../support/releases.ts';
import { testScenario } from '../support/scenarios.ts';

/** EventBridge delivers the ABORTED status change once more, `seconds` later (at least once). */
function stopEventAgain(world: World, seconds: number): void {
  const put = world.events.put.bind(world.events);
  let again = false;
  world.events.put = (event) => {
    put(event);
    if (
      event.source === 'aws.states' &&
      !again &&
      (event.detail as { status?: string }).status === 'ABORTED'
    ) {
      again = true;
      world.schedule(world.now() + seconds * 1000, () => put(event));
    }
  };
}

/** Rolled back: all traffic on blue again, green terminated, and every invariant held. */
function expectBackOnBlue(summary: Summary): void {
  expect(summary.violations).toEqual([]);
  expect(summary).toMatchObject({ status: 'ROLLED_BACK', weights: { a: 100, b: 0 }, running: { b: 0 } });
}

// Stops, duplicate events and lost responses at the awkward moments: the recovery that runs on an
// execution's end, and tasks retried after their own write, must still keep every invariant.

describe('stopped while the rollback waits', () => {
  it('keeps green until a change putting all traffic on blue is in sync and the TTL has passed', async () => {
    const scenario = testScenario('stopped-during-rollback-ttl', 'ROLLED_BACK', {
      summary: 'alarm at 50 %; the rollback writes blue 100; Stop while it waits out the TTL',
      prepare: (ctx) => {
        alarmAfterGreenReaches(ctx.world, 50, 90, 'Threshold Crossed');
        stopWhenIn(ctx, STATE.leaveGreen, 5);
      },
    });
    const { summary, world } = await simulate(scenario);
    expectBackOnBlue(summary);
    // The recovery wrote all traffic to blue again to have a change to wait on.
    const writes = world.calls.filter((c) => c.operation === 'ChangeResourceRecordSets' && !c.error);
    expect(writes.length).toBe(4);
  });

  it("recovers on Lambda's retry when its first attempt fails", async () => {
    const scenario = testScenario('recovery-retried', 'ROLLED_BACK', {
      summary: 'stopped at 50 %; the first attempt of the recovery cannot read the history',
      prepare: (ctx) => {
        stopAfterGreenReaches(ctx, 50, () =>
          ctx.world.inject({ service: 'sfn', operation: 'GetExecutionHistory', kind: 'permanent', times: 1 }),
        );
      },
    });
    const { summary, world } = await simulate(scenario);
    expectBackOnBlue(summary);
    expect(world.calls.filter((c) => c.operation === 'GetExecutionHistory' && c.error)).toHaveLength(1);
  });

  it('waits the same way when the status change arrives twice', async () => {
    const scenario = testScenario('stopped-status-event-twice', 'ROLLED_BACK', {
      summary: 'stopped at 50 %, and EventBridge delivers the status change twice, 10 s apart',
      prepare: (ctx) => {
        const { world } = ctx;
        const put = world.events.put.bind(world.events);
        world.events.put = (event) => {
          put(event);
          if (event.source === 'aws.states') world.schedule(world.now() + 10_000, () => put(event));
        };
        stopAfterGreenReaches(ctx, 50);
      },
    });
    const { summary } = await simulate(scenario);
    expectBackOnBlue(summary);
  });
});

describe('a Stop during the shift', () => {
  it("is rolled back in an execution of its own: green is drained for its target group's deregistration delay before it is terminated", async () => {
    const scenario = testScenario('stopped-during-shift', 'ROLLED_BACK', {
      summary: 'Stop 30 s after green takes 50 %',
      prepare: (ctx) =>
        greenWeightReaches(ctx.world, 50, () => ctx.after(30, () => stopRelease(ctx, '1.1.0'))),
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({ status: 'ROLLED_BACK', weights: { a: 100, b: 0 }, running: { b: 0 } });
    const stopped = executionOf(world, '1.1.0');
    expect(stopped?.status).toBe('ABORTED');
    // Visible to the operator by its own name, beside the stopped execution.
    const rollback = world.sfn.rollbacks.get(`${stopped?.name}-rollback`);
    expect(rollback).toMatchObject({ status: 'FAILED', error: 'DeploymentRolledBack' });
    expect(rollback?.arn).toContain(':execution:bluegreen-ec2-sim-deploy-rollback:');
    expect(rollback?.states.map((s) => s.name)).toEqual(
      expect.arrayContaining([STATE.leaveGreen, STATE.drainGreen, STATE.letGreenDrain, STATE.removeGreen]),
    );
    const delay = world.elbv2.targetGroups.get(TARGET_GROUPS.b)?.deregistrationDelaySeconds ?? 0;
    expect(delay).toBe(300);
    const calls = world.calls.filter((c) => c.actor === stopped?.name && !c.error);
    const deregistered = calls.find((c) => c.operation === 'DeregisterTargets' && c.fn === 'drainGreen');
    const terminated = calls.find((c) => c.operation === 'TerminateInstances');
    expect(deregistered).toBeDefined();
    expect(((terminated?.at ?? 0) - (deregistered?.at ?? 0)) / 1000).toBeGreaterThanOrEqual(delay);
    // The recovery itself moved nothing: it started the rollback.
    const changes = ['ChangeResourceRecordSets', 'DeregisterTargets', 'TerminateInstances'];
    const byRecovery = world.calls.filter(
      (c) => c.fn === 'recoverExecution' && changes.includes(c.operation),
    );
    expect(byRecovery).toEqual([]);
  });
});

describe('stopped in its final notification', () => {
  it('changes nothing and tells nothing more when stopped in its final notification, after it released the lock', async () => {
    const scenario = testScenario('stopped-in-final-notification', 'SUCCEEDED', {
      summary: '"Deployed" is published and the lock released; Stop before the notifier returns',
      prepare: (ctx) => {
        ctx.world.sns.subscribers.push((message) => {
          if (message.subject.startsWith('Deployed ')) stopRunning(ctx);
        });
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(world.sns.messages.map((m) => m.subject)).toEqual(['Deployed web/prod 1.1.0']);
    expect(summary).toMatchObject({ weights: { a: 0, b: 100 }, running: { a: 0, b: 3, other: 0 } });
    expect(world.calls.filter((c) => c.fn === 'recoverExecution' && c.service === 'route53')).toEqual([]);
  });
});

describe('stopped after the lock item was lost', () => {
  it("rolls back: green's claim on its target group says the slot is still this deployment's", async () => {
    const scenario = testScenario('stopped-after-lock-item-lost', 'ROLLED_BACK', {
      summary: 'the lock item is deleted by hand at 10 %; Stop at 50 %',
      prepare: (ctx) => {
        greenWeightReaches(ctx.world, 10, () => ctx.world.dynamodb.tables.get(LOCKS_TABLE)?.clear());
        stopAfterGreenReaches(ctx, 50);
      },
    });
    const { summary } = await simulate(scenario);
    expectBackOnBlue(summary);
    // One message, the rollback execution's, which says what the recovery found.
    expect(summary.notifications.map((n) => n.subject)).toEqual(['Rolled back: web/prod 1.1.0']);
    expect(summary.notifications[0]?.summary).toContain(
      `the lock item of web/prod was missing from ${LOCKS_TABLE}`,
    );
  });

  it('cancels the build it started and says the lock item was missing, when stopped while baking', async () => {
    const scenario = testScenario('stopped-while-baking-lock-item-lost', 'ROLLED_BACK', {
      summary: 'the lock item is deleted by hand 4 minutes into the bake; Stop a minute later',
      act: (ctx) => {
        uploadVersion(ctx, '1.1.0');
        ctx.after(240, () => loseLockItem(ctx.world));
        ctx.after(300, () => stopRunning(ctx));
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(world.imagebuilder.cancelledCount).toBe(1);
    // Nothing was launched, so nothing of green's slot, claimed by nobody, was touched.
    expect(world.calls.filter((c) => c.operation === 'ChangeResourceRecordSets')).toHaveLength(0);
    expect(summary).toMatchObject({ weights: { a: 100, b: 0 }, running: { a: 3, b: 0, other: 0 } });
    const stopped = world.sns.messages.filter((m) => m.subject === 'Stopped: web/prod 1.1.0');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]?.message).toMatch(/image build arn:aws:imagebuilder:\S+ cancelled/);
    expect(stopped[0]?.message).toContain(`the lock item of web/prod was missing from ${LOCKS_TABLE}`);
  });
});

/** A second deployment of web/prod, 1.2.0 as `other` (a lost lock item), claims green's slot b. */
function claimGreenFor(world: World, other: string): void {
  const group = world.elbv2.targetGroups.get(TARGET_GROUPS.b);
  if (group) {
    group.tags = {
      ...group.tags,
      [TAG.deploymentId]: other,
      [TAG.version]: '1.2.0',
      [TAG.execution]: `arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-sim-deploy:${other}`,
    };
  }
}

describe('a recovery that meets faults', () => {
  /** Stops 1.1.0 30 s after green takes 50 %, with `faults` injected at the same moment. */
  const stopAtHalf = (name: string, faults: (world: World) => void): Scenario => ({
    name,
    summary: 'Stop at 50 %, and AWS fails the recovery',
    expect: 'ROLLED_BACK',
    prepare: (ctx) => {
      greenWeightReaches(ctx.world, 50, () =>
        ctx.after(30, () => {
          faults(ctx.world);
          stopRelease(ctx, '1.1.0');
        }),
      );
    },
  });
  const stoppedMessages = (world: World) =>
    world.sns.messages.filter((m) => m.subject === 'Stopped: web/prod 1.1.0');
  /** The rollback execution the recovery started tells, as a rollback does. */
  const rollbackMessages = (world: World, subject: string) =>
    world.sns.messages.filter((m) => m.subject === `${subject}: web/prod 1.1.0`);

  it.each([4, 10])(
    'is as patient as the state machine: %i Route 53 throttles in a row, and traffic is back on blue',
    async (throttles) => {
      const scenario = stopAtHalf('recovery-throttled', (world) =>
        world.inject({ service: 'route53', kind: 'throttle', times: throttles }),
      );
      const { summary, world } = await simulate(scenario);
      // The lock is free too: the monitor reports a lock still held as a violation.
      expectBackOnBlue(summary);
      expect(world.calls.filter((c) => c.service === 'route53' && c.error === 'Throttling')).toHaveLength(
        throttles,
      );
      expect(rollbackMessages(world, 'Rolled back')).toHaveLength(1);
      expect(world.sns.messages).toHaveLength(1);
    },
  );

  it('that cannot finish tells once what is left for a person, and frees the app', async () => {
    const scenario = stopAtHalf('recovery-cannot-finish', (world) =>
      world.inject({
        service: 'route53',
        operation: 'ChangeResourceRecordSets',
        kind: 'permanent',
        times: 1_000_000,
      }),
    );
    const { summary, world } = await simulate(scenario);
    const told = rollbackMessages(world, 'ROLLBACK FAILED');
    expect(world.sns.messages).toHaveLength(1);
    const message = told[0]?.message ?? '';
    expect(message).toMatch(
      /^web\/prod 1\.1\.0 ROLLBACK FAILED \(AccessDenied: [^)]+\) while rolling back from ABORTED: the execution web-prod-1_1_0-\w+ stopped\. Left for a person: /,
    );
    // What is there now, for a person: the split, and the green instances that still run.
    expect(message).toContain(
      'traffic: a=50 b=50; green slot b still carries traffic, set slot a to 100 and slot b to 0 in one change',
    );
    expect(message).toMatch(
      /green instances still running \(tagged bluegreen:deployment-id=[\w-]+\): i-\w+, i-\w+, i-\w+/,
    );
    expect(summary.status).toBe('FAILED');
    expect(summary.violations.filter((v) => /lock/.test(v))).toEqual([]);
    expect(world.dynamodb.items(LOCKS_TABLE).find((item) => item.id === 'web/prod')?.owner).toBeUndefined();
  });

  it('that cannot finish after a Stop tells to return traffic to a partly healthy blue, as the rollback rule does for a Stop', async () => {
    const scenario = stopAtHalf('recovery-cannot-finish-partly-healthy-blue', (world) => {
      // Two of blue's three targets fail from now: blue is below its healthy minimum and less
      // healthy than green, so only the Stop (a verdict on green) sends traffic back to it.
      blueFailsChecks(world, 2);
      world.inject({
        service: 'route53',
        operation: 'ChangeResourceRecordSets',
        kind: 'permanent',
        times: 1_000_000,
      });
    });
    const { world } = await simulate(scenario);
    const told = rollbackMessages(world, 'ROLLBACK FAILED');
    expect(world.sns.messages).toHaveLength(1);
    const message = told[0]?.message ?? '';
    expect(message).toContain('while rolling back from ABORTED');
    expect(message).toContain(
      'Left for a person: traffic: a=50 b=50; green slot b still carries traffic, set slot a to 100 and slot b to 0 in one change',
    );
    expect(message).not.toMatch(/nothing says green failed|or keep slot b/);
    expect(message).toMatch(/terminate them once no traffic reaches slot b/);
  });

  it("that cannot finish with green's slot claimed by another deployment tells to move none of its traffic", async () => {
    const other = 'web-prod-1_2_0-0123456789';
    const scenario = stopAtHalf('recovery-cannot-finish-green-claimed', (world) => {
      // A second deployment of web/prod (a lost lock item) claimed green's slot.
      claimGreenFor(world, other);
      world.inject({ service: 'ec2', operation: 'TerminateInstances', kind: 'permanent', times: 1_000_000 });
    });
    const { world } = await simulate(scenario);
    const told = stoppedMessages(world);
    expect(told).toHaveLength(1);
    const message = told[0]?.message ?? '';
    expect(message).toContain('Left for a person: this recovery could not finish');
    expect(message).toContain(
      `traffic: a=50 b=50; green slot b is claimed by web/prod 1.2.0 (execution arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-sim-deploy:${other}): its traffic and the instances of that deployment are not this deployment's to move or terminate`,
    );
    expect(message).toMatch(
      /only this deployment's instances \(tagged bluegreen:deployment-id=web-prod-1_1_0-\w+\) are its own: i-\w+, i-\w+, i-\w+; if they are registered in slot b's target group, deregister them only once it carries no traffic or has healthy targets besides them, then terminate them/,
    );
    expect(message).not.toMatch(/set slot a to 100|once no traffic reaches slot b|keep slot b/);
  });

  it("with group fleets and green's slot claimed by another deployment, deletes only this deployment's group and lets blue's scale again", async () => {
    const other = 'web-prod-1_2_0-0123456789';
    const scenario: Scenario = {
      ...stopAtHalf('recovery-groups-green-claimed', (world) => {
        claimGreenFor(world, other);
      }),
      asg: true,
      // Green's slot is another's by its tags while this deployment's group serves half the
      // traffic there: what the recovery removes is this deployment's, whatever it carried.
      breaksInvariants: true,
    };
    const { world } = await simulate(scenario);
    const ours = [...world.autoscaling.groups.values()].filter((g) => g.tags[TAG.version] === '1.1.0');
    expect(ours.every((g) => g.deletingSince !== undefined)).toBe(true);
    const blue = [...world.autoscaling.groups.values()].find((g) => g.tags[TAG.version] === '1.0.0');
    expect(blue?.deletingSince).toBeUndefined();
    expect([...(blue?.suspended ?? [])]).toEqual([]);
    const byRecovery = (operation: string) =>
      world.calls.filter((c) => c.fn === 'recoverExecution' && c.operation === operation && !c.error).length;
    expect(byRecovery('DetachLoadBalancerTargetGroups')).toBe(1);
    expect(byRecovery('DeleteAutoScalingGroup')).toBe(1);
    expect(byRecovery('DeleteLaunchTemplateVersions')).toBe(1);
    expect(byRecovery('ResumeProcesses')).toBe(1);
    expect(stoppedMessages(world)).toHaveLength(1);
  });

  it('that cannot even read the history tells what to check by hand, and frees the app', async () => {
    const scenario = stopAtHalf('recovery-blind', (world) =>
      world.inject({ service: 'sfn', operation: 'GetExecutionHistory', kind: 'permanent', times: 1_000_000 }),
    );
    const { world } = await simulate(scenario);
    const told = stoppedMessages(world);
    expect(told).toHaveLength(1);
    expect(told[0]?.message).toMatch(/^web\/prod 1\.1\.0 was aborted; lock released\. Left for a person: /);
    expect(told[0]?.message).toContain(
      "before it could read what the deployment had done: check the weights of web/prod's records, put all traffic on the slot that was live before if it is not there, then terminate the instances tagged bluegreen:deployment-id=web-prod-1_1_0-",
    );
    expect(world.dynamodb.items(LOCKS_TABLE).find((item) => item.id === 'web/prod')?.owner).toBeUndefined();
  });

  it('whose hand-over of the lock fails leaves the telling and the release to the rollback execution: one message', async () => {
    let until = 0;
    const scenario = stopAtHalf('recovery-release-fails', (world) => {
      world.inject({
        service: 'route53',
        operation: 'ChangeResourceRecordSets',
        kind: 'permanent',
        times: 1_000_000,
      });
      // The lock item cannot be written for the first invocation's five minutes.
      until = world.now() + 300_000;
      world.inject({
        service: 'dynamodb',
        operation: 'PutItem',
        kind: 'permanent',
        times: 1_000_000,
        when: (input) =>
          world.now() < until && (input as { Item?: { id?: { S?: string } } }).Item?.id?.S === 'web/prod',
      });
    });
    const { world } = await simulate(scenario);
    // The recovery started the rollback execution but could not hand it the lock: it neither told
    // nor released beside it. The rollback execution told once, and the app is free.
    expect(stoppedMessages(world)).toHaveLength(0);
    expect(world.sns.messages).toHaveLength(1);
    expect(world.dynamodb.items(LOCKS_TABLE).find((item) => item.id === 'web/prod')?.owner).toBeUndefined();
    const lockWrites = world.calls.filter((c) => c.operation === 'PutItem' && c.fn === 'recoverExecution');
    expect(lockWrites.some((c) => c.error && c.at < until)).toBe(true);
  });

  it('whose release fails is retried by Lambda, which only releases: one message', async () => {
    let until = 0;
    const scenario = testScenario('recovery-release-fails', 'ROLLED_BACK', {
      summary: "Stop while baking; the lock item cannot be written for the recovery's first five minutes",
      act: (ctx) => {
        uploadVersion(ctx, '1.1.0');
        ctx.after(300, () => {
          until = ctx.world.now() + 300_000;
          ctx.world.inject({
            service: 'dynamodb',
            operation: 'PutItem',
            kind: 'permanent',
            times: 1_000_000,
            when: (input) =>
              ctx.world.now() < until &&
              (input as { Item?: { id?: { S?: string } } }).Item?.id?.S === 'web/prod',
          });
          stopRunning(ctx);
        });
      },
    });
    const { world } = await simulate(scenario);
    expect(stoppedMessages(world)).toHaveLength(1);
    expect(world.dynamodb.items(LOCKS_TABLE).find((item) => item.id === 'web/prod')?.owner).toBeUndefined();
    // The release failed in the first attempt and succeeded in Lambda's retry.
    const lockWrites = world.calls.filter((c) => c.operation === 'PutItem' && c.fn === 'recoverExecution');
    expect(lockWrites.some((c) => c.error && c.at < until)).toBe(true);
    expect(lockWrites.some((c) => !c.error && c.at >= until)).toBe(true);
  });
});

describe('an upload while a stopped deployment is being recovered', () => {
  it.each([
    ['2 s after the Stop', 2, false],
    ['half a second after the Stop, with a split healed first', 0.5, true],
  ])('waits for the recovery to release the lock (%s), then deploys', async (_when, delay, heal) => {
    const scenario = testScenario('upload-during-recovery', 'SUCCEEDED', {
      summary: 'Stop at 50 %; a newer upload arrives while the recovery restores traffic',
      executions: 2,
      expectLive: '1.2.0',
      ...(heal ? { startWeights: SPLIT_WEIGHTS } : {}),
      prepare: (ctx) => {
        if (heal) {
          ctx.config.traffic = { healSplit: true };
          halfFinishedSlotB(ctx.world);
        }
        greenWeightReaches(ctx.world, 50, () =>
          ctx.after(30, () => {
            const running = runningExecution(ctx);
            if (running) ctx.stop(running.name);
            ctx.after(delay, () => uploadVersion(ctx, '1.2.0'));
          }),
        );
      },
    });
    const { summary } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', liveVersion: '1.2.0', executions: 2 });
    expect(summary.running.other).toBe(0);
  });
});

describe('a deployment that ends while its AMI bakes', () => {
  it('cancels the build when it is stopped', async () => {
    const scenario = testScenario('stopped-while-baking', 'ROLLED_BACK', {
      summary: 'Stop 5 minutes into the bake',
      act: (ctx) => {
        uploadVersion(ctx, '1.1.0');
        ctx.after(300, () => stopRunning(ctx));
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(world.imagebuilder.cancelledCount).toBe(1);
    expect(summary.notifications.at(-1)?.summary).toMatch(/image build arn:aws:imagebuilder:\S+ cancelled/);
  });

  it('finds and cancels the build when it is stopped while the bake task runs, before it said which', async () => {
    const scenario = testScenario('stopped-in-the-bake-task', 'ROLLED_BACK', {
      summary: 'Stop right after CreateImage, before the bake task returns',
      prepare: (ctx) => {
        const imagebuilder = ctx.world.imagebuilder as unknown as Record<string, (input: unknown) => unknown>;
        const create = imagebuilder.CreateImage?.bind(ctx.world.imagebuilder);
        imagebuilder.CreateImage = (input: unknown) => {
          const out = create?.(input);
          const running = runningExecution(ctx);
          if (running) ctx.stop(running.name);
          return out;
        };
      },
    });
    const { world } = await simulate(scenario);
    expect(world.imagebuilder.cancelledCount).toBe(1);
  });

  it('cancels the build when the deployment fails while waiting for it', async () => {
    const scenario = testScenario('failed-while-baking', 'FAILED', {
      summary: 'the wait for the bake cannot be stored (access denied)',
      prepare: ({ world }) => {
        world.inject({
          service: 'dynamodb',
          operation: 'PutItem',
          kind: 'permanent',
          times: 1,
          when: (input) => JSON.stringify(input).includes('bake'),
        });
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.status).toBe('FAILED');
    expect(world.imagebuilder.cancelledCount).toBe(1);
    expect(summary.notifications.at(-1)?.summary).toContain('failed before anything was changed');
  });
});

describe('the lock of a stopped deployment', () => {
  it('is taken over once its grace is over when the recovery never comes, so a newer upload does not wait 6 h', async () => {
    const scenario = testScenario('recovery-never-comes', 'FAILED', {
      summary: 'Stop at 50 %; the recovery never runs; a newer upload arrives 2 s later',
      executions: 2,
      breaksInvariants: true,
      prepare: (ctx) => {
        greenWeightReaches(ctx.world, 50, () =>
          ctx.after(30, () => {
            const running = runningExecution(ctx);
            recoveryNeverComes(ctx.world);
            if (running) ctx.stop(running.name);
            ctx.after(2, () => uploadVersion(ctx, '1.2.0'));
          }),
        );
      },
    });
    const { world } = await simulate(scenario);
    const newer = [...world.sfn.executions.values()].find((e) => e.name.startsWith('web-prod-1_2_0'));
    const waited = ((newer?.stoppedAt ?? 0) - (newer?.startedAt ?? 0)) / 60_000;
    // It asked again each minute, took the lock over after the 20 minutes of grace, and then
    // refused the split the stopped deployment left (its green still takes 50 %), saying so.
    expect(waited).toBeGreaterThanOrEqual(20);
    expect(waited).toBeLessThan(30);
    expect(newer?.cause).toMatch(/both slots carry traffic/);
  });

  it.each([
    // While the first recovery still waits: both recover the same way, and one of them tells
    // (the publication is recorded; the other finds it and publishes nothing).
    ['10 s', 10, 1],
    // After it handed the lock on: the duplicate finds it held by the next deployment.
    ['150 s', 150, 1],
    ['8 minutes', 480, 1],
  ])(
    'is not touched by a duplicate of the Stop event %s later, while the next deployment holds it',
    async (_when, delay, told) => {
      const scenario = testScenario('duplicate-stop-event-with-upload', 'SUCCEEDED', {
        summary: 'Stop at 50 %; a newer upload; the status change delivered again later',
        executions: 2,
        expectLive: '1.2.0',
        prepare: (ctx) => {
          const { world } = ctx;
          stopEventAgain(world, delay);
          greenWeightReaches(world, 50, () =>
            ctx.after(30, () => {
              const running = runningExecution(ctx);
              if (running) ctx.stop(running.name);
              ctx.after(2, () => uploadVersion(ctx, '1.2.0'));
            }),
          );
        },
      });
      const { summary } = await simulate(scenario);
      expect(summary.violations).toEqual([]);
      expect(summary).toMatchObject({ status: 'SUCCEEDED', liveVersion: '1.2.0' });
      expect(
        summary.notifications.filter((n) => n.summary.includes('was rolled back: ABORTED')),
      ).toHaveLength(told);
    },
  );
});

describe('uploads around a stopped deployment', () => {
  it('deploys only the newest: a waiter parked before the Stop is superseded by an upload during the recovery', async () => {
    const scenario = testScenario('newest-wins-across-a-stop', 'SUCCEEDED', {
      summary: '1.1.0 at 50 %; 1.2.0 waits; 1.1.0 stopped; 1.3.0 arrives while it is recovered',
      executions: 3,
      expectLive: '1.3.0',
      prepare: (ctx) => {
        greenWeightReaches(ctx.world, 50, () => {
          uploadVersion(ctx, '1.2.0');
          ctx.after(30, () => {
            stopRelease(ctx, '1.1.0');
            ctx.after(2, () => uploadVersion(ctx, '1.3.0'));
          });
        });
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(executionOf(world, '1.2.0')).toMatchObject({ status: 'FAILED', error: 'DeploymentSuperseded' });
    expect(executionOf(world, '1.2.0')?.states.some((s) => s.name === STATE.plan)).toBe(false);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', liveVersion: '1.3.0' });
  });

  it('hands the lock on even when the resume of the next owner failed and the recovery is retried', async () => {
    const scenario = testScenario('resume-lost-on-release', 'SUCCEEDED', {
      summary:
        '1.1.0 at 50 %; 1.2.0 waits; 1.1.0 stopped; the resume of 1.2.0 is throttled; the recovery runs again',
      executions: 2,
      expectLive: '1.2.0',
      prepare: (ctx) => {
        const { world } = ctx;
        stopEventAgain(world, 60);
        greenWeightReaches(world, 50, () => {
          uploadVersion(ctx, '1.2.0');
          ctx.after(30, () => {
            world.inject({ service: 'sfn', operation: 'SendTaskSuccess', kind: 'throttle', times: 1 });
            stopRelease(ctx, '1.1.0');
          });
        });
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', liveVersion: '1.2.0' });
    const waited = executionOf(world, '1.2.0');
    // It asked again within its 30-minute wait and found itself the owner.
    expect(((waited?.stoppedAt ?? 0) - (waited?.startedAt ?? 0)) / 3_600_000).toBeLessThan(3);
  });

  it('lets a waiter parked before the Stop ask again, so it is not left for 6 h when the recovery never comes', async () => {
    const scenario = testScenario('parked-waiter-recovery-never-comes', 'FAILED', {
      summary: '1.1.0 at 50 %; 1.2.0 waits; 1.1.0 stopped; the recovery never runs',
      executions: 2,
      breaksInvariants: true,
      prepare: (ctx) => {
        greenWeightReaches(ctx.world, 50, () => {
          uploadVersion(ctx, '1.2.0');
          ctx.after(30, () => {
            recoveryNeverComes(ctx.world);
            stopRelease(ctx, '1.1.0');
          });
        });
      },
    });
    const { world } = await simulate(scenario);
    const waiter = executionOf(world, '1.2.0');
    const minutes = ((waiter?.stoppedAt ?? 0) - (waiter?.startedAt ?? 0)) / 60_000;
    // It re-asked at its 30-minute mark, took the lock over and refused the split left behind.
    expect(minutes).toBeLessThan(60);
    expect(waiter?.cause).toMatch(/both slots carry traffic/);
  });
});

describe('stopped around a heal', () => {
  it('names the fleet of the slot being cleared when stopped while it drains', async () => {
    const scenario = testScenario('stopped-during-heal', 'FAILED', {
      summary: 'a split healed toward a; Stop while slot b drains',
      breaksInvariants: true,
      startWeights: SPLIT_WEIGHTS,
      prepare: (ctx) => {
        ctx.config.traffic = { healSplit: true };
        halfFinishedSlotB(ctx.world);
        stopWhenIn(ctx, STATE.drainOtherSlot, 5);
      },
    });
    const { summary } = await simulate(scenario);
    expect(summary.status).toBe('FAILED');
    expect(summary.weights).toEqual({ a: 100, b: 0 });
    expect(summary.cause).toMatch(/Left for a person: slot b instances still running: i-\w+, i-\w+, i-\w+/);
    for (const violation of summary.violations) expect(violation).toMatch(/ invariant 3: /);
  });

  it('rolls a traffic step back even when it recreates the split the deploy found', async () => {
    const scenario = testScenario('stopped-at-a-step-equal-to-the-healed-split', 'ROLLED_BACK', {
      summary: 'a=50 b=50 healed toward a; 1.1.0 takes 50 % on b (a=50 b=50 again); Stop',
      startWeights: { a: 50, b: 50 },
      prepare: (ctx) => {
        ctx.config.traffic = { healSplit: true };
        halfFinishedSlotB(ctx.world);
        let heals = 0;
        ctx.world.hooks.push({
          afterRecordsChange: () => {
            const w = ctx.world.route53.weights(ZONE, appNames().record, 'A');
            if (w.a === 50 && w.b === 50 && ++heals === 1) ctx.after(30, () => stopRunning(ctx));
          },
        });
      },
    });
    const { summary } = await simulate(scenario);
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({
      status: 'ROLLED_BACK',
      weights: { a: 100, b: 0 },
      running: { a: 3, b: 0, other: 0 },
    });
  });
});

describe('a heal retried after its own write', () => {
  it('goes on when the records already hold the heal, though the slot then fails its checks', async () => {
    const scenario = testScenario('heal-response-lost', 'SUCCEEDED', {
      summary: "the heal's write lands, its response is lost; slot a fails its checks right after",
      startWeights: SPLIT_WEIGHTS,
      prepare: ({ world, config }) => {
        config.traffic = { healSplit: true };
        halfFinishedSlotB(world);
        const route53 = world.route53 as unknown as Record<string, (input: unknown) => unknown>;
        const write = route53.ChangeResourceRecordSets?.bind(world.route53);
        let first = true;
        route53.ChangeResourceRecordSets = (input: unknown) => {
          const out = write?.(input);
          if (first) {
            first = false;
            const failing = world.elbv2.failingFrom;
            // Slot a's targets fail their checks from now on: the retry finds no healthy one.
            const long = world.now() - 3_600_000;
            world.elbv2.failingFrom = (x) => (x.tags[TAG.slot] === 'a' ? long : failing(x));
            throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
          }
          return out;
        };
      },
    });
    const { summary } = await simulate(scenario);
    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.cause).toBeNull();
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({
      liveSlot: 'b',
      weights: { a: 0, b: 100 },
      running: { a: 0, b: 3, other: 0 },
    });
  });
});
