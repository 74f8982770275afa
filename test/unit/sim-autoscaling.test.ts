import type {
  Activity,
  AutoScalingGroup,
  DescribeAutoScalingGroupsCommandOutput,
  DescribeScalingActivitiesCommandOutput,
} from '@aws-sdk/client-auto-scaling';
import type {
  CreateLaunchTemplateVersionCommandOutput,
  DeleteLaunchTemplateVersionsCommandOutput,
  DescribeLaunchTemplatesCommandOutput,
} from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SimInstance } from '../../sim/aws/ec2.ts';
import { actor, asSomeoneElse, lambdaFunction, World } from '../../sim/world.ts';
import { LAUNCH_TEMPLATE, seedWorld, TARGET_GROUPS } from '../../sim/worlds.ts';

// The simulated Auto Scaling, driven through the world's calls as the service's clients make them,
// on virtual time: a group launches toward its desired capacity through the EC2 model, brings a
// running member into service in its target group, replaces what fails its checks and goes with
// its instances when force-deleted.

const GROUP = 'bluegreen-web-prod-b-1.1.0-0123abcd';
const TAGS = { 'bluegreen:app': 'web', 'bluegreen:env': 'prod', 'bluegreen:slot': 'b' };

let world: World;
let ami: string;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-03-02T09:00:00Z'));
  world = new World();
  seedWorld(world, { firstDeploy: true });
  ami = world.ec2.addImage('web-1.1.0', {}).id;
});

afterEach(() => {
  vi.useRealTimers();
});

function advance(seconds: number): void {
  vi.setSystemTime(Date.now() + seconds * 1000);
}

// The test's own calls are a person's, not a function's (the IAM evaluation leaves them out).
async function asg<T = Record<string, unknown>>(operation: string, input: unknown): Promise<T> {
  return (await asSomeoneElse(() => world.call('autoscaling', operation, input))) as T;
}

async function ec2<T = Record<string, unknown>>(operation: string, input: unknown): Promise<T> {
  return (await asSomeoneElse(() => world.call('ec2', operation, input))) as T;
}

/** A launch template version with green's AMI, as the service makes one. */
async function versionWithImage(token = 'token-1'): Promise<string> {
  const out = await ec2<CreateLaunchTemplateVersionCommandOutput>('CreateLaunchTemplateVersion', {
    LaunchTemplateId: LAUNCH_TEMPLATE.id,
    SourceVersion: '$Default',
    LaunchTemplateData: { ImageId: ami },
    VersionDescription: 'bluegreen web/prod 1.1.0',
    ClientToken: token,
  });
  return String(out.LaunchTemplateVersion?.VersionNumber);
}

async function createGroup(
  overrides: Record<string, unknown> = {},
  name = GROUP,
  version?: string,
): Promise<void> {
  await asg('CreateAutoScalingGroup', {
    AutoScalingGroupName: name,
    LaunchTemplate: { LaunchTemplateId: LAUNCH_TEMPLATE.id, Version: version ?? (await versionWithImage()) },
    MinSize: 2,
    MaxSize: 4,
    DesiredCapacity: 2,
    VPCZoneIdentifier: 'subnet-0a1b2c3d4e5f60718',
    TargetGroupARNs: [TARGET_GROUPS.b],
    HealthCheckType: 'ELB',
    HealthCheckGracePeriod: 120,
    Tags: Object.entries(TAGS).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })),
    ...overrides,
  });
}

async function describeGroup(name = GROUP): Promise<AutoScalingGroup | undefined> {
  const out = await asg<DescribeAutoScalingGroupsCommandOutput>('DescribeAutoScalingGroups', {
    AutoScalingGroupNames: [name],
  });
  return out.AutoScalingGroups?.[0];
}

async function activities(name = GROUP): Promise<Activity[]> {
  const out = await asg<DescribeScalingActivitiesCommandOutput>('DescribeScalingActivities', {
    AutoScalingGroupName: name,
  });
  return out.Activities ?? [];
}

const memberIds = (group: AutoScalingGroup | undefined) => (group?.Instances ?? []).map((i) => i.InstanceId);

function registered(arn: string): string[] {
  return world.elbv2.activeTargets(arn);
}

describe('simulated Auto Scaling, a new group', () => {
  it('launches its desired capacity Pending, then brings each running instance InService, registered', async () => {
    const version = await versionWithImage();
    await createGroup({}, GROUP, version);

    const pending = await describeGroup();
    expect(pending?.Instances?.map((i) => [i.LifecycleState, i.HealthStatus])).toEqual([
      ['Pending', 'Healthy'],
      ['Pending', 'Healthy'],
    ]);
    expect(registered(TARGET_GROUPS.b)).toEqual([]);
    const [first] = memberIds(pending);
    const instance = world.ec2.instances.get(first ?? '');
    expect(instance).toMatchObject({
      imageId: ami,
      launchTemplate: LAUNCH_TEMPLATE.id,
      launchTemplateVersion: Number(version),
      tags: { ...TAGS, 'aws:autoscaling:groupName': GROUP },
    });

    advance(world.ec2.bootSeconds);
    const inService = await describeGroup();

    expect(inService?.Instances?.map((i) => i.LifecycleState)).toEqual(['InService', 'InService']);
    expect(inService?.Instances?.[0]?.LaunchTemplate).toEqual({
      LaunchTemplateId: LAUNCH_TEMPLATE.id,
      LaunchTemplateName: LAUNCH_TEMPLATE.name,
      Version: version,
    });
    expect(registered(TARGET_GROUPS.b).sort()).toEqual(memberIds(inService).sort());
    const launches = await activities();
    expect(launches.map((a) => [a.Description, a.StatusCode])).toEqual(
      memberIds(inService)
        .reverse()
        .map((id) => [`Launching a new EC2 instance: ${id}`, 'Successful']),
    );
    expect(launches[0]?.Cause).toMatch(
      /a user request created an AutoScalingGroup changing the desired capacity from 0 to 2\..*increasing the capacity from 1 to 2\.$/,
    );
  });

  it('is AlreadyExists while a group of its name exists, and refuses sizes out of order', async () => {
    await createGroup();

    await expect(createGroup()).rejects.toMatchObject({ name: 'AlreadyExistsFault' });
    await expect(
      createGroup({ MinSize: 3, MaxSize: 2, DesiredCapacity: 2 }, 'bluegreen-other'),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'Max bound, 2, must be greater than or equal to min bound, 3',
    });
    await expect(createGroup({ DesiredCapacity: 5 }, 'bluegreen-other')).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'Desired capacity:5 must be between the specified min size:2 and max size:4',
    });
    await expect(
      createGroup({ TargetGroupARNs: [`${TARGET_GROUPS.b}-gone`] }, 'bluegreen-other'),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(createGroup({}, 'bluegreen-other', '99')).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/^You must use a valid fully-formed launch template/),
    });
  });

  it('short of EC2 capacity: a Failed launch with EC2 message, tried again no sooner than 10 s', async () => {
    world.ec2.capacity = 1;
    await createGroup();
    await describeGroup();

    const failed = (await activities()).filter((a) => a.StatusCode === 'Failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.StatusMessage).toMatch(/^We currently do not have sufficient capacity/);
    expect(failed[0]?.Description).toMatch(/^Launching a new EC2 instance\. {2}Status Reason: We currently/);
    expect((await describeGroup())?.Instances).toHaveLength(1);

    advance(5);
    await describeGroup();
    expect((await activities()).filter((a) => a.StatusCode === 'Failed')).toHaveLength(1);

    advance(5);
    await describeGroup();
    expect((await activities()).filter((a) => a.StatusCode === 'Failed')).toHaveLength(2);

    world.ec2.capacity = 5;
    advance(10);
    expect((await describeGroup())?.Instances).toHaveLength(2);
  });
});

describe('simulated Auto Scaling, health', () => {
  it('replaces a member its target group reports unhealthy once the grace period is over, with the ELB cause', async () => {
    await createGroup();
    const [sick = '', well = ''] = memberIds(await describeGroup());
    const failingFrom = Date.now();
    world.elbv2.failingFrom = (i) => (i.id === sick ? failingFrom : undefined);
    const terminated: string[] = [];
    world.hooks.push({ beforeTerminate: (i) => terminated.push(i.id) });
    advance(60);
    await describeGroup();

    // Unhealthy in its target group 80 s after launch, inside the 120 s grace period: kept.
    advance(40);
    const inGrace = await describeGroup();
    expect(
      world.elbv2.DescribeTargetHealth({ TargetGroupArn: TARGET_GROUPS.b }).TargetHealthDescriptions,
    ).toContainEqual(
      expect.objectContaining({
        Target: expect.objectContaining({ Id: sick }),
        TargetHealth: expect.objectContaining({ State: 'unhealthy' }),
      }),
    );
    expect(inGrace?.Instances?.map((i) => [i.InstanceId, i.LifecycleState, i.HealthStatus])).toEqual([
      [sick, 'InService', 'Healthy'],
      [well, 'InService', 'Healthy'],
    ]);

    advance(30);
    const replacing = await describeGroup();
    const byId = new Map(replacing?.Instances?.map((i) => [i.InstanceId, i]));
    expect(byId.get(sick)).toMatchObject({ LifecycleState: 'Terminating', HealthStatus: 'Unhealthy' });
    expect(replacing?.Instances).toHaveLength(3);
    const [replacement] = memberIds(replacing).filter((id) => id !== sick && id !== well);
    expect(byId.get(replacement)).toMatchObject({ LifecycleState: 'Pending' });
    expect(registered(TARGET_GROUPS.b)).not.toContain(sick);
    const [launch, termination] = await activities();
    expect(termination).toMatchObject({
      Description: `Terminating EC2 instance: ${sick}`,
      StatusCode: 'InProgress',
      Cause: expect.stringMatching(/in response to an ELB system health check failure\.$/),
    });
    expect(launch?.Description).toBe(`Launching a new EC2 instance: ${replacement}`);
    // It drains for the target group's deregistration delay before EC2 terminates it.
    expect(terminated).toEqual([]);

    advance(300);
    await describeGroup();
    expect(terminated).toEqual([sick]);
    advance(30);
    const after = await describeGroup();
    expect(memberIds(after)).toEqual([well, replacement]);
    expect((await activities()).find((a) => a.Description?.includes(sick))?.StatusCode).toBe('Successful');
  });

  it('replaces a member EC2 terminated on its own, naming the EC2 health check', async () => {
    await createGroup();
    advance(60);
    const [gone = '', kept] = memberIds(await describeGroup());
    world.ec2.TerminateInstances({ InstanceIds: [gone] });

    const group = await describeGroup();

    expect(group?.Instances?.find((i) => i.InstanceId === gone)).toMatchObject({
      LifecycleState: 'Terminating',
      HealthStatus: 'Unhealthy',
    });
    expect(memberIds(group).filter((id) => id !== gone && id !== kept)).toHaveLength(1);
    expect(
      (await activities()).find((a) => a.Description === `Terminating EC2 instance: ${gone}`)?.Cause,
    ).toMatch(/in response to an EC2 health check indicating it has been terminated or stopped\.$/);
  });

  it('works outside the execution and function whose call brings it up to date', async () => {
    // No target group: nothing to drain, so a member taken out is terminated at once.
    await createGroup({ TargetGroupARNs: [], DesiredCapacity: 3 });
    advance(60);
    await describeGroup();
    const seen: unknown[] = [];
    world.hooks.push({
      beforeTerminate: (i) => seen.push([i.id, actor.getStore(), lambdaFunction.getStore()]),
    });
    const before = world.calls.length;

    await actor.run('some-execution', () =>
      asg('UpdateAutoScalingGroup', { AutoScalingGroupName: GROUP, DesiredCapacity: 2 }),
    );

    expect(seen).toEqual([[expect.stringMatching(/^i-/), undefined, undefined]]);
    // Its launches and terminations go to the EC2 model, not through the world's calls.
    expect(world.calls.slice(before).map((c) => c.operation)).toEqual(['UpdateAutoScalingGroup']);
  });
});

describe('simulated Auto Scaling, load', () => {
  it('scales on demand within its bounds, and ignores demand while AlarmNotification is suspended', async () => {
    await createGroup();

    await asg('SuspendProcesses', { AutoScalingGroupName: GROUP, ScalingProcesses: ['AlarmNotification'] });
    expect(world.autoscaling.demand(GROUP, 4)).toBe(false);
    const held = await describeGroup();
    expect(held?.DesiredCapacity).toBe(2);
    expect(held?.SuspendedProcesses?.map((p) => p.ProcessName)).toEqual(['AlarmNotification']);

    await asg('ResumeProcesses', { AutoScalingGroupName: GROUP, ScalingProcesses: ['AlarmNotification'] });
    expect(world.autoscaling.demand(GROUP, 9)).toBe(true);
    const grown = await describeGroup();
    expect(grown?.DesiredCapacity).toBe(4);
    expect(grown?.Instances).toHaveLength(4);
  });

  it('shrinks to a lower desired capacity, draining what it takes out', async () => {
    await createGroup({ DesiredCapacity: 3 });
    advance(60);
    await describeGroup();

    await asg('UpdateAutoScalingGroup', { AutoScalingGroupName: GROUP, DesiredCapacity: 2 });
    const group = await describeGroup();

    expect(group?.Instances?.map((i) => i.LifecycleState).sort()).toEqual([
      'InService',
      'InService',
      'Terminating',
    ]);
    expect(registered(TARGET_GROUPS.b)).toHaveLength(2);
    expect((await activities())[0]?.Cause).toMatch(
      /a user request update of AutoScalingGroup constraints.*shrinking the capacity from 3 to 2\.$/,
    );
  });
});

describe('simulated Auto Scaling, detaching and deleting', () => {
  it('detaching a target group deregisters the members (they drain) and registers no new one there', async () => {
    await createGroup();
    advance(60);
    const ids = memberIds(await describeGroup());

    await asg('DetachLoadBalancerTargetGroups', {
      AutoScalingGroupName: GROUP,
      TargetGroupARNs: [TARGET_GROUPS.b],
    });

    const health = world.elbv2.DescribeTargetHealth({
      TargetGroupArn: TARGET_GROUPS.b,
    }).TargetHealthDescriptions;
    expect(health.map((d) => [d.Target.Id, d.TargetHealth.State])).toEqual(ids.map((id) => [id, 'draining']));
    expect((await describeGroup())?.TargetGroupARNs).toEqual([]);
  });

  it('force delete terminates the instances; the group is Delete in progress until they are, then gone', async () => {
    await createGroup();
    advance(60);
    const ids = memberIds(await describeGroup());
    await expect(asg('DeleteAutoScalingGroup', { AutoScalingGroupName: GROUP })).rejects.toMatchObject({
      name: 'ResourceInUseFault',
    });

    await asg('DeleteAutoScalingGroup', { AutoScalingGroupName: GROUP, ForceDelete: true });
    await asg('DeleteAutoScalingGroup', { AutoScalingGroupName: GROUP, ForceDelete: true });

    const deleting = await describeGroup();
    expect(deleting?.Status).toBe('Delete in progress');
    expect(deleting?.Instances?.map((i) => i.LifecycleState)).toEqual(['Terminating', 'Terminating']);
    expect(ids.map((id) => world.ec2.state(world.ec2.instances.get(id ?? '') as SimInstance))).toEqual([
      'shutting-down',
      'shutting-down',
    ]);
    expect(registered(TARGET_GROUPS.b)).toEqual([]);
    await expect(createGroup()).rejects.toMatchObject({ name: 'AlreadyExistsFault' });

    advance(30);
    expect(await describeGroup()).toBeUndefined();
    await expect(
      asg('DeleteAutoScalingGroup', { AutoScalingGroupName: GROUP, ForceDelete: true }),
    ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/not found/) });
  });
});

describe('simulated Auto Scaling, answers', () => {
  it('pages groups by MaxRecords (at most 100) and finds them by tag', async () => {
    const version = await versionWithImage();
    for (const name of ['bluegreen-a', 'bluegreen-b', 'bluegreen-c'])
      await createGroup(
        { Tags: [{ Key: 'team', Value: name === 'bluegreen-b' ? 'x' : 'y' }] },
        name,
        version,
      );

    const first = await asg<DescribeAutoScalingGroupsCommandOutput>('DescribeAutoScalingGroups', {
      MaxRecords: 2,
    });
    const second = await asg<DescribeAutoScalingGroupsCommandOutput>('DescribeAutoScalingGroups', {
      MaxRecords: 2,
      NextToken: first.NextToken,
    });
    const tagged = await asg<DescribeAutoScalingGroupsCommandOutput>('DescribeAutoScalingGroups', {
      Filters: [{ Name: 'tag:team', Values: ['y'] }],
    });

    expect(first.AutoScalingGroups?.map((g) => g.AutoScalingGroupName)).toEqual([
      'bluegreen-a',
      'bluegreen-b',
    ]);
    expect(second.AutoScalingGroups?.map((g) => g.AutoScalingGroupName)).toEqual(['bluegreen-c']);
    expect(second.NextToken).toBeUndefined();
    expect(tagged.AutoScalingGroups?.map((g) => g.AutoScalingGroupName)).toEqual([
      'bluegreen-a',
      'bluegreen-c',
    ]);
    await expect(asg('DescribeAutoScalingGroups', { MaxRecords: 101 })).rejects.toMatchObject({
      name: 'ValidationError',
    });
    await expect(
      asg('DescribeAutoScalingGroups', { MaxRecords: 2, NextToken: first.NextToken }),
    ).rejects.toMatchObject({ name: 'InvalidNextToken' });
  });

  it('pages activities newest first', async () => {
    await createGroup({ MaxSize: 6, DesiredCapacity: 5 });
    await describeGroup();

    const first = await asg<DescribeScalingActivitiesCommandOutput>('DescribeScalingActivities', {
      AutoScalingGroupName: GROUP,
      MaxRecords: 3,
    });
    const rest = await asg<DescribeScalingActivitiesCommandOutput>('DescribeScalingActivities', {
      AutoScalingGroupName: GROUP,
      MaxRecords: 3,
      NextToken: first.NextToken,
    });

    const all = [...(first.Activities ?? []), ...(rest.Activities ?? [])];
    expect(first.Activities).toHaveLength(3);
    expect(all.map((a) => /increasing the capacity from (\d)/.exec(a.Cause ?? '')?.[1])).toEqual([
      '4',
      '3',
      '2',
      '1',
      '0',
    ]);
  });

  it('keeps scaling policies by name (the same name again replaces one)', async () => {
    await createGroup();
    const policy = {
      AutoScalingGroupName: GROUP,
      PolicyName: 'requests',
      PolicyType: 'TargetTrackingScaling',
    };

    const made = await asg<{ PolicyARN: string }>('PutScalingPolicy', {
      ...policy,
      EstimatedInstanceWarmup: 60,
    });
    const again = await asg<{ PolicyARN: string }>('PutScalingPolicy', {
      ...policy,
      EstimatedInstanceWarmup: 90,
    });
    const out = await asg<{ ScalingPolicies: Record<string, unknown>[] }>('DescribePolicies', {
      AutoScalingGroupName: GROUP,
    });

    expect(again.PolicyARN).toBe(made.PolicyARN);
    expect(out.ScalingPolicies).toEqual([
      expect.objectContaining({ PolicyName: 'requests', EstimatedInstanceWarmup: 90 }),
    ]);
  });

  it('a seeded group starts InService and registered, from a version with its AMI', () => {
    const group = world.autoscaling.seedGroup({
      name: 'bluegreen-web-prod-a-1.0.0-00000000',
      launchTemplate: { id: LAUNCH_TEMPLATE.id },
      imageId: ami,
      count: 3,
      targetGroupArns: [TARGET_GROUPS.a],
      subnets: ['subnet-0a1b2c3d4e5f60718'],
      tags: { ...TAGS, 'bluegreen:slot': 'a' },
      at: Date.now() - 86_400_000,
    });

    expect([...group.members.values()].map((m) => m.lifecycleState)).toEqual([
      'InService',
      'InService',
      'InService',
    ]);
    expect(registered(TARGET_GROUPS.a).sort()).toEqual([...group.members.keys()].sort());
    const version = world.ec2.launchTemplates
      .get(LAUNCH_TEMPLATE.id)
      ?.versions.get(Number(group.launchTemplate.version));
    expect(version?.imageId).toBe(ami);
  });
});

describe('simulated EC2, launch template versions', () => {
  it('a ClientToken seen before answers with the version it made, and makes none', async () => {
    const first = await versionWithImage('same-token');
    const again = await versionWithImage('same-token');
    const other = await versionWithImage('other-token');

    const described = await ec2<DescribeLaunchTemplatesCommandOutput>('DescribeLaunchTemplates', {
      LaunchTemplateIds: [LAUNCH_TEMPLATE.id],
    });
    expect([first, again, other]).toEqual(['2', '2', '3']);
    expect(described.LaunchTemplates?.[0]).toMatchObject({ DefaultVersionNumber: 1, LatestVersionNumber: 3 });
    const versions = await ec2<{
      LaunchTemplateVersions: { VersionNumber: number; LaunchTemplateData: unknown }[];
    }>('DescribeLaunchTemplateVersions', { LaunchTemplateId: LAUNCH_TEMPLATE.id, Versions: ['$Latest'] });
    expect(versions.LaunchTemplateVersions).toEqual([
      expect.objectContaining({ VersionNumber: 3, LaunchTemplateData: { ImageId: ami } }),
    ]);
  });

  it('DeleteLaunchTemplateVersions answers per version: deleted, does not exist, the default', async () => {
    const made = await versionWithImage();

    const out = await ec2<DeleteLaunchTemplateVersionsCommandOutput>('DeleteLaunchTemplateVersions', {
      LaunchTemplateName: LAUNCH_TEMPLATE.name,
      Versions: [made, '7', '1'],
    });

    expect(out.SuccessfullyDeletedLaunchTemplateVersions).toEqual([
      {
        LaunchTemplateId: LAUNCH_TEMPLATE.id,
        LaunchTemplateName: LAUNCH_TEMPLATE.name,
        VersionNumber: Number(made),
      },
    ]);
    expect(
      out.UnsuccessfullyDeletedLaunchTemplateVersions?.map((f) => [f.VersionNumber, f.ResponseError?.Code]),
    ).toEqual([
      [7, 'launchTemplateVersionDoesNotExist'],
      [1, 'unexpectedError'],
    ]);
    expect(out.UnsuccessfullyDeletedLaunchTemplateVersions?.[1]?.ResponseError?.Message).toMatch(
      /default version/,
    );
    await expect(
      ec2('RunInstances', {
        LaunchTemplate: { LaunchTemplateId: LAUNCH_TEMPLATE.id, Version: made },
        MinCount: 1,
      }),
    ).rejects.toMatchObject({ name: 'InvalidLaunchTemplateId.VersionNotFound' });
  });
});
