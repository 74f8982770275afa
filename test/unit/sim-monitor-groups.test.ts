import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { validateConfig } from '#shared/domain/config.ts';
import { MANAGED_BY, TAG } from '#shared/domain/tags.ts';
import type { SimGroup } from '../../sim/aws/autoscaling.ts';
import { groupsLeftAtEnd, SafetyMonitor, type WatchedApp } from '../../sim/monitor.ts';
import { actor, asSomeoneElse, World } from '../../sim/world.ts';
import { APP, defaultConfig, ENV, LAUNCH_TEMPLATE, seedWorld, TARGET_GROUPS } from '../../sim/worlds.ts';

// The safety monitor with group fleets (fleet.kind autoScalingGroup): what a group does by itself
// (replacing a member that fails its checks) is not the service retiring blue; a member not yet in
// service counts for its slot; a green group made by an execution is its launch; and at the end
// no group of the app/env is left but the live slot's.

const DAY = 86_400_000;

let world: World;
let watched: WatchedApp;
let monitor: SafetyMonitor;
let ami: string;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-03-02T09:00:00Z'));
  world = new World();
  // Slot a carries all traffic; blue is a group, not bare instances.
  seedWorld(world, { firstDeploy: false, blueCount: 0 });
  ami = world.ec2.addImage('web-1.0.0', {}).id;
  const parsed = validateConfig(defaultConfig());
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  watched = { app: APP, env: ENV, config: parsed.config };
  monitor = new SafetyMonitor(world, watched);
});

afterEach(() => {
  vi.useRealTimers();
});

function advance(seconds: number): void {
  vi.setSystemTime(Date.now() + seconds * 1000);
}

const tagsOf = (slot: 'a' | 'b', version: string) => ({
  [TAG.managedBy]: MANAGED_BY,
  [TAG.app]: APP,
  [TAG.env]: ENV,
  [TAG.slot]: slot,
  [TAG.version]: version,
});

function blueGroup(): SimGroup {
  return world.autoscaling.seedGroup({
    name: 'bluegreen-web-prod-a-1.0.0-00000000',
    launchTemplate: { id: LAUNCH_TEMPLATE.id },
    imageId: ami,
    count: 3,
    targetGroupArns: [TARGET_GROUPS.a],
    subnets: ['subnet-0a1b2c3d4e5f60718'],
    tags: tagsOf('a', '1.0.0'),
    at: Date.now() - DAY,
  });
}

/** Green's group in slot b, made by `execution` (its call is the execution's, not a role's). */
async function greenGroup(execution: string, name = 'bluegreen-web-prod-b-1.1.0-11111111'): Promise<void> {
  await actor.run(execution, () =>
    asSomeoneElse(() =>
      world.call('autoscaling', 'CreateAutoScalingGroup', {
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateId: LAUNCH_TEMPLATE.id, Version: blue.launchTemplate.version },
        MinSize: 2,
        MaxSize: 2,
        DesiredCapacity: 2,
        VPCZoneIdentifier: 'subnet-0a1b2c3d4e5f60718',
        TargetGroupARNs: [TARGET_GROUPS.b],
        HealthCheckType: 'ELB',
        HealthCheckGracePeriod: 60,
        Tags: Object.entries(tagsOf('b', '1.1.0')).map(([Key, Value]) => ({
          Key,
          Value,
          PropagateAtLaunch: true,
        })),
      }),
    ),
  );
}

let blue: SimGroup;

beforeEach(() => {
  blue = blueGroup();
});

describe('safety monitor, group fleets', () => {
  it("a group replacing blue's member that fails its checks is not blue retired: no breach", () => {
    const [sick = ''] = blue.members.keys();
    const failingFrom = Date.now();
    world.elbv2.failingFrom = (i) => (i.id === sick ? failingFrom : undefined);
    advance(30);
    world.reconcileGroups();
    expect(blue.members.get(sick)?.lifecycleState).toBe('Terminating');

    advance(300);
    world.reconcileGroups();

    expect(world.ec2.state(world.ec2.instances.get(sick) as never)).toBe('shutting-down');
    expect(monitor.violations).toEqual([]);
  });

  it("a member not yet in service counts for its group's slot; one the group is taking out, for none", async () => {
    await greenGroup('web-prod-1-1-0-deploy');

    expect(monitor.fleets()).toEqual({ a: 3, b: 2, other: 0 });

    // A draining replacement in slot a is still running, and is nobody's orphan.
    const [sick = ''] = blue.members.keys();
    world.elbv2.failingFrom = (i) => (i.id === sick ? Date.now() - 60_000 : undefined);
    world.reconcileGroups();
    expect(blue.members.get(sick)?.lifecycleState).toBe('Terminating');
    expect(monitor.fleets()).toEqual({ a: 3, b: 2, other: 0 });
  });

  it('an execution that made a group launched: its termination of blue is judged as retiring blue', async () => {
    await greenGroup('web-prod-1-1-0-deploy');
    const [member = ''] = blue.members.keys();
    world.elbv2.DeregisterTargets({ TargetGroupArn: TARGET_GROUPS.a, Targets: [{ Id: member }] });

    actor.run('web-prod-1-1-0-deploy', () => world.ec2.TerminateInstances({ InstanceIds: [member] }));

    expect(monitor.violations).toEqual([
      expect.stringMatching(
        new RegExp(`invariant 2: blue ${member} terminated while slot b does not carry all traffic$`),
      ),
    ]);
  });

  it('force-deleting a group whose slot carries traffic terminates instances still registered there', async () => {
    await asSomeoneElse(() =>
      world.call('autoscaling', 'DeleteAutoScalingGroup', {
        AutoScalingGroupName: blue.name,
        ForceDelete: true,
      }),
    );

    // Judged as blue retired too (invariant 2); what matters here is invariant 3, for each.
    expect(monitor.violations.filter((v) => v.includes('invariant 3'))).toEqual(
      [...blue.members.keys()].map((id) =>
        expect.stringMatching(
          new RegExp(`invariant 3: ${id} terminated while registered in slot a, which carries traffic$`),
        ),
      ),
    );
  });

  it('at the end, no group of the app/env is left but the live slot one', async () => {
    await greenGroup('web-prod-1-1-0-deploy');

    expect(groupsLeftAtEnd(world, watched, 'a')).toEqual([
      "invariant 3: Auto Scaling group bluegreen-web-prod-b-1.1.0-11111111 (slot b, 2 instance(s)) is left at the end, where only the live slot a's group may be",
    ]);

    await asSomeoneElse(() =>
      world.call('autoscaling', 'DeleteAutoScalingGroup', {
        AutoScalingGroupName: 'bluegreen-web-prod-b-1.1.0-11111111',
        ForceDelete: true,
      }),
    );
    expect(groupsLeftAtEnd(world, watched, 'a')).toEqual([]);
    expect(groupsLeftAtEnd(world, watched, undefined)).toEqual([
      expect.stringMatching(
        /^invariant 3: Auto Scaling group bluegreen-web-prod-a-1\.0\.0-00000000 .* where no slot is live$/,
      ),
    ]);
  });
});
