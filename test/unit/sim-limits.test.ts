import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TARGETS_PER_GROUP } from '../../sim/aws/elbv2.ts';
import { Ec2RateLimits, SlidingWindowLimit, TokenBucket } from '../../sim/aws/throttling.ts';
import { asSomeoneElse, World } from '../../sim/world.ts';
import { LAUNCH_TEMPLATE, seedWorld, TARGET_GROUPS } from '../../sim/worlds.ts';

// The simulated account refuses what AWS refuses (batches over their documented limits) and
// throttles as AWS throttles (EC2's token buckets, Route 53's five requests a second), so a
// caller that does not batch, page or retry fails in the simulator as it would in AWS.

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

function later(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

/** `count` running instances tagged as one fleet. */
function fleet(count: number): string[] {
  const image = [...world.ec2.images.values()][0]?.id ?? '';
  return Array.from(
    { length: count },
    () => world.ec2.seedInstance({ fleet: 'big' }, image, Date.now() - 3_600_000).id,
  );
}

function nextToken(out: object): string | undefined {
  return (out as { NextToken?: string }).NextToken;
}

function ids(out: { Reservations: { Instances: { InstanceId: string }[] }[] }): string[] {
  return out.Reservations.flatMap((r) => r.Instances.map((i) => i.InstanceId));
}

describe('simulated EC2 DescribeInstances', () => {
  it('pages its answer at MaxResults and hands out the rest under NextToken', () => {
    const launched = fleet(1200);
    const filter = [{ Name: 'tag:fleet', Values: ['big'] }];

    const first = world.ec2.DescribeInstances({ Filters: filter, MaxResults: 1000 });
    const second = world.ec2.DescribeInstances({
      Filters: filter,
      MaxResults: 1000,
      NextToken: nextToken(first) ?? '',
    });

    expect(ids(first)).toHaveLength(1000);
    expect(nextToken(first)).toBeDefined();
    expect(ids(second)).toHaveLength(200);
    expect(nextToken(second)).toBeUndefined();
    expect([...ids(first), ...ids(second)].sort()).toEqual([...launched].sort());
  });

  it('answers everything at once without MaxResults', () => {
    fleet(1200);
    const out = world.ec2.DescribeInstances({ Filters: [{ Name: 'tag:fleet', Values: ['big'] }] });
    expect(ids(out)).toHaveLength(1200);
    expect(out).not.toHaveProperty('NextToken');
  });

  it('refuses MaxResults with InstanceIds, or outside 5-1000', () => {
    const [id = ''] = fleet(1);
    expect(() => world.ec2.DescribeInstances({ InstanceIds: [id], MaxResults: 5 })).toThrow(
      expect.objectContaining({ name: 'InvalidParameterCombination' }),
    );
    for (const MaxResults of [4, 1001])
      expect(() => world.ec2.DescribeInstances({ MaxResults })).toThrow(
        expect.objectContaining({ name: 'InvalidParameterValue' }),
      );
  });

  it('refuses a filter of more than 200 values', () => {
    const many = fleet(201);
    expect(() =>
      world.ec2.DescribeInstances({ Filters: [{ Name: 'instance-id', Values: many }], MaxResults: 1000 }),
    ).toThrow(
      expect.objectContaining({
        name: 'InvalidParameterValue',
        message: expect.stringMatching(/at most 200/),
      }),
    );
  });
});

describe('simulated EC2 batches', () => {
  it('refuses to terminate more than 1,000 instances in one call', () => {
    const many = fleet(1001);
    expect(() => world.ec2.TerminateInstances({ InstanceIds: many })).toThrow(/at most 1000/);
    expect(many.every((id) => world.ec2.instances.get(id)?.terminateRequestedAt === undefined)).toBe(true);
  });

  it('refuses to tag more than 1,000 resources in one call', () => {
    const many = fleet(1001);
    expect(() => world.ec2.CreateTags({ Resources: many, Tags: [{ Key: 'k', Value: 'v' }] })).toThrow(
      /at most 1000/,
    );
  });
});

describe('simulated ELBv2 target groups', () => {
  it(`hold at most ${TARGETS_PER_GROUP} targets: a registration past it fails with TooManyTargets`, () => {
    const group = TARGET_GROUPS.b;
    const first = fleet(TARGETS_PER_GROUP);
    world.elbv2.RegisterTargets({ TargetGroupArn: group, Targets: first.map((Id) => ({ Id })) });
    const [one = ''] = fleet(1);

    expect(() => world.elbv2.RegisterTargets({ TargetGroupArn: group, Targets: [{ Id: one }] })).toThrow(
      expect.objectContaining({ name: 'TooManyTargets' }),
    );
    // Registering one already there again is idempotent, not one more.
    world.elbv2.RegisterTargets({ TargetGroupArn: group, Targets: [{ Id: first[0] ?? '' }] });
    expect(world.elbv2.activeTargets(group)).toHaveLength(TARGETS_PER_GROUP);
  });
});

describe('simulated Auto Scaling', () => {
  function group(name: string, desired: number) {
    const image = [...world.ec2.images.values()][0]?.id ?? '';
    return world.autoscaling.seedGroup({
      name,
      launchTemplate: { id: LAUNCH_TEMPLATE.id },
      imageId: image,
      count: 0,
      min: 0,
      max: Math.max(desired, 1),
      desired,
      targetGroupArns: [],
      subnets: [LAUNCH_TEMPLATE.subnetId],
      tags: {},
      at: Date.now(),
    });
  }

  it('pages groups 50 at a time by default and 100 at most: MaxRecords 101 is refused', () => {
    for (let i = 0; i < 120; i++) group(`group-${String(i).padStart(3, '0')}`, 0);
    const first = world.autoscaling.DescribeAutoScalingGroups({});
    const rest = world.autoscaling.DescribeAutoScalingGroups({
      MaxRecords: 100,
      NextToken: first.NextToken ?? '',
    });
    expect(first.AutoScalingGroups).toHaveLength(50);
    expect(rest.AutoScalingGroups).toHaveLength(70);
    expect(rest.NextToken).toBeUndefined();
    expect(() => world.autoscaling.DescribeAutoScalingGroups({ MaxRecords: 101 })).toThrow(
      expect.objectContaining({ name: 'ValidationError' }),
    );
  });

  it('holds at most 500 groups in the Region (the default quota): one more is refused until one is gone', () => {
    for (let i = 0; i < 500; i++) group(`group-${String(i).padStart(3, '0')}`, 0);
    const create = () =>
      world.autoscaling.CreateAutoScalingGroup({
        AutoScalingGroupName: 'one-more',
        LaunchTemplate: { LaunchTemplateId: LAUNCH_TEMPLATE.id, Version: '$Default' },
        MinSize: 0,
        MaxSize: 1,
        VPCZoneIdentifier: LAUNCH_TEMPLATE.subnetId,
      });
    expect(create).toThrow(expect.objectContaining({ name: 'LimitExceededFault' }));
    world.autoscaling.DeleteAutoScalingGroup({ AutoScalingGroupName: 'group-000' });
    create();
    expect(world.autoscaling.groups.has('one-more')).toBe(true);
  });

  it("keeps a 1,000-instance group's launches, and no activity past six weeks", () => {
    group('big', 1000);
    world.autoscaling.reconcile();
    const all = (NextToken?: string) =>
      world.autoscaling.DescribeScalingActivities({
        AutoScalingGroupName: 'big',
        ...(NextToken ? { NextToken } : {}),
      });
    let page = all();
    let activities = page.Activities.length;
    while (page.NextToken) {
      page = all(page.NextToken);
      activities += page.Activities.length;
    }
    expect(activities).toBe(1000);
    later(6 * 7 * 86_400_000 + 1000);
    expect(all().Activities).toEqual([]);
  });
});

describe('simulated CloudWatch DescribeAlarms', () => {
  it('pages 50 alarms at a time (MaxRecords default) and refuses more than 100 names', () => {
    const names = Array.from({ length: 80 }, (_, i) => `alarm-${i}`);
    for (const name of names) world.cloudwatch.addAlarm(name);

    const first = world.cloudwatch.DescribeAlarms({ AlarmNames: names });
    const second = world.cloudwatch.DescribeAlarms({ AlarmNames: names, NextToken: first.NextToken ?? '' });

    expect(first.MetricAlarms).toHaveLength(50);
    expect(second.MetricAlarms).toHaveLength(30);
    expect(second.NextToken).toBeUndefined();
    expect(() =>
      world.cloudwatch.DescribeAlarms({ AlarmNames: Array.from({ length: 101 }, (_, i) => `a${i}`) }),
    ).toThrow(/less than or equal to 100/);
  });
});

describe('simulated Route 53 change batches', () => {
  it('refuse more than 1,000 ResourceRecord elements, an UPSERT counting twice', () => {
    const zone = [...world.route53.zones.keys()][0] ?? '';
    const records = Array.from({ length: 501 }, (_, i) => ({ Value: `192.0.2.${i % 250}` }));
    const change = (Action: string) => ({
      HostedZoneId: zone,
      ChangeBatch: {
        Changes: [
          { Action, ResourceRecordSet: { Name: 'big.example.com', Type: 'A', ResourceRecords: records } },
        ],
      },
    });
    expect(() => world.route53.ChangeResourceRecordSets(change('UPSERT'))).toThrow(
      expect.objectContaining({ name: 'InvalidChangeBatch' }),
    );
    expect(world.route53.ChangeResourceRecordSets(change('CREATE')).ChangeInfo.Status).toBe('PENDING');
  });
});

describe('token buckets', () => {
  it('admit a burst of the capacity, then the refill rate; a refused request takes nothing', () => {
    const bucket = new TokenBucket(5, 2, 0);
    const burst = Array.from({ length: 7 }, () => bucket.take(0));
    expect(burst).toEqual([true, true, true, true, true, false, false]);
    // Two refused requests took no tokens: a second later there are exactly two.
    expect([bucket.take(1000), bucket.take(1000), bucket.take(1000)]).toEqual([true, true, false]);
  });

  it("EC2: RunInstances' request bucket holds 5 and refills 2 a second; DescribeInstances' holds 100", () => {
    const limits = new Ec2RateLimits(() => Date.now());
    const runs = Array.from({ length: 6 }, () => limits.admitRequest('RunInstances', {}));
    const filtered = { Filters: [{ Name: 'tag:app', Values: ['web'] }] };
    const describes = Array.from({ length: 101 }, () => limits.admitRequest('DescribeInstances', filtered));
    expect(runs.filter(Boolean)).toHaveLength(5);
    expect(describes.filter(Boolean)).toHaveLength(100);
    // Unfiltered and unpaginated, DescribeInstances draws on its own smaller bucket (50).
    const bare = Array.from({ length: 51 }, () => limits.admitRequest('DescribeInstances', {}));
    expect(bare.filter(Boolean)).toHaveLength(50);
    later(1000);
    expect([limits.admitRequest('RunInstances', {}), limits.admitRequest('RunInstances', {})]).toEqual([
      true,
      true,
    ]);
    expect(limits.admitRequest('RunInstances', {})).toBe(false);
  });

  it('EC2: 1,000 instances launch at once, then 2 a second (the RunInstances resource bucket)', async () => {
    world.ec2.rateLimits = new Ec2RateLimits(() => Date.now());
    const image = [...world.ec2.images.values()][0]?.id ?? '';
    const template = [...world.ec2.launchTemplates.values()][0]?.id ?? '';
    const launch = (count: number, token: string) =>
      asSomeoneElse(() =>
        world.call('ec2', 'RunInstances', {
          LaunchTemplate: { LaunchTemplateId: template },
          ImageId: image,
          MinCount: 1,
          MaxCount: count,
          ClientToken: token,
        }),
      );

    await launch(1000, 'a');
    later(1000);
    await expect(launch(3, 'b')).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
    // The retry with the same token, once the bucket has refilled, launches them.
    later(1000);
    const out = (await launch(3, 'b')) as { Instances: unknown[] };
    expect(out.Instances).toHaveLength(3);
  });

  it('Route 53: five admitted requests in any second; the throttled ones do not count', () => {
    const limit = new SlidingWindowLimit(5);
    const at = (t: number) => limit.take(t);
    expect([0, 100, 200, 300, 400, 500, 600].map(at)).toEqual([true, true, true, true, true, false, false]);
    // The first admitted request leaves the window at 1,000 ms: one more fits, not three.
    expect([1000, 1000].map(at)).toEqual([true, false]);
  });

  it('Route 53: the account throttles its sixth request in a second with Throttling', async () => {
    world.route53RatePerSecond = 5;
    const zone = [...world.route53.zones.keys()][0] ?? '';
    const list = () =>
      asSomeoneElse(() => world.call('route53', 'ListResourceRecordSets', { HostedZoneId: zone }));
    for (let i = 0; i < 5; i++) await list();
    await expect(list()).rejects.toMatchObject({ name: 'Throttling' });
    later(1000);
    await expect(list()).resolves.toBeDefined();
  });
});
