import { describe, expect, it } from 'vitest';
import {
  adoptionProblem,
  capacityShortfall,
  greenGroupName,
  groupHealth,
  groupReadiness,
  namesResourceLabel,
  policyForGreen,
  replacements,
  resourceLabel,
} from '#shared/domain/groups.ts';
import { MANAGED_BY, TAG } from '#shared/domain/tags.ts';

const member = (id: string, lifecycleState = 'InService', healthStatus = 'Healthy') => ({
  id,
  lifecycleState,
  healthStatus,
});
const healthy = (id: string) => ({ id, state: 'healthy' });

describe('green group name', () => {
  it('names app, env, slot and version, and differs per deployment', () => {
    const d = { app: 'web', env: 'prod', version: '1.1.0', deploymentId: 'dep-1' };
    expect(greenGroupName(d, 'b')).toMatch(/^bluegreen-web-prod-b-1\.1\.0-[0-9a-f]{8}$/);
    expect(greenGroupName({ ...d, deploymentId: 'dep-2' }, 'b')).not.toBe(greenGroupName(d, 'b'));
  });
});

describe('adopting a group in blue slot', () => {
  const tags = { [TAG.managedBy]: MANAGED_BY, [TAG.app]: 'web', [TAG.env]: 'prod', [TAG.slot]: 'a' };
  it('takes a group tagged as the app/env in that slot', () => {
    expect(adoptionProblem({ name: 'web-blue', tags }, 'web', 'prod', 'a')).toBeUndefined();
  });
  it('names the tags a group someone made must carry to be handed over', () => {
    const problem = adoptionProblem({ name: 'web-blue', tags: { Name: 'x' } }, 'web', 'prod', 'a');
    expect(problem).toContain('web-blue');
    expect(problem).toContain(`${TAG.managedBy}=${MANAGED_BY}`);
    expect(problem).toContain(`${TAG.slot}=a`);
  });
});

describe('green group readiness', () => {
  it('waits until the desired capacity is in service', () => {
    const verdict = groupReadiness([member('i-1'), member('i-2', 'Pending')], [healthy('i-1')], 100, 2);
    expect(verdict.healthy).toBe(false);
    expect(verdict.inService).toBe(1);
  });
  it('is ready with every instance in service and healthy', () => {
    const verdict = groupReadiness([member('i-1'), member('i-2')], [healthy('i-1'), healthy('i-2')], 100, 2);
    expect(verdict.healthy).toBe(true);
  });
});

describe('green group health while it carries traffic', () => {
  it('lets one instance be replaced by the group', () => {
    const members = [member('i-1'), member('i-2'), member('i-3', 'Pending')];
    const verdict = groupHealth(members, [healthy('i-1'), healthy('i-2')], 100, 3);
    expect(verdict.healthy).toBe(true);
    expect(verdict.replacing).toBe(1);
  });
  it('counts an instance being terminated neither way: its replacement stands for it', () => {
    const members = [member('i-1'), member('i-2'), member('i-3', 'Terminating'), member('i-4', 'Pending')];
    const verdict = groupHealth(members, [healthy('i-1'), healthy('i-2'), healthy('i-3')], 100, 3);
    expect(verdict.healthy).toBe(true);
    expect(verdict.replacing).toBe(1);
    expect(verdict.healthyCount).toBe(2);
  });
  it('is not healthy when more are being replaced than the minimum leaves', () => {
    const members = [member('i-1'), member('i-2', 'Pending'), member('i-3', 'InService', 'Unhealthy')];
    expect(groupHealth(members, [healthy('i-1')], 100, 3).healthy).toBe(false);
  });
  it('is not healthy with an unhealthy target the group has not marked', () => {
    const members = [member('i-1'), member('i-2')];
    expect(groupHealth(members, [healthy('i-1'), { id: 'i-2', state: 'unhealthy' }], 100, 2).healthy).toBe(
      false,
    );
  });
  it('is never healthy with no healthy target', () => {
    expect(groupHealth([member('i-1', 'Pending')], [], 1, 1).healthy).toBe(false);
  });
});

describe('activity history', () => {
  const failed = {
    description: 'Launching a new EC2 instance.  Status Reason: no capacity',
    status: 'Failed',
    statusMessage: 'We currently do not have sufficient capacity',
  };
  const thrice = [failed, failed, failed];
  it("gives the newest failed launch's reason while short of capacity, once launches failed 3 times in a row", () => {
    expect(capacityShortfall(thrice, 1, 3)).toContain('sufficient capacity');
    expect(capacityShortfall(thrice, 3, 3)).toBeUndefined();
  });
  it('waits for Auto Scaling to retry a launch that failed once or twice (another zone may have capacity)', () => {
    expect(capacityShortfall([failed], 1, 3)).toBeUndefined();
    expect(capacityShortfall([failed, failed], 1, 3)).toBeUndefined();
  });
  it('counts no shortfall once a later launch succeeded', () => {
    const ok = { description: 'Launching a new EC2 instance: i-9', status: 'Successful' };
    expect(capacityShortfall([ok, ...thrice], 2, 3)).toBeUndefined();
    expect(capacityShortfall([failed, failed, ok, failed], 2, 3)).toBeUndefined();
  });
  it('counts replacements for failed health checks, not scale-in', () => {
    const replaced = {
      description: 'Terminating EC2 instance: i-1',
      cause: 'an instance was taken out of service in response to an ELB system health check failure.',
      status: 'Successful',
    };
    const scaledIn = {
      description: 'Terminating EC2 instance: i-2',
      cause: 'a user request update',
      status: 'Successful',
    };
    expect(replacements([replaced, scaledIn])).toBe(1);
  });
});

describe("blue's scaling policies on green", () => {
  const blueTg = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-a/aaaaaaaaaaaaaaaa';
  const requests = (ResourceLabel: string) => ({
    PolicyName: 'requests',
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingConfiguration: {
      TargetValue: 100,
      PredefinedMetricSpecification: {
        PredefinedMetricType: 'ALBRequestCountPerTarget' as const,
        ResourceLabel,
      },
    },
  });
  const labelOf = (input: ReturnType<typeof policyForGreen>) =>
    input.TargetTrackingConfiguration?.PredefinedMetricSpecification?.ResourceLabel;

  it("points a requests-per-target policy at green's target group behind the same load balancer", () => {
    const input = policyForGreen(
      requests('app/web/50dc6c495c0c9188/targetgroup/web-a/aaaaaaaaaaaaaaaa'),
      'bluegreen-web-prod-b-1.1.0-12345678',
      blueTg,
      'app/web/50dc6c495c0c9188/targetgroup/web-b/bbbbbbbbbbbbbbbb',
    );
    expect(input.AutoScalingGroupName).toBe('bluegreen-web-prod-b-1.1.0-12345678');
    expect(labelOf(input)).toBe('app/web/50dc6c495c0c9188/targetgroup/web-b/bbbbbbbbbbbbbbbb');
  });

  it("names green's own load balancer when each slot has one (traffic.mode route53)", () => {
    const input = policyForGreen(
      requests('app/web-a/50dc6c495c0c9188/targetgroup/web-a/aaaaaaaaaaaaaaaa'),
      'bluegreen-web-prod-b-1.1.0-12345678',
      blueTg,
      resourceLabel({
        LoadBalancer: 'app/web-b/7f3e2d1c0b9a8877',
        TargetGroup: 'targetgroup/web-b/bbbbbbbbbbbbbbbb',
      }) ?? '',
    );
    expect(labelOf(input)).toBe('app/web-b/7f3e2d1c0b9a8877/targetgroup/web-b/bbbbbbbbbbbbbbbb');
  });

  it("leaves a label naming another target group than blue's as it is", () => {
    const other = 'app/web/50dc6c495c0c9188/targetgroup/web-admin/cccccccccccccccc';
    const input = policyForGreen(
      requests(other),
      'g',
      blueTg,
      'app/web/50dc6c495c0c9188/targetgroup/web-b/b',
    );
    expect(labelOf(input)).toBe(other);
  });

  it("points predictive scaling's request count metric at green's target group", () => {
    const blueLabel = 'app/web-a/50dc6c495c0c9188/targetgroup/web-a/aaaaaaaaaaaaaaaa';
    const greenLabel = 'app/web-b/7f3e2d1c0b9a8877/targetgroup/web-b/bbbbbbbbbbbbbbbb';
    const policy = {
      AutoScalingGroupName: 'bluegreen-web-prod-a-1.0.0-0a0a0a0a',
      PolicyName: 'forecast',
      PolicyType: 'PredictiveScaling',
      PredictiveScalingConfiguration: {
        MetricSpecifications: [
          {
            TargetValue: 1000,
            PredefinedMetricPairSpecification: {
              PredefinedMetricType: 'ALBRequestCount' as const,
              ResourceLabel: blueLabel,
            },
          },
        ],
        Mode: 'ForecastAndScale' as const,
      },
    };
    expect(namesResourceLabel(policy)).toBe(true);
    const input = policyForGreen(policy, 'bluegreen-web-prod-b-1.1.0-12345678', blueTg, greenLabel);
    expect(
      input.PredictiveScalingConfiguration?.MetricSpecifications?.[0]?.PredefinedMetricPairSpecification,
    ).toEqual({
      PredefinedMetricType: 'ALBRequestCount',
      ResourceLabel: greenLabel,
    });
    expect(input.PredictiveScalingConfiguration?.Mode).toBe('ForecastAndScale');
  });

  it("points a customized metric of blue's group at green's group, and no other dimension", () => {
    const policy = {
      AutoScalingGroupName: 'bluegreen-web-prod-a-1.0.0-0a0a0a0a',
      PolicyName: 'queue-per-instance',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: {
        TargetValue: 50,
        CustomizedMetricSpecification: {
          MetricName: 'CPUUtilization',
          Namespace: 'AWS/EC2',
          Statistic: 'Average' as const,
          Dimensions: [
            { Name: 'AutoScalingGroupName', Value: 'bluegreen-web-prod-a-1.0.0-0a0a0a0a' },
            { Name: 'Queue', Value: 'bluegreen-web-prod-a-1.0.0-0a0a0a0a' },
          ],
        },
      },
    };
    expect(namesResourceLabel(policy)).toBe(false);
    const input = policyForGreen(policy, 'bluegreen-web-prod-b-1.1.0-12345678', blueTg, '');
    expect(input.TargetTrackingConfiguration?.CustomizedMetricSpecification?.Dimensions).toEqual([
      { Name: 'AutoScalingGroupName', Value: 'bluegreen-web-prod-b-1.1.0-12345678' },
      { Name: 'Queue', Value: 'bluegreen-web-prod-a-1.0.0-0a0a0a0a' },
    ]);
    expect(input.TargetTrackingConfiguration?.TargetValue).toBe(50);
  });

  it('has no resource label for a target group behind no Application Load Balancer', () => {
    expect(resourceLabel({ TargetGroup: 'targetgroup/web-b/bbbbbbbbbbbbbbbb' })).toBeUndefined();
  });
});
