import { describe, expect, it } from 'vitest';
import { STATE } from '#shared/domain/states.ts';
import { TAG } from '#shared/domain/tags.ts';
import type { SimGroup } from '../../sim/aws/autoscaling.ts';
import { findScenario, type Scenario } from '../../sim/scenarios.ts';
import { simulate } from '../../sim/simulate.ts';
import type { World } from '../../sim/world.ts';
import { appNames, BLUE_POLICY, LAUNCH_TEMPLATE } from '../../sim/worlds.ts';

// fleet.kind autoScalingGroup, end to end: the real ASL and handlers against the simulated account
// whose Auto Scaling launches, registers, replaces and deletes on its own time. What the groups look
// like at the end is checked here; the safety monitor judges every step (no group left but the
// live slot's among them).

const names = appNames();

function scenario(name: string): Scenario {
  const found = findScenario(name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
}

/** The app's groups of a release, by the version they were tagged with. */
function groupsOf(world: World, version: string): SimGroup[] {
  return [...world.autoscaling.groups.values()].filter((g) => g.tags[TAG.version] === version);
}

const live = (groups: SimGroup[]) => groups.filter((g) => g.deletingSince === undefined);

describe('fleet.kind autoScalingGroup', () => {
  it("asg-happy: green's group is made like blue's, both held through the shift, blue's deleted with its version", async () => {
    const { summary, world } = await simulate(scenario('asg-happy'));
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', liveSlot: 'b', running: { a: 0, b: 3, other: 0 } });
    const [green, ...more] = live(groupsOf(world, '1.1.0'));
    expect(more).toEqual([]);
    expect(green).toBeDefined();
    const g = green as SimGroup;
    expect(g.name).toMatch(/^bluegreen-web-prod-b-1\.1\.0-[0-9a-f]{8}$/);
    expect(g.targetGroupArns).toEqual([names.targetGroups.b]);
    expect({ min: g.min, max: g.max, desired: g.desired }).toEqual({ min: 2, max: 6, desired: 3 });
    expect(g.healthCheckType).toBe('ELB');
    // Blue's processes suspended while traffic moved; green's minimum held at its size, then blue's
    // minimum again once it is the live fleet. Green's own processes never suspended.
    expect([...g.suspended]).toEqual([]);
    const suspends = world.calls.filter((c) => c.operation === 'SuspendProcesses' && !c.error);
    expect(suspends.length).toBe(1);
    const created = world.calls.filter((c) => c.operation === 'CreateAutoScalingGroup' && !c.error);
    expect(created.length).toBe(1);
    const minimums = world.calls.filter((c) => c.operation === 'UpdateAutoScalingGroup' && !c.error);
    expect(minimums.map((c) => c.fn)).toEqual(['deregisterBlue']);
    // Blue's target tracking policy, on green's own target group.
    const policy = g.policies.find((p) => p.PolicyName === BLUE_POLICY) as
      | { TargetTrackingConfiguration: { PredefinedMetricSpecification: { ResourceLabel: string } } }
      | undefined;
    expect(policy?.TargetTrackingConfiguration.PredefinedMetricSpecification.ResourceLabel).toContain(
      names.targetGroups.b.slice(names.targetGroups.b.indexOf('targetgroup/')),
    );
    // Blue's group is gone (or on its way), and the version made for it deleted; green's stays.
    expect(live(groupsOf(world, '1.0.0'))).toEqual([]);
    // The template keeps its own version 1 and green's; the one blue's group was made from is gone.
    const template = world.ec2.launchTemplates.get(LAUNCH_TEMPLATE.id);
    expect([...(template?.versions.keys() ?? [])].sort()).toEqual([1, Number(g.launchTemplate.version)]);
    expect(Number(g.launchTemplate.version)).toBeGreaterThan(2);
    // Green's instances run the baked AMI from the version the service made.
    const amis = new Set(
      [...world.ec2.instances.values()].filter((i) => i.tags[TAG.version] === '1.1.0').map((i) => i.imageId),
    );
    expect(amis.size).toBe(1);
  });

  it('with launchTemplate.version $Latest, a launch delivered twice makes one version and one group', async () => {
    const base = scenario('asg-happy');
    const { summary, world } = await simulate(
      {
        ...base,
        name: 'asg-latest-delivered-twice',
        prepare: (ctx) => {
          ctx.config.launchTemplate = { ...ctx.config.launchTemplate, version: '$Latest' };
        },
      },
      {
        // At-least-once: the launch runs twice; the second finds the version the first made.
        intercept: async (call, invoke) => {
          if (call.state !== STATE.launch) return invoke();
          await invoke();
          return invoke();
        },
      },
    );
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('SUCCEEDED');
    const made = world.calls.filter((c) => c.operation === 'CreateLaunchTemplateVersion' && !c.error);
    expect(made).toHaveLength(1);
    expect(
      world.calls.some((c) => c.operation === 'DescribeLaunchTemplateVersions' && c.fn === 'launchGreen'),
    ).toBe(true);
    expect(live(groupsOf(world, '1.1.0'))).toHaveLength(1);
  });

  it('asg-instance-replaced: the group replaces the failing green instance and the deploy goes on', async () => {
    const { summary, world } = await simulate(scenario('asg-instance-replaced'));
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('SUCCEEDED');
    const [green] = live(groupsOf(world, '1.1.0'));
    const replaced = (green?.activities ?? []).filter(
      (a) => a.description.startsWith('Terminating EC2 instance') && /ELB system health check/.test(a.cause),
    );
    expect(replaced.length).toBe(1);
    // The replacement serves: 3 healthy at the end, 4 ever launched for 1.1.0.
    const launched = [...world.ec2.instances.values()].filter((i) => i.tags[TAG.version] === '1.1.0');
    expect(launched.length).toBe(4);
    expect(summary.running).toEqual({ a: 0, b: 3, other: 0 });
  });

  it("asg-capacity-shortfall: rolled back with the group's launch failure, green's group deleted", async () => {
    const { summary, world } = await simulate(scenario('asg-capacity-shortfall'));
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('ROLLED_BACK');
    expect(summary.cause).toContain('CapacityShortfall');
    expect(summary.cause).toContain('sufficient capacity');
    expect(live(groupsOf(world, '1.1.0'))).toEqual([]);
    // Blue's group serves alone again, free to scale.
    const [blue] = live(groupsOf(world, '1.0.0'));
    expect(blue?.targetGroupArns).toEqual([names.targetGroups.a]);
    expect([...(blue?.suspended ?? [])]).toEqual([]);
  });

  it("asg-alarm-during-shift: traffic back on blue's group, green's detached and deleted, blue released", async () => {
    const { summary, world } = await simulate(scenario('asg-alarm-during-shift'));
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({
      status: 'ROLLED_BACK',
      liveSlot: 'a',
      running: { a: 3, b: 0, other: 0 },
    });
    expect(live(groupsOf(world, '1.1.0'))).toEqual([]);
    expect(world.calls.some((c) => c.operation === 'DetachLoadBalancerTargetGroups' && !c.error)).toBe(true);
    const [blue] = live(groupsOf(world, '1.0.0'));
    expect([...(blue?.suspended ?? [])]).toEqual([]);
  });

  it("a rollback that cannot finish names the groups left: green's to delete rather than its instances, blue's still held", async () => {
    const base = scenario('rollback-fails');
    const { summary, world } = await simulate({ ...base, name: 'asg-rollback-fails', asg: true });
    expect(summary.status).toBe('FAILED');
    const [green] = live(groupsOf(world, '1.1.0'));
    const [blue] = live(groupsOf(world, '1.0.0'));
    expect(summary.cause).toContain('Left for a person:');
    expect(summary.cause).toContain(`green's Auto Scaling group ${green?.name} is still there`);
    expect(summary.cause).toContain(`blue's Auto Scaling group ${blue?.name} is still there`);
    expect([...(blue?.suspended ?? [])].sort()).toEqual(['AlarmNotification', 'ScheduledActions']);
  });

  it("asg-first-deploy: green's group in the config's subnets, sized by instanceCount, never held", async () => {
    const { summary, world } = await simulate(scenario('asg-first-deploy'));
    expect(summary.violations).toEqual([]);
    expect(summary.status).toBe('SUCCEEDED');
    const [green] = live(groupsOf(world, '1.1.0'));
    expect(green?.subnets).toBe(LAUNCH_TEMPLATE.subnetId);
    expect(green?.desired).toBe(1);
    expect(world.calls.some((c) => c.operation === 'SuspendProcesses')).toBe(false);
  });
});
