import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { World } from '../../sim/world.ts';
import { seedWorld, TARGET_GROUPS } from '../../sim/worlds.ts';

// The simulated EC2 forgets a terminated instance as EC2 does: "Recently terminated instances
// might appear in the returned results. This interval is usually less than one hour."
// (DescribeInstances, EC2 API reference); naming an id it does not know fails the whole call.

const HOUR = 3_600_000;

let world: World;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-03-02T09:00:00Z'));
  world = new World();
  seedWorld(world, { firstDeploy: false });
});

afterEach(() => {
  vi.useRealTimers();
});

/** Blue's first instance (slot a, registered), terminated now. */
function terminateOne(): string {
  const [id = ''] = world.elbv2.activeTargets(TARGET_GROUPS.a);
  world.ec2.TerminateInstances({ InstanceIds: [id] });
  return id;
}

function describedIds(out: { Reservations: { Instances: { InstanceId: string }[] }[] }): string[] {
  return out.Reservations.flatMap((r) => r.Instances.map((i) => i.InstanceId));
}

describe('simulated EC2, a terminated instance', () => {
  it('is still listed as terminated for the first hour, by id and by filter', () => {
    const id = terminateOne();
    vi.setSystemTime(Date.now() + HOUR - 60_000);

    const byId = world.ec2.DescribeInstances({ InstanceIds: [id] });
    const byFilter = world.ec2.DescribeInstances({ Filters: [{ Name: 'instance-id', Values: [id] }] });

    expect(byId.Reservations[0]?.Instances[0]?.State).toEqual({ Name: 'terminated' });
    expect(describedIds(byFilter)).toEqual([id]);
  });

  it('is forgotten an hour after it terminated: a filter leaves it out, naming it fails', () => {
    const id = terminateOne();
    const [other = ''] = world.elbv2.activeTargets(TARGET_GROUPS.a).filter((t) => t !== id);
    vi.setSystemTime(Date.now() + 30_000 + HOUR);

    const byFilter = world.ec2.DescribeInstances({
      Filters: [{ Name: 'instance-id', Values: [id, other] }],
    });
    const byTag = world.ec2.DescribeInstances({ Filters: [{ Name: 'tag:bluegreen:slot', Values: ['a'] }] });

    expect(describedIds(byFilter)).toEqual([other]);
    expect(describedIds(byTag)).not.toContain(id);
    expect(() => world.ec2.DescribeInstances({ InstanceIds: [id] })).toThrow(
      expect.objectContaining({
        name: 'InvalidInstanceID.NotFound',
        message: `The instance ID '${id}' does not exist`,
      }),
    );
    expect(() => world.ec2.DescribeInstances({ InstanceIds: [other, id] })).toThrow(
      expect.objectContaining({ name: 'InvalidInstanceID.NotFound' }),
    );
    expect(() => world.ec2.TerminateInstances({ InstanceIds: [id] })).toThrow(
      expect.objectContaining({ name: 'InvalidInstanceID.NotFound' }),
    );
  });

  it('stays registered in its target group, which ELB reports unused (Target.InvalidState)', () => {
    const id = terminateOne();
    vi.setSystemTime(Date.now() + 2 * HOUR);
    const instance = world.ec2.instances.get(id);

    const health = world.elbv2.DescribeTargetHealth({ TargetGroupArn: TARGET_GROUPS.a });

    expect(instance && world.ec2.listed(instance)).toBe(false);
    expect(health.TargetHealthDescriptions.find((d) => d.Target.Id === id)?.TargetHealth).toMatchObject({
      State: 'unused',
      Reason: 'Target.InvalidState',
    });
  });

  it('that died on its own is forgotten an hour after it died', () => {
    const [id = ''] = world.elbv2.activeTargets(TARGET_GROUPS.a);
    const instance = world.ec2.instances.get(id);
    if (instance) instance.diedAt = Date.now();
    vi.setSystemTime(Date.now() + HOUR + 1000);

    expect(
      describedIds(world.ec2.DescribeInstances({ Filters: [{ Name: 'instance-id', Values: [id] }] })),
    ).toEqual([]);
  });
});
