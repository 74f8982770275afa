import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TargetHealthState } from '../domain/health.ts';

export const elbv2 = new ElasticLoadBalancingV2Client({});

/** Target health of the given instances, or of every registered target when none are given. */
export async function describeTargetHealth(
  targetGroupArn: string,
  instanceIds?: string[],
): Promise<TargetHealthState[]> {
  if (instanceIds && instanceIds.length === 0) return [];
  const out = await elbv2.send(
    new DescribeTargetHealthCommand({
      TargetGroupArn: targetGroupArn,
      ...(instanceIds ? { Targets: instanceIds.map((Id) => ({ Id })) } : {}),
    }),
  );
  return (out.TargetHealthDescriptions ?? []).map((d) => ({
    id: d.Target?.Id ?? '',
    state: d.TargetHealth?.State ?? 'unavailable',
    reason: d.TargetHealth?.Reason,
  }));
}

/** Registered = anything ELB reports except targets it no longer knows. */
export async function registeredTargets(targetGroupArn: string): Promise<TargetHealthState[]> {
  const all = await describeTargetHealth(targetGroupArn);
  return all.filter((t) => t.state !== 'unused' || t.reason !== 'Target.NotRegistered');
}

// RegisterTargets and DeregisterTargets are idempotent and take at most 1,000 targets per call.
export async function registerTargets(targetGroupArn: string, instanceIds: string[]): Promise<void> {
  for (let i = 0; i < instanceIds.length; i += 1000) {
    const Targets = instanceIds.slice(i, i + 1000).map((Id) => ({ Id }));
    await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets }));
  }
}

export async function deregisterTargets(targetGroupArn: string, instanceIds: string[]): Promise<void> {
  for (let i = 0; i < instanceIds.length; i += 1000) {
    const Targets = instanceIds.slice(i, i + 1000).map((Id) => ({ Id }));
    await elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets }));
  }
}
