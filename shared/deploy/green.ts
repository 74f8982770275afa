import { checkAlarms } from '../aws/cloudwatch.ts';
import { describeInstances, launchInstances } from '../aws/ec2.ts';
import { describeTargetHealth, registerTargets } from '../aws/elbv2.ts';
import { describeHealth, evaluateHealth, type HealthVerdict } from '../domain/health.ts';
import { clientToken } from '../domain/identity.ts';
import { fleetTags } from '../domain/tags.ts';
import type { DeploymentState, GreenFleet, HealthState, Plan } from '../domain/workflow.ts';
import { AlarmTriggered, CapacityShortfall, GreenUnhealthy } from '../errors.ts';
import { logger } from '../logger.ts';
import { need, nowIso, secondsSince } from './state.ts';

/**
 * Launches the green fleet, tagged at launch so it can be found and cleaned up by tag even if
 * this task dies halfway. Fewer instances than planned is a failure the rollback cleans up.
 */
export async function launchGreen(input: DeploymentState): Promise<GreenFleet> {
  const state = need(input, 'plan', 'bake');
  const { plan } = state;
  const amiId = state.bake.amiId;
  if (!amiId) throw new TypeError('execution state has no baked AMI id');
  let instanceIds: string[];
  try {
    instanceIds = await launchInstances({
      launchTemplate: plan.launchTemplate,
      amiId,
      count: plan.instanceCount,
      clientToken: clientToken(state.deploymentId, 'green-fleet'),
      tags: fleetTags({ ...state, slot: plan.green }),
    });
  } catch (error) {
    if ((error as Error).name === 'InsufficientInstanceCapacity') {
      throw new CapacityShortfall(`EC2 has no capacity for the green fleet: ${(error as Error).message}`);
    }
    throw error;
  }
  logger.info('green fleet launched', { instanceIds, slot: plan.green });
  if (instanceIds.length < plan.instanceCount) {
    throw new CapacityShortfall(
      `EC2 launched ${instanceIds.length} of ${plan.instanceCount} green instances (insufficient capacity)`,
    );
  }
  return { slot: plan.green, amiId, instanceIds, launchedAt: nowIso() };
}

export async function greenVerdict(plan: Plan, green: GreenFleet): Promise<HealthVerdict> {
  const reported = await describeTargetHealth(plan.slots[green.slot].targetGroupArn, green.instanceIds);
  return evaluateHealth(green.instanceIds, reported, plan.health.minHealthyPercent);
}

/**
 * One bounded poll while green boots: registers instances once they run (ELB refuses instances
 * that are still pending), then judges target health against the minimum healthy percent.
 */
export async function checkGreenHealth(input: DeploymentState): Promise<HealthState> {
  const state = need(input, 'plan', 'green');
  const { plan, green } = state;
  const polls = (state.health?.polls ?? 0) + 1;
  const instances = await describeInstances(green.instanceIds);
  const dead = instances.filter((i) => i.state !== 'pending' && i.state !== 'running');
  if (dead.length > 0) {
    const what = dead
      .map((i) => `${i.id} ${i.state}${i.stateReason ? ` (${i.stateReason})` : ''}`)
      .join(', ');
    throw new CapacityShortfall(`green instances stopped while booting: ${what}`);
  }
  const targetGroupArn = plan.slots[green.slot].targetGroupArn;
  const reported = await describeTargetHealth(targetGroupArn, green.instanceIds);
  const unregistered = new Set(reported.filter((t) => t.reason === 'Target.NotRegistered').map((t) => t.id));
  const toRegister = instances
    .filter((i) => i.state === 'running' && unregistered.has(i.id))
    .map((i) => i.id);
  if (toRegister.length > 0) {
    await registerTargets(targetGroupArn, toRegister);
    logger.info('registered green instances', { instanceIds: toRegister });
  }
  const verdict = evaluateHealth(green.instanceIds, reported, plan.health.minHealthyPercent);
  const summary = describeHealth(verdict);
  if (verdict.healthy) {
    return {
      status: 'HEALTHY',
      polls,
      healthyCount: verdict.healthyCount,
      total: verdict.total,
      summary,
      healthyAt: nowIso(),
    };
  }
  const waited = secondsSince(green.launchedAt);
  if (polls >= plan.health.maxPolls || waited >= plan.health.timeoutSeconds) {
    throw new GreenUnhealthy(`green not healthy ${Math.round(waited)} s after launch: ${summary}`);
  }
  return { status: 'WAITING', polls, healthyCount: verdict.healthyCount, total: verdict.total, summary };
}

/**
 * The guard run after every traffic step and throughout the termination window: any watched
 * alarm in ALARM, or green below its healthy minimum, fails the task into the rollback.
 */
export async function assertGreenGood(plan: Plan, green: GreenFleet): Promise<string> {
  const alarms = await checkAlarms(plan.alarms);
  if (alarms.alarming.length > 0) {
    const what = alarms.alarming.map((a) => `${a.name} (${a.reason || 'no reason'})`).join(', ');
    throw new AlarmTriggered(`alarm in ALARM: ${what}`);
  }
  if (alarms.missing.length > 0) {
    throw new AlarmTriggered(`watched alarm no longer exists: ${alarms.missing.join(', ')}`);
  }
  const verdict = await greenVerdict(plan, green);
  const summary = describeHealth(verdict);
  if (!verdict.healthy) throw new GreenUnhealthy(summary);
  return `${summary}; ${plan.alarms.length} alarm(s) OK`;
}
