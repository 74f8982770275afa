import { configKey } from '#shared/domain/artifact-key.ts';
import { STATE, type StateName } from '#shared/domain/states.ts';
import { TAG } from '#shared/domain/tags.ts';
import type { Slot } from '#shared/domain/traffic.ts';
import type { ApproverBehaviour, TerminalAnswer } from './approver.ts';
import { actor, lambdaFunction } from './world.ts';
import {
  ALARM,
  APP,
  APPROVER_ROLE,
  APPROVERS,
  alarmAfterGreenReaches,
  alarmFiringAfter,
  alarmOk,
  approvalBeforeShift,
  BUCKET,
  blueDiesThenAlarm,
  blueFailsChecks,
  ENV,
  greenWeightReaches,
  halfFinishedSlotB,
  LARGEST_FLEET,
  largestConfig,
  longestAllowed,
  loseLockItem,
  redeployRelease,
  releaseKey,
  type ScenarioContext,
  SPLIT_WEIGHTS,
  slowDrain,
  stopAfterGreenReaches,
  stopRunning,
  TARGET_GROUPS,
  terminalApprovalBeforeShift,
  uploadRelease,
  uploadVersion,
  whenNoneRuns,
} from './worlds.ts';

// The scenario table: each scenario's world (built in worlds.ts), what it uploads and what it must
// end with. `npm run simulate -- --scenario NAME` runs one; test/workflow/scenarios.test.ts runs all.

/** How a scenario ended: what the run reports and the scenario expects. */
export type Status = 'SUCCEEDED' | 'ROLLED_BACK' | 'FAILED' | 'IGNORED';

export interface Scenario {
  name: string;
  summary: string;
  expect: Status;
  /** How many executions must have started (default 1, 0 when IGNORED). */
  executions?: number;
  /** No blue fleet, weights 0/0: the app's first release. */
  firstDeploy?: boolean;
  /**
   * The world is the built-in app in traffic.mode alb: one load balancer whose listener forwards to
   * both slots' target groups by weight, with target group stickiness (worlds.ts albConfig);
   * `rule`: a rule of the listener does (listener.ruleArn).
   */
  alb?: boolean | 'rule';
  /**
   * The built-in app with fleet.kind autoScalingGroup: blue is a group an earlier deployment made
   * (worlds.ts seedBlueGroup), green a new one.
   */
  asg?: boolean;
  /** Weights the records start with (default a=100 b=0). */
  startWeights?: Record<Slot, number>;
  /** Blue's size (default 3). */
  blueCount?: number;
  /** Nothing may be launched, changed or terminated. */
  changesNothing?: boolean;
  /** How approvers (or link scanners) answer approval links; set with an approval config. */
  approvers?: ApproverBehaviour;
  /** Who answers from a terminal, when the approval config names IAM principals. */
  terminal?: TerminalAnswer[];
  /** The scenario breaks the safety invariants on purpose (a rollback that cannot finish). */
  breaksInvariants?: boolean;
  /** The version that must serve all traffic at the end. */
  expectLive?: string | undefined;
  /** A person answers in a browser (`--serve`): virtual time stands still while they decide. */
  needsPerson?: boolean;
  /**
   * It runs with any valid config of the user's (`simulate --config`): nothing in it depends on
   * the built-in web/prod's names, fleet or steps.
   */
  anyConfig?: boolean;
  /**
   * Wait states Step Functions ends late (a regional incident): each lasts this many virtual
   * seconds instead of its own time, every time it runs.
   */
  lateWaits?: Partial<Record<StateName, number>>;
  /** Changes the world (faults, timings) and the config before anything is uploaded. */
  prepare?(ctx: ScenarioContext): void;
  /** Uploads and delivers; by default release 1.1.0 is uploaded and its event delivered once. */
  act?(ctx: ScenarioContext): void;
}

/**
 * 1.1.0 uploaded; once no execution runs, the person fixes what the alarm was about and 1.2.0 is
 * uploaded `afterSeconds` later.
 */
function nextUploadOnceAlarmOk(afterSeconds: number): (ctx: ScenarioContext) => void {
  return (ctx) => {
    uploadRelease(ctx);
    whenNoneRuns(ctx, () => {
      alarmOk(ctx.world);
      uploadVersion(ctx, '1.2.0', afterSeconds);
    });
  };
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'happy',
    summary: 'Release 1.1.0 replaces 1.0.0: bake, launch, 10/50/100 %, one-hour window, blue terminated.',
    expect: 'SUCCEEDED',
    anyConfig: true,
  },
  {
    name: 'first-deploy',
    summary: 'No fleet yet and both weights 0: green goes to 100 % at once, nothing to terminate.',
    expect: 'SUCCEEDED',
    anyConfig: true,
    firstDeploy: true,
  },
  {
    name: 'alb-happy',
    summary:
      'traffic.mode alb: 1.1.0 replaces 1.0.0 behind one listener, 10/50/100 % by ModifyListener with no DNS wait; blue goes once sticky clients have left and the window has passed.',
    expect: 'SUCCEEDED',
    alb: true,
  },
  {
    name: 'alb-alarm-during-shift',
    summary:
      'traffic.mode alb: the 5xx alarm fires while green takes 50 %: one ModifyListener puts 100 on blue, green is terminated once sticky clients have left it.',
    expect: 'ROLLED_BACK',
    alb: true,
    prepare: ({ world }) => {
      alarmAfterGreenReaches(world, 50, 90, 'Threshold Crossed: 5xx rate 4.2 % > 1 %');
    },
  },
  {
    name: 'alb-rule-happy',
    summary:
      'traffic.mode alb with listener.ruleArn: a rule of a shared listener forwards to both target groups; 10/50/100 % by one ModifyRule each, the listener itself untouched.',
    expect: 'SUCCEEDED',
    alb: 'rule',
  },
  {
    name: 'alb-first-deploy',
    summary:
      'traffic.mode alb: the listener answers with a fixed response (no release yet): green goes to 100 % in one ModifyListener, nothing to terminate.',
    expect: 'SUCCEEDED',
    alb: true,
    firstDeploy: true,
  },
  {
    name: 'alb-stopped-by-operator',
    summary:
      'traffic.mode alb: an operator presses Stop 30 s after green takes 50 %: the rollback the recovery starts puts 100 on blue in one call, green terminated, lock released.',
    expect: 'ROLLED_BACK',
    alb: true,
    prepare: (ctx) => {
      stopAfterGreenReaches(ctx, 50);
    },
  },
  {
    name: 'asg-happy',
    summary:
      "fleet.kind autoScalingGroup: green is a new group made like blue's (3 instances, its scaling policy, the ELB health check), both held at their size through 10/50/100 %; after the window blue's group is detached, drained and deleted.",
    expect: 'SUCCEEDED',
    asg: true,
  },
  {
    name: 'asg-capacity-shortfall',
    summary:
      "fleet.kind autoScalingGroup: EC2 has capacity for 2 of green's 3 instances; the group's launch fails with EC2's reason and the deploy rolls back with it, green's group deleted.",
    expect: 'ROLLED_BACK',
    asg: true,
    prepare: ({ world }) => {
      world.ec2.capacity = 2;
    },
  },
  {
    name: 'asg-alarm-during-shift',
    summary:
      "fleet.kind autoScalingGroup: the 5xx alarm fires while green takes 50 %: traffic returns to blue's group (held at its size), green's group is detached and deleted.",
    expect: 'ROLLED_BACK',
    asg: true,
    prepare: ({ world }) => {
      alarmAfterGreenReaches(world, 50, 90, 'Threshold Crossed: 5xx rate 4.2 % > 1 %');
    },
  },
  {
    name: 'asg-instance-replaced',
    summary:
      'fleet.kind autoScalingGroup: a green instance starts failing its health checks once green takes 10 %; the group replaces it (ELB health check) and the deploy goes on to 100 %.',
    expect: 'SUCCEEDED',
    asg: true,
    prepare: ({ world }) => {
      greenWeightReaches(world, 10, () => {
        const [failing] = [...world.ec2.instances.values()].filter(
          (i) => i.tags[TAG.version] === '1.1.0' && i.terminateRequestedAt === undefined,
        );
        const from = world.now();
        world.elbv2.failingFrom = (instance) => (instance.id === failing?.id ? from : undefined);
      });
    },
  },
  {
    name: 'asg-stopped-by-operator',
    summary:
      "fleet.kind autoScalingGroup: an operator presses Stop 30 s after green takes 50 %: the rollback the recovery starts returns traffic to blue's group, deletes green's and lets blue's scale again.",
    expect: 'ROLLED_BACK',
    asg: true,
    prepare: (ctx) => {
      stopAfterGreenReaches(ctx, 50);
    },
  },
  {
    name: 'asg-first-deploy',
    summary:
      "fleet.kind autoScalingGroup, no fleet yet: green's group is made in the config's subnets, sized by instanceCount, and takes 100 % at once.",
    expect: 'SUCCEEDED',
    asg: true,
    firstDeploy: true,
  },
  {
    name: 'asg-alb-happy',
    summary:
      "fleet.kind autoScalingGroup with traffic.mode alb: green's group behind the one listener, 10/50/100 % by ModifyListener; blue's group deleted once sticky clients have left and the window has passed.",
    expect: 'SUCCEEDED',
    asg: true,
    alb: true,
  },
  {
    name: 'bake-fails',
    summary: 'The Image Builder build fails after 12 minutes: nothing launched, the execution fails.',
    expect: 'FAILED',
    anyConfig: true,
    prepare: ({ world }) => {
      world.imagebuilder.failure = {
        afterMinutes: 12,
        reason:
          'Component bluegreen-install-artifact failed at step InstallArtifact: ./install.sh exited with 1',
      };
    },
  },
  {
    name: 'capacity-shortfall',
    summary: 'EC2 can launch only 2 of the 3 green instances: rolled back, the 2 terminated.',
    expect: 'ROLLED_BACK',
    prepare: ({ world }) => {
      world.ec2.capacity = 2;
    },
  },
  {
    name: 'green-unhealthy',
    summary: 'Green instances boot but fail their health checks: rolled back at the health timeout.',
    expect: 'ROLLED_BACK',
    anyConfig: true,
    prepare: ({ world }) => {
      world.elbv2.failingFrom = (instance) =>
        instance.tags[TAG.version] === '1.1.0' ? instance.launchedAt : undefined;
    },
  },
  {
    name: 'alarm-during-shift',
    summary: 'The 5xx alarm fires while green takes 50 %: traffic returns to blue, green terminated.',
    expect: 'ROLLED_BACK',
    prepare: ({ world }) => {
      alarmAfterGreenReaches(world, 50, 90, 'Threshold Crossed: 5xx rate 4.2 % > 1 %');
    },
  },
  {
    name: 'rollback-resumed-late',
    summary:
      'As alarm-during-shift, and Step Functions resumes the rollback 12 hours late while resolvers leave green (a regional incident): it ends rolled back, past the time its config allows, and every task after that counts DeploymentOverrun.',
    expect: 'ROLLED_BACK',
    lateWaits: { [STATE.leaveGreen]: 12 * 3600 },
    prepare: ({ world }) => {
      alarmAfterGreenReaches(world, 50, 90, 'Threshold Crossed: 5xx rate 4.2 % > 1 %');
    },
  },
  {
    name: 'release-key-rewritten',
    summary:
      'Release 1.1.0 is uploaded, then 1.1.0 again with other bits 5 minutes later: the first deploys its own bits, the second is refused before anything launches.',
    expect: 'FAILED',
    executions: 2,
    expectLive: '1.1.0',
    act: (ctx) => {
      uploadRelease(ctx);
      ctx.after(300, () =>
        ctx.deliver([ctx.upload(releaseKey('1.1.0'), 'PK\u0003\u0004 web 1.1.0, rebuilt')]),
      );
    },
  },
  {
    name: 'blue-dies-then-alarm',
    summary:
      "Green takes 100 %, blue's instances all die, then the alarm fires: green keeps the traffic (blue cannot take it), and what is left for a person never says to move traffic to blue.",
    expect: 'FAILED',
    expectLive: '1.1.0',
    prepare: blueDiesThenAlarm,
  },
  {
    name: 'next-upload-after-blue-died',
    summary:
      "As blue-dies-then-alarm; once the alarm is OK again, 1.2.0 is uploaded: blue's dead instances still registered in slot a do not block it (they are ours and dead), the launch deregisters them, and 1.2.0 deploys to slot a.",
    expect: 'SUCCEEDED',
    executions: 2,
    expectLive: '1.2.0',
    prepare: blueDiesThenAlarm,
    act: nextUploadOnceAlarmOk(60),
  },
  {
    name: 'next-upload-hours-after-blue-died',
    summary:
      "As blue-dies-then-alarm, but 1.2.0 is uploaded two hours after the alarm is OK again: EC2 no longer lists blue's dead instances, still registered in slot a; targets whose instance is gone serve nothing and do not block it, the launch deregisters them, and 1.2.0 deploys to slot a.",
    expect: 'SUCCEEDED',
    executions: 2,
    expectLive: '1.2.0',
    prepare: blueDiesThenAlarm,
    act: nextUploadOnceAlarmOk(2 * 3600),
  },
  {
    name: 'blue-instance-dies-in-window',
    summary:
      "One of blue's instances dies during the termination window: blue is retired all the same (its dead target deregistered with the rest), and the next upload, 1.2.0, deploys into slot a.",
    expect: 'SUCCEEDED',
    executions: 2,
    expectLive: '1.2.0',
    prepare: ({ world }) =>
      greenWeightReaches(world, 100, () => {
        const blue = [...world.ec2.instances.values()].find((i) => i.tags[TAG.version] === '1.0.0');
        if (blue) blue.diedAt = world.now() + 10 * 60_000;
      }),
    act: (ctx) => {
      uploadRelease(ctx);
      whenNoneRuns(ctx, () => uploadVersion(ctx, '1.2.0', 60));
    },
  },
  {
    name: 'alarm-with-partly-healthy-blue',
    summary:
      "One of blue's three instances fails its checks while green takes 10 %, then the 5xx alarm fires at 50 %: green failed, so traffic returns to blue's two healthy targets and green is terminated.",
    expect: 'ROLLED_BACK',
    expectLive: '1.0.0',
    prepare: ({ world }) => {
      greenWeightReaches(world, 10, () => blueFailsChecks(world, 1));
      alarmAfterGreenReaches(world, 50, 90);
    },
  },
  {
    name: 'stopped-with-partly-healthy-blue',
    summary:
      "One of blue's three instances fails its checks while green takes 10 %, then an operator presses Stop at 50 %: a person's Stop is a verdict on green, so the recovery returns traffic to blue's two healthy targets.",
    expect: 'ROLLED_BACK',
    expectLive: '1.0.0',
    prepare: (ctx) => {
      greenWeightReaches(ctx.world, 10, () => blueFailsChecks(ctx.world, 1));
      stopAfterGreenReaches(ctx, 50);
    },
  },
  {
    name: 'alarm-with-unhealthy-blue',
    summary:
      "All of blue's instances fail their checks while green takes 10 %, then the 5xx alarm fires at 50 %: blue has no healthy target, so the rollback leaves the traffic where it is and says what is left.",
    expect: 'FAILED',
    breaksInvariants: true,
    prepare: ({ world }) => {
      greenWeightReaches(world, 10, () => blueFailsChecks(world, 3));
      alarmAfterGreenReaches(world, 50, 90);
    },
  },
  {
    name: 'alarm-before-launch',
    summary:
      'The 5xx alarm fires while the AMI bakes and stays: green is never launched, no traffic moves, and the cause says the alarm fired before traffic moved.',
    expect: 'ROLLED_BACK',
    prepare: alarmFiringAfter(5),
  },
  {
    name: 'alarm-before-first-shift',
    summary:
      'The 5xx alarm fires while green boots: no traffic moves to green, green is removed, and the cause says the alarm fired before traffic moved.',
    expect: 'ROLLED_BACK',
    // The standard bake ends at 20 minutes; green then boots and passes its checks.
    prepare: alarmFiringAfter(21),
  },
  {
    name: 'alarm-during-termination-wait',
    summary: 'The 5xx alarm fires 25 minutes into the termination window: blue takes traffic back.',
    expect: 'ROLLED_BACK',
    prepare: ({ world }) => {
      alarmAfterGreenReaches(world, 100, 25 * 60, 'Threshold Crossed: 5xx rate 2.0 % > 1 %');
    },
  },
  {
    name: 'route53-slow',
    summary:
      'Route 53 takes 10 minutes to get each change INSYNC: the first step gives up after 3 minutes and rolls back, and the rollback waits for its change, so green is removed.',
    expect: 'ROLLED_BACK',
    prepare: ({ world }) => {
      world.route53.propagationSeconds = 600;
    },
  },
  {
    name: 'route53-slow-blue-weakened',
    summary:
      "Route 53 takes 10 minutes per change, and two of blue's three instances fail their checks as the first step is written: the rollback rule would not let blue take the traffic back, so each step's change is waited for up to 30 minutes instead of giving up into a split, and 1.1.0 deploys.",
    expect: 'SUCCEEDED',
    expectLive: '1.1.0',
    prepare: ({ world }) => {
      world.route53.propagationSeconds = 600;
      greenWeightReaches(world, 10, () => blueFailsChecks(world, 2));
    },
  },
  {
    name: 'route53-slow-blue-weakened-alarm',
    summary:
      "As route53-slow-blue-weakened, and the alarm fires 5 minutes into the first step's longer wait: it is seen on the next poll of the change, and the rollback (a verdict on green) returns all traffic to blue's one healthy instance.",
    expect: 'ROLLED_BACK',
    prepare: ({ world }) => {
      world.route53.propagationSeconds = 600;
      greenWeightReaches(world, 10, () => {
        blueFailsChecks(world, 2);
        world.cloudwatch.setState(
          ALARM,
          'ALARM',
          'Threshold Crossed: 5xx rate 2.0 % > 1 %',
          world.now() + 300_000,
        );
      });
    },
  },
  {
    name: 'route53-slow-green-fails-in-longer-wait',
    summary:
      "As route53-slow-blue-weakened, with 25 minutes per change, and green's instances fail their checks 4 minutes into the first step's longer wait: the next poll of the change sees green below its minimum and rolls back to blue's one healthy instance, not 20 minutes later at INSYNC.",
    expect: 'ROLLED_BACK',
    prepare: ({ world }) => {
      world.route53.propagationSeconds = 1500;
      greenWeightReaches(world, 10, () => {
        blueFailsChecks(world, 2);
        const at = world.now() + 240_000;
        const before = world.elbv2.failingFrom;
        world.elbv2.failingFrom = (instance) =>
          instance.tags[TAG.version] === '1.1.0' ? at : before(instance);
      });
    },
  },
  {
    name: 'throttled',
    summary: 'Route 53 and EC2 throttle the first calls of several operations; the retries absorb it.',
    expect: 'SUCCEEDED',
    anyConfig: true,
    prepare: ({ world }) => {
      for (const operation of ['ChangeResourceRecordSets', 'GetChange', 'ListResourceRecordSets']) {
        world.inject({ service: 'route53', operation, kind: 'throttle', times: 2 });
      }
      for (const operation of ['RunInstances', 'DescribeInstances', 'TerminateInstances']) {
        world.inject({ service: 'ec2', operation, kind: 'throttle', times: 2 });
      }
      world.inject({ service: 'elbv2', operation: 'DescribeTargetHealth', kind: 'throttle', times: 1 });
    },
  },
  {
    name: 'duplicate-event',
    summary: 'S3 delivers the same upload event twice, 45 s apart: one execution runs.',
    expect: 'SUCCEEDED',
    anyConfig: true,
    executions: 1,
    act: (ctx) => {
      const record = uploadRelease(ctx);
      ctx.deliver([record], 45);
    },
  },
  {
    name: 'bad-config',
    summary:
      'config/web/prod.json breaks the schema in two places: the execution fails in Plan, naming both.',
    expect: 'FAILED',
    changesNothing: true,
    prepare: ({ config }) => {
      config.traffic = { steps: [10, 50] };
      config.slots.b.targetGroupArn = 'web-prod-b';
    },
  },
  {
    name: 'bad-key',
    summary:
      'Uploads with hostile keys (uppercase and space, ../ traversal, broken encoding): ignored, each told once on the topic.',
    expect: 'IGNORED',
    executions: 0,
    changesNothing: true,
    act: (ctx) => {
      const records = [
        ctx.upload('releases/Web App/prod/1.1.0.zip'),
        ctx.upload('releases/web/prod/../../config/web/prod.zip'),
        ctx.upload('releases/web/prod/1.1.0.zip.exe'),
      ];
      const broken = ctx.upload('releases/web/prod/1.2.0.zip');
      broken.s3.object.key = 'releases/web/prod/%E0%A4%A.zip';
      ctx.deliver([...records, broken]);
    },
  },
  {
    name: 'unknown-app-env',
    summary:
      'A release of billing/prod, which has no config, delivered twice: ignored before any lock is taken, told once.',
    expect: 'IGNORED',
    executions: 0,
    changesNothing: true,
    act: (ctx) => {
      const record = ctx.upload(releaseKey('1.1.0', 'zip', 'billing'), 'PK\u0003\u0004 billing 1.1.0');
      ctx.deliver([record]);
      ctx.deliver([record], 45);
    },
  },
  {
    name: 'redeploy-earlier-release',
    summary:
      '1.1.0 deploys, then 1.2.0; then an operator redeploys 1.1.0 (request undo-1): its AMI is reused, no build, and 1.1.0 is live again.',
    expect: 'SUCCEEDED',
    executions: 3,
    expectLive: '1.1.0',
    act: (ctx) => {
      uploadRelease(ctx);
      whenNoneRuns(ctx, () => {
        uploadVersion(ctx, '1.2.0');
        whenNoneRuns(ctx, () => void redeployRelease(ctx, '1.1.0', 'undo-1'));
      });
    },
  },
  {
    name: 'concurrent-uploads',
    summary:
      '1.1.0, 1.2.0 and 1.3.0 uploaded 20 s apart: 1.1.0 deploys, 1.2.0 is superseded, 1.3.0 goes live after.',
    expect: 'SUCCEEDED',
    executions: 3,
    act: (ctx) => {
      for (const [i, version] of ['1.1.0', '1.2.0', '1.3.0'].entries()) {
        ctx.after(i * 20, () => uploadVersion(ctx, version));
      }
    },
    expectLive: '1.3.0',
  },
  {
    name: 'lock-lost-second-deploy',
    summary:
      'The lock item is deleted while 1.1.0 bakes, and 1.2.0 is uploaded: 1.2.0 finds slot b claimed by 1.1.0 at launch and stops, launching nothing; 1.1.0 deploys untouched.',
    expect: 'ROLLED_BACK',
    executions: 2,
    act: (ctx) => {
      uploadRelease(ctx);
      ctx.after(60, () => {
        loseLockItem(ctx.world);
        uploadVersion(ctx, '1.2.0');
      });
    },
    expectLive: '1.1.0',
  },
  {
    name: 'foreign-instance-in-green',
    summary:
      "While green takes 10 %, an instance the service did not launch is registered in slot b: the step's check stops the deploy naming it, traffic returns to blue and only 1.1.0's instances go.",
    expect: 'ROLLED_BACK',
    prepare: (ctx) => {
      const { world } = ctx;
      // A minute after the write, as the step settles: someone registers an instance by hand.
      greenWeightReaches(world, 10, () =>
        ctx.after(60, () => {
          const stranger = world.ec2.seedInstance(
            { Name: 'hand-made' },
            'ami-0abcdef1234567890',
            world.now() - 600_000,
          );
          world.elbv2.targetGroups
            .get(TARGET_GROUPS.b)
            ?.registrations.set(stranger.id, { registeredAt: world.now() });
        }),
      );
    },
  },
  {
    name: 'slots-of-another-app',
    summary:
      "api/prod's config is a copy of web/prod's, slots and all: api's first release is refused in Plan, naming web/prod, and launches nothing; web/prod 1.1.0 deploys.",
    expect: 'FAILED',
    executions: 2,
    act: (ctx) => {
      uploadRelease(ctx);
      ctx.world.s3.put(BUCKET, configKey('api', ENV), JSON.stringify(ctx.config, null, 2));
      ctx.after(60, () =>
        ctx.deliver([ctx.upload(releaseKey('1.1.0', 'zip', 'api'), 'PK\u0003\u0004 api 1.1.0')]),
      );
    },
    expectLive: '1.1.0',
  },
  {
    name: 'stopped-by-operator',
    summary:
      'An operator presses Stop 30 s after green takes 50 %: traffic back to blue, green terminated, lock released.',
    expect: 'ROLLED_BACK',
    prepare: (ctx) => {
      stopAfterGreenReaches(ctx, 50);
    },
  },
  {
    name: 'stopped-rollback-fails',
    summary:
      'An operator presses Stop 30 s after green takes 50 %, and Route 53 refuses every change from then on: the rollback execution fails and says what is left.',
    expect: 'FAILED',
    breaksInvariants: true,
    prepare: (ctx) => {
      greenWeightReaches(ctx.world, 50, () =>
        ctx.after(30, () => {
          ctx.world.inject({
            service: 'route53',
            operation: 'ChangeResourceRecordSets',
            kind: 'permanent',
            times: 1_000_000,
          });
          stopRunning(ctx);
        }),
      );
    },
  },
  {
    name: 'rollback-fails',
    summary:
      'The alarm fires at 50 % and Route 53 refuses every change from then on: the rollback fails and says what is left.',
    expect: 'FAILED',
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
          service: 'route53',
          operation: 'ChangeResourceRecordSets',
          kind: 'transient',
          times: 1_000_000,
        });
      });
    },
  },
  {
    name: 'blue-termination-fails',
    summary:
      'EC2 refuses to terminate blue after the window: green stays live, the cause lists the blue instances left.',
    expect: 'FAILED',
    breaksInvariants: true,
    prepare: ({ world }) => {
      world.inject({
        service: 'ec2',
        operation: 'TerminateInstances',
        kind: 'permanent',
        times: 1_000_000,
        when: (input) =>
          ((input as { InstanceIds?: string[] }).InstanceIds ?? []).some(
            (id) => world.ec2.instances.get(id)?.tags[TAG.version] === '1.0.0',
          ),
      });
    },
  },
  {
    name: 'slow-drain',
    summary:
      'Clients that ignore DNS keep calling blue: it is terminated only after the 5-minute deregistration delay.',
    expect: 'SUCCEEDED',
    prepare: ({ world }) => slowDrain(world),
  },
  {
    name: 'stopped-while-blue-drains',
    summary:
      'As slow-drain, and an operator presses Stop while blue drains: blue cannot serve again, so green stays live and what is left of blue is named.',
    expect: 'FAILED',
    breaksInvariants: true,
    expectLive: '1.1.0',
    prepare: (ctx) => {
      slowDrain(ctx.world);
      const running = () => [...ctx.world.sfn.executions.values()].find((e) => e.status === 'RUNNING');
      const stopOnceBlueDrains = () => {
        const execution = running();
        if (!execution) return;
        if (ctx.world.calls.some((c) => c.operation === 'DeregisterTargets')) ctx.stop(execution.name);
        else ctx.after(30, stopOnceBlueDrains);
      };
      greenWeightReaches(ctx.world, 100, () => ctx.after(30, stopOnceBlueDrains));
    },
  },
  {
    name: 'split-traffic-at-start',
    summary:
      'Both slots carry traffic when the upload arrives (a=60 b=40): refused, the weights shown, nothing changed.',
    expect: 'FAILED',
    changesNothing: true,
    startWeights: { a: 60, b: 40 },
  },
  {
    name: 'shortest-allowed',
    summary:
      'Every wait the schema allows at 0 (step wait, record TTL, termination window): still succeeds, every timeout valid.',
    expect: 'SUCCEEDED',
    expectLive: '1.1.0',
    prepare: ({ config }) => {
      config.traffic = { steps: [50, 100], stepWaitSeconds: 0 };
      config.termination = { waitSeconds: 0 };
      if (config.dns) config.dns = { ...config.dns, ttlSeconds: 0 };
    },
  },
  {
    name: 'longest-allowed',
    summary:
      'Every limit at its maximum: a split healed first, a 4 h bake, 1 h health, 10 steps of 1 h, a 48 h window, two approvals, a slow drain.',
    expect: 'SUCCEEDED',
    startWeights: SPLIT_WEIGHTS,
    prepare: (ctx) => longestAllowed(ctx),
    approvers: { kind: 'approve', afterMinutes: 10_000, comment: 'Checked.' },
  },
  {
    name: 'longest-rollback',
    summary:
      'As longest-allowed, then the alarm fires at the last check of the window: the longest rollback.',
    expect: 'ROLLED_BACK',
    startWeights: SPLIT_WEIGHTS,
    prepare: (ctx) => {
      longestAllowed(ctx);
      greenWeightReaches(ctx.world, 100, () =>
        ctx.world.cloudwatch.setState(
          ALARM,
          'ALARM',
          'Threshold Crossed',
          ctx.world.now() + (172_800 - 600) * 1000,
        ),
      );
    },
    approvers: { kind: 'approve', afterMinutes: 10_000, comment: 'Checked.' },
  },
  {
    name: 'largest-config',
    summary:
      'The largest config the schema allows (100 long alarm names, 20 approvers, 10 steps, a 4 KiB install command), a split healed first, 1,000 instances: every state stays small.',
    expect: 'SUCCEEDED',
    startWeights: SPLIT_WEIGHTS,
    blueCount: LARGEST_FLEET,
    expectLive: '1.1.0',
    prepare: (ctx) => largestConfig(ctx),
    approvers: { kind: 'approve', afterMinutes: 5, comment: 'Checked.' },
  },
  {
    name: 'split-traffic-heal',
    summary:
      'Both slots carry traffic (a=60 b=40), healSplit is on: all to the healthier a, b cleared, then 1.1.0 deploys to b.',
    expect: 'SUCCEEDED',
    startWeights: SPLIT_WEIGHTS,
    expectLive: '1.1.0',
    prepare: ({ world, config }) => {
      config.traffic = { healSplit: true };
      halfFinishedSlotB(world);
    },
  },
  {
    name: 'lock-lost-during-heal',
    summary:
      "Both slots carry traffic (a=60 b=40), healSplit is on: 1.1.0 heals toward a and lets slot b drain (a 30-minute deregistration delay); meanwhile the lock item is deleted and 1.2.0 is uploaded: it finds slot b claimed by 1.1.0's heal and stops in Plan, launching nothing; 1.1.0 clears b and deploys.",
    expect: 'FAILED',
    executions: 2,
    startWeights: SPLIT_WEIGHTS,
    expectLive: '1.1.0',
    prepare: ({ world, config }) => {
      config.traffic = { healSplit: true };
      halfFinishedSlotB(world);
      const b = world.elbv2.targetGroups.get(TARGET_GROUPS.b);
      if (b) b.deregistrationDelaySeconds = 1800;
    },
    act: (ctx) => {
      uploadRelease(ctx);
      // Once the heal took slot b's fleet out of service, two minutes into its drain.
      const whileBDrains = () => {
        if (ctx.world.calls.some((c) => c.operation === 'DeregisterTargets' && !c.error)) {
          ctx.after(120, () => {
            loseLockItem(ctx.world);
            uploadVersion(ctx, '1.2.0');
          });
        } else ctx.after(10, whileBDrains);
      };
      ctx.after(10, whileBDrains);
    },
  },
  {
    name: 'lock-lost-two-heals',
    summary:
      "Both slots carry traffic (a=60 b=40), healSplit is on; 1.1.0's heal meets Route 53 throttling before it starts, and meanwhile the lock item is deleted and 1.2.0 uploaded: 1.2.0 heals first and claims slot b; 1.1.0's heal finds b claimed by 1.2.0, which still runs, and stops with SlotInUse, moving and clearing nothing; 1.2.0 deploys.",
    expect: 'SUCCEEDED',
    executions: 2,
    startWeights: SPLIT_WEIGHTS,
    expectLive: '1.2.0',
    prepare: ({ world, config }) => {
      config.traffic = { healSplit: true };
      halfFinishedSlotB(world);
      world.inject({
        service: 'route53',
        operation: 'ListResourceRecordSets',
        kind: 'throttle',
        times: 3,
        when: () =>
          lambdaFunction.getStore() === 'healSplit' &&
          (actor.getStore() ?? '').startsWith(`${APP}-${ENV}-1_1_0-`),
      });
    },
    act: (ctx) => {
      uploadRelease(ctx);
      ctx.after(0, () => {
        loseLockItem(ctx.world);
        uploadVersion(ctx, '1.2.0');
      });
    },
  },
  {
    name: 'approval-approved',
    summary: 'Approval before the first shift: Alice opens her link 20 minutes later and approves.',
    expect: 'SUCCEEDED',
    anyConfig: true,
    prepare: approvalBeforeShift,
    approvers: { kind: 'approve', afterMinutes: 20, comment: 'Canary dashboards look good.' },
  },
  {
    name: 'approval-rejected',
    summary: 'Approval before the first shift: Alice rejects with a comment; green is removed.',
    expect: 'ROLLED_BACK',
    anyConfig: true,
    prepare: approvalBeforeShift,
    approvers: {
      kind: 'reject',
      afterMinutes: 20,
      comment: 'Release notes are missing the schema migration.',
    },
  },
  {
    name: 'approval-terminal',
    summary:
      'Approval before the first shift, by link or from a terminal: a session of the approver role runs `bluegreen approve` 15 minutes later.',
    expect: 'SUCCEEDED',
    prepare: terminalApprovalBeforeShift,
    terminal: [
      {
        as: { role: APPROVER_ROLE, session: 'alice' },
        decision: 'approve',
        afterMinutes: 15,
        comment: 'Canary dashboards look good.',
      },
    ],
  },
  {
    name: 'approval-timeout',
    summary: 'Nobody answers within 24 hours: the deploy rolls back, traffic never moved.',
    expect: 'ROLLED_BACK',
    anyConfig: true,
    prepare: approvalBeforeShift,
    approvers: { kind: 'ignore' },
  },
  {
    name: 'approval-prefetch',
    summary: 'A mail scanner fetches every link on delivery: nothing is approved, the wait times out.',
    expect: 'ROLLED_BACK',
    anyConfig: true,
    prepare: approvalBeforeShift,
    approvers: { kind: 'prefetch' },
  },
  {
    name: 'upload-behind-late-approval',
    summary:
      '1.1.0 waits for approval to shift traffic, answered after 20 hours; 1.2.0 is uploaded an hour in: it waits for the lock all that time, then deploys.',
    expect: 'SUCCEEDED',
    executions: 2,
    expectLive: '1.2.0',
    prepare: approvalBeforeShift,
    approvers: { kind: 'approve', afterMinutes: 20 * 60, comment: 'Signed off after the change board.' },
    act: (ctx) => {
      uploadRelease(ctx);
      ctx.after(3600, () => uploadVersion(ctx, '1.2.0'));
    },
  },
  {
    name: 'approval-both-stages',
    summary: 'Approval before the shift and before blue is terminated: Alice approves both.',
    expect: 'SUCCEEDED',
    prepare: ({ config }) => {
      config.approval = { before: ['traffic-shift', 'blue-termination'], approvers: APPROVERS };
    },
    approvers: { kind: 'approve', afterMinutes: 5, comment: 'Go.' },
  },
  {
    name: 'approval-response-lost',
    summary:
      "Approval before the shift and before blue goes: each approval takes effect but its response is lost and the SDK's retry meets the used token; the page reads the history and tells Alice she approved.",
    expect: 'SUCCEEDED',
    prepare: ({ world, config }) => {
      config.approval = { before: ['traffic-shift', 'blue-termination'], approvers: APPROVERS };
      world.inject({
        service: 'sfn',
        operation: 'SendTaskSuccess',
        kind: 'response-lost-then-retried',
        times: 2,
        // Only the approval page's answers carry an approver.
        when: (input) => String((input as { output?: string }).output).includes('"approver"'),
      });
    },
    approvers: { kind: 'approve', afterMinutes: 5, comment: 'Go.' },
  },
  {
    name: 'approval-manual',
    summary: 'Approval before the shift and before blue goes; you decide in a browser (needs --serve PORT).',
    expect: 'SUCCEEDED',
    needsPerson: true,
    prepare: ({ config }) => {
      config.approval = { before: ['traffic-shift', 'blue-termination'], approvers: APPROVERS };
    },
    // The commit and change note CI sends with the upload (x-amz-meta-*), shown to the approver.
    act: (ctx) => {
      uploadRelease(ctx, 0, {
        metadata: {
          commit: '3f9c2ab',
          changes: 'Checkout retries a declined card once; the cart total is right for <3 items.',
        },
      });
    },
  },
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
