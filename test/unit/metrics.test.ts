import { describe, expect, it } from 'vitest';
import {
  BAKE_REUSED_METRIC,
  DURATION_METRICS,
  deploymentMetrics,
  METRIC_NAMES,
  OUTCOME_METRICS,
} from '#shared/domain/metrics.ts';
import type { DeploymentState, Plan } from '#shared/domain/workflow.ts';

const base = {
  deploymentId: 'web-prod-1_1_0-0123456789',
  app: 'web',
  env: 'prod',
  version: '1.1.0',
} as DeploymentState;

const plan = { startedAt: '2026-11-26T10:00:00.000Z' } as Plan;
const dns = { changeId: 'c', status: 'INSYNC', polls: 1, maxPolls: 10, pollSeconds: 10 } as const;

describe('deployment metrics', () => {
  it('counts a succeeded deployment and reports its durations from the state', () => {
    const state: DeploymentState = {
      ...base,
      plan,
      bake: {
        status: 'AVAILABLE',
        reused: false,
        startedAt: '2026-11-26T10:00:05.000Z',
        completedAt: '2026-11-26T10:20:05.000Z',
        polls: 3,
      },
      shift: {
        index: 2,
        percent: 100,
        weights: { a: 0, b: 100 },
        isLast: true,
        settleSeconds: 300,
        dns: { ...dns, submittedAt: '2026-11-26T10:40:00.000Z', syncedAt: '2026-11-26T10:41:00.000Z' },
      },
    };
    expect(deploymentMetrics(state, 'succeeded', new Date('2026-11-26T11:41:00.000Z'))).toEqual([
      { name: 'DeploymentSucceeded', unit: 'Count', value: 1 },
      { name: 'DeploymentDurationSeconds', unit: 'Seconds', value: 6060 },
      { name: 'TimeToFullGreenSeconds', unit: 'Seconds', value: 2460 },
      { name: 'BakeReused', unit: 'Count', value: 0 },
      { name: 'BakeDurationSeconds', unit: 'Seconds', value: 1200 },
    ]);
  });

  it('reports a reused AMI without a bake duration, and no full green before the last step', () => {
    const state: DeploymentState = {
      ...base,
      plan,
      bake: {
        status: 'AVAILABLE',
        reused: true,
        startedAt: plan.startedAt,
        completedAt: plan.startedAt,
        polls: 0,
      },
      shift: {
        index: 0,
        percent: 10,
        weights: { a: 90, b: 10 },
        isLast: false,
        settleSeconds: 300,
        dns: { ...dns, submittedAt: '2026-11-26T10:10:00.000Z', syncedAt: '2026-11-26T10:11:00.000Z' },
      },
    };
    const names = deploymentMetrics(state, 'rolled-back', new Date('2026-11-26T10:30:00.000Z')).map(
      (m) => `${m.name}=${m.value}`,
    );
    expect(names).toEqual(['DeploymentRolledBack=1', 'DeploymentDurationSeconds=1800', 'BakeReused=1']);
  });

  it('counts a superseded upload that never planned, with no durations', () => {
    expect(deploymentMetrics(base, 'superseded', new Date())).toEqual([
      { name: 'DeploymentSuperseded', unit: 'Count', value: 1 },
    ]);
  });

  it('names one count per outcome, every name once', () => {
    expect(OUTCOME_METRICS['rollback-failed']).toBe('RollbackFailed');
    expect(OUTCOME_METRICS['cleanup-failed']).toBe('BlueNotTerminated');
    expect(new Set(METRIC_NAMES).size).toBe(METRIC_NAMES.length);
    expect(METRIC_NAMES).toContain(BAKE_REUSED_METRIC);
    for (const name of Object.values(DURATION_METRICS)) expect(METRIC_NAMES).toContain(name);
  });

  it('times an alarm to traffic back on blue: from ALARM to the rollback change INSYNC', () => {
    const rollbackTraffic = {
      alarmedAt: '2026-11-26T10:30:00.000Z',
      leaveSeconds: 60,
      changed: true,
      weights: { a: 100, b: 0 },
      summary: 'traffic returned to slot a (a=100 b=0)',
      dns: { ...dns, submittedAt: '2026-11-26T10:30:01.000Z', syncedAt: '2026-11-26T10:30:41.000Z' },
    };
    const state: DeploymentState = { ...base, plan, rollbackTraffic };
    expect(deploymentMetrics(state, 'rolled-back', new Date('2026-11-26T10:40:00.000Z'))).toContainEqual({
      name: 'AlarmToBlueSeconds',
      unit: 'Seconds',
      value: 41,
    });
    const names = (s: DeploymentState) =>
      deploymentMetrics(s, 'rolled-back', new Date('2026-11-26T10:40:00.000Z')).map((m) => m.name);
    // No alarm caused it, the change is not yet in sync, or nothing was written: no time.
    const { alarmedAt: _, ...noAlarm } = rollbackTraffic;
    expect(names({ ...state, rollbackTraffic: noAlarm })).not.toContain('AlarmToBlueSeconds');
    const pending = { ...rollbackTraffic, dns: { ...rollbackTraffic.dns, status: 'PENDING' as const } };
    expect(names({ ...state, rollbackTraffic: pending })).not.toContain('AlarmToBlueSeconds');
    expect(
      names({ ...state, rollbackTraffic: { ...rollbackTraffic, changed: false, dns: null } }),
    ).not.toContain('AlarmToBlueSeconds');
  });
});
