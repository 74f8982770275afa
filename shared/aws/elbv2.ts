import {
  type Action,
  AddTagsCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TargetHealthState } from '../domain/health.ts';
import type { ListenerAction } from '../domain/listener.ts';
import type { SlotTargets } from '../domain/return-to-blue.ts';
import { type Tags, toAwsTags } from '../domain/tags.ts';

export const elbv2 = new ElasticLoadBalancingV2Client({});

/**
 * Target health of the given instances, or of every registered target when none are given. Not
 * paged: DescribeTargetHealth has no Marker or page size, one answer holds every target.
 */
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

/** A slot's registered (not draining) and healthy targets, as ELB reports them now. */
export async function slotTargets(targetGroupArn: string): Promise<SlotTargets> {
  const targets = (await registeredTargets(targetGroupArn)).filter((t) => t.state !== 'draining');
  return { registered: targets.length, healthy: targets.filter((t) => t.state === 'healthy').length };
}

/** The ids of the targets ELB reports healthy (registered and passing their checks). */
export async function healthyTargets(targetGroupArn: string): Promise<string[]> {
  return (await describeTargetHealth(targetGroupArn)).filter((t) => t.state === 'healthy').map((t) => t.id);
}

// RegisterTargets and DeregisterTargets are idempotent. Their API reference sets no maximum per
// call; a target group holds at most 1,000 instance targets by default (ALB quotas), so batches of
// 1,000 are the most one call ever needs.
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

/** How long ELB keeps a deregistered target draining (deregistration_delay.timeout_seconds). */
export async function deregistrationDelaySeconds(targetGroupArn: string): Promise<number> {
  const out = await elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn }));
  const value = out.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
  return value === undefined ? 300 : Number(value);
}

/**
 * The CloudWatch dimensions of a target group (its own and its load balancer's ARN suffixes), and
 * the kind of load balancer: only an Application Load Balancer publishes RequestCount.
 */
export async function metricDimensions(
  targetGroupArn: string,
): Promise<{ TargetGroup: string; LoadBalancer?: string; application: boolean }> {
  const out = await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] }));
  const loadBalancer = out.TargetGroups?.[0]?.LoadBalancerArns?.[0] ?? '';
  const application = loadBalancer.includes(':loadbalancer/app/');
  return {
    TargetGroup: targetGroupArn.slice(targetGroupArn.indexOf('targetgroup/')),
    ...(application ? { LoadBalancer: loadBalancer.slice(loadBalancer.indexOf('app/')) } : {}),
    application,
  };
}

/** The tags of each target group (DescribeTags takes 20 resources per call). */
export async function targetGroupTags(arns: string[]): Promise<Map<string, Tags>> {
  const tags = new Map<string, Tags>();
  for (let i = 0; i < arns.length; i += 20) {
    const out = await elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of out.TagDescriptions ?? []) {
      tags.set(
        d.ResourceArn ?? '',
        Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      );
    }
  }
  return tags;
}

/** Adds the tags to the target group, overwriting the value of a key it has (AddTags is idempotent). */
export async function tagTargetGroup(arn: string, tags: Tags): Promise<void> {
  await elbv2.send(new AddTagsCommand({ ResourceArns: [arn], Tags: toAwsTags(tags) }));
}

/** The listener (or one of its rules) whose forward action splits the traffic (traffic.mode alb). */
export interface ListenerTarget {
  listenerArn: string;
  ruleArn?: string | undefined;
}

/** The listener's default actions, or the rule's actions when a rule is named. */
export async function listenerActions({ listenerArn, ruleArn }: ListenerTarget): Promise<ListenerAction[]> {
  if (ruleArn) {
    const out = await elbv2.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }));
    return out.Rules?.[0]?.Actions ?? [];
  }
  const out = await elbv2.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }));
  return out.Listeners?.[0]?.DefaultActions ?? [];
}

/**
 * Replaces the listener's default actions (or the rule's actions) with `actions`: one call, in
 * effect at once. ModifyListener changes only what it is given (port, protocol and certificates
 * stay as they are); the action list is replaced whole.
 */
export async function writeListenerActions(
  { listenerArn, ruleArn }: ListenerTarget,
  actions: ListenerAction[],
): Promise<void> {
  const written = actions as Action[];
  if (ruleArn) await elbv2.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: written }));
  else await elbv2.send(new ModifyListenerCommand({ ListenerArn: listenerArn, DefaultActions: written }));
}
