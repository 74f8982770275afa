import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allGroups, groupActivities } from '#shared/aws/autoscaling.ts';
import { describeAlarms } from '#shared/aws/cloudwatch.ts';
import { findLaunchedInstances, instancesById, tagResources, terminateInstances } from '#shared/aws/ec2.ts';
import { describeTargetHealth, registerTargets } from '#shared/aws/elbv2.ts';
import { MANAGED_BY, TAG } from '#shared/domain/tags.ts';
import { routeClientsTo } from '../../sim/router.ts';
import { type ApiCall, asSomeoneElse, callObservers, World } from '../../sim/world.ts';
import { LAUNCH_TEMPLATE, seedWorld, TARGET_GROUPS } from '../../sim/worlds.ts';

// The service's AWS calls against a simulated account that refuses over-limit batches and pages
// its answers as AWS does (test/unit/sim-limits.test.ts): at fleet sizes past one page or one
// batch, every page is read and every batch stays within its limit.

let world: World;
let sent: { call: ApiCall; input: Record<string, unknown> }[];
const observe = (_world: World, call: ApiCall, input: unknown) =>
  sent.push({ call, input: (input ?? {}) as Record<string, unknown> });

beforeEach(() => {
  world = new World();
  routeClientsTo(world);
  seedWorld(world, { firstDeploy: false });
  sent = [];
  callObservers.add(observe);
});

afterEach(() => {
  callObservers.delete(observe);
});

/** `count` running instances of one fleet the service launched, tagged `fleet=big`. */
function fleet(count: number): string[] {
  const image = [...world.ec2.images.values()][0]?.id ?? '';
  const tags = { [TAG.managedBy]: MANAGED_BY, fleet: 'big' };
  return Array.from(
    { length: count },
    () => world.ec2.seedInstance({ ...tags }, image, Date.now() - 3_600_000).id,
  );
}

function inputsOf(operation: string) {
  return sent.filter((s) => s.call.operation === operation).map((s) => s.input);
}

describe('EC2 calls at fleet scale', () => {
  it('finds 1,500 instances by tag: both pages of 1,000', async () => {
    const launched = fleet(1500);
    const found = await asSomeoneElse(() => findLaunchedInstances({ fleet: 'big' }));
    expect(found.map((i) => i.id).sort()).toEqual([...launched].sort());
    const calls = inputsOf('DescribeInstances');
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.MaxResults === 1000)).toBe(true);
  });

  it('looks 450 instances up by id in filters of at most 200 values', async () => {
    const launched = fleet(450);
    const found = await asSomeoneElse(() => instancesById(launched));
    expect(found).toHaveLength(450);
    const sizes = inputsOf('DescribeInstances').map(
      (c) => (c.Filters as { Values: string[] }[])[0]?.Values.length,
    );
    expect(sizes).toEqual([200, 200, 50]);
  });

  it('terminates 1,500 instances in calls of at most 1,000', async () => {
    const launched = fleet(1500);
    await asSomeoneElse(() => terminateInstances(launched));
    expect(inputsOf('TerminateInstances').map((c) => (c.InstanceIds as string[]).length)).toEqual([
      1000, 500,
    ]);
    expect(launched.every((id) => world.ec2.instances.get(id)?.terminateRequestedAt !== undefined)).toBe(
      true,
    );
  });

  it('tags 1,500 resources in calls of at most 1,000', async () => {
    const launched = fleet(1500);
    await asSomeoneElse(() => tagResources(launched, { checked: 'yes' }));
    expect(inputsOf('CreateTags').map((c) => (c.Resources as string[]).length)).toEqual([1000, 500]);
    expect(launched.every((id) => world.ec2.instances.get(id)?.tags.checked === 'yes')).toBe(true);
  });
});

describe('ELBv2 calls at fleet scale', () => {
  it("registers 1,000 targets (a target group's most) and reads their health in one answer", async () => {
    const launched = fleet(1000);
    await asSomeoneElse(() => registerTargets(TARGET_GROUPS.b, launched));
    const health = await asSomeoneElse(() => describeTargetHealth(TARGET_GROUPS.b, launched));
    expect(health).toHaveLength(1000);
    expect(inputsOf('RegisterTargets')).toHaveLength(1);
    expect(inputsOf('DescribeTargetHealth')).toHaveLength(1);
  });
});

describe('CloudWatch calls at scale', () => {
  it('reads 120 alarms: 100 names a call, every page of 50', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `alarm-${i}`);
    for (const name of names) world.cloudwatch.addAlarm(name);
    const found = await asSomeoneElse(() => describeAlarms(names));
    expect([...found.keys()].sort()).toEqual([...names].sort());
    const calls = inputsOf('DescribeAlarms');
    expect(calls.map((c) => (c.AlarmNames as string[]).length)).toEqual([100, 100, 20]);
  });
});

describe('Auto Scaling calls at scale', () => {
  /** A group of `desired` instances with none launched yet, attached to `targetGroupArns`. */
  function group(name: string, desired: number, targetGroupArns: string[] = []) {
    const image = [...world.ec2.images.values()][0]?.id ?? '';
    return world.autoscaling.seedGroup({
      name,
      launchTemplate: { id: LAUNCH_TEMPLATE.id },
      imageId: image,
      count: 0,
      min: 0,
      max: Math.max(desired, 1),
      desired,
      targetGroupArns,
      subnets: [LAUNCH_TEMPLATE.subnetId],
      tags: {},
      at: Date.now(),
    });
  }

  it("finds the group attached to a target group among the account's 200: both pages of 100", async () => {
    for (let i = 0; i < 200; i++) {
      const name = `group-${String(i).padStart(3, '0')}`;
      group(name, 0, i === 150 ? [TARGET_GROUPS.b] : []);
    }
    const found = (await asSomeoneElse(() => allGroups())).filter((g) =>
      g.targetGroupArns.includes(TARGET_GROUPS.b),
    );
    expect(found.map((g) => g.name)).toEqual(['group-150']);
    const calls = inputsOf('DescribeAutoScalingGroups');
    expect(calls.map((c) => c.MaxRecords)).toEqual([100, 100]);
    expect(calls[0]?.NextToken).toBeUndefined();
    expect(calls[1]?.NextToken).toEqual(expect.any(String));
  });

  it("reads a 1,000-instance group's launch back to its first activity: every page of 100", async () => {
    const since = new Date(Date.now() - 60_000);
    group('big', 1000);
    world.autoscaling.reconcile();
    const activities = await asSomeoneElse(() => groupActivities('big', since));
    expect(activities).toHaveLength(1000);
    expect(activities.every((a) => a.description.startsWith('Launching a new EC2 instance: i-'))).toBe(true);
    expect(inputsOf('DescribeScalingActivities')).toHaveLength(10);
  });
});
