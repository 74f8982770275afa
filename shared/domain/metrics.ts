import type { Outcome } from './report.ts';
import type { DeploymentState } from './workflow.ts';

/**
 * The service's own metrics, emitted as CloudWatch embedded metric format (a log line, no API
 * call) by the final notification, and an overrun by any task. The names live here alone: the
 * tasks emit them, and the template's alarms and dashboard (checked by test/package.test.ts) read
 * the same ones.
 */
export const METRICS_NAMESPACE = 'bluegreen-ec2';

/** Dimensions of every metric (beside Powertools' `service`): which app/env deployed. */
export const METRIC_DIMENSIONS = ['app', 'env'] as const;

/** One count per end of a deployment, named after the outcome it counts. */
export const OUTCOME_METRICS = {
  succeeded: 'DeploymentSucceeded',
  'rolled-back': 'DeploymentRolledBack',
  'rollback-failed': 'RollbackFailed',
  failed: 'DeploymentFailed',
  superseded: 'DeploymentSuperseded',
  'cleanup-failed': 'BlueNotTerminated',
} as const satisfies Record<Outcome, string>;

export const DURATION_METRICS = {
  /** From the plan to the final notification. */
  deployment: 'DeploymentDurationSeconds',
  /** From the plan to the last traffic step's DNS change in sync (100 % on green). */
  fullGreen: 'TimeToFullGreenSeconds',
  /** From the bake's start to its AMI available (a reused AMI took no bake). */
  bake: 'BakeDurationSeconds',
  /**
   * From the watched alarm that caused the rollback going into ALARM to the rollback's DNS change
   * in sync (all traffic back on blue): how fast an alarm takes the release's traffic away.
   */
  alarmToBlue: 'AlarmToBlueSeconds',
} as const;

/** 1 when the AMI was reused (already baked from the artifact), 0 when it was baked. */
export const BAKE_REUSED_METRIC = 'BakeReused';

/**
 * One count per task of a deployment invoked after its plan's deadline (deadline.ts): the
 * deployment has run longer than its config allows. Written by the task wrapper (shared/task.ts),
 * the final notification's invocation included.
 */
export const OVERRUN_METRIC = 'DeploymentOverrun';

export type MetricName =
  | (typeof OUTCOME_METRICS)[Outcome]
  | (typeof DURATION_METRICS)[keyof typeof DURATION_METRICS]
  | typeof BAKE_REUSED_METRIC
  | typeof OVERRUN_METRIC;

/** Every name the service emits. */
export const METRIC_NAMES: readonly MetricName[] = [
  ...Object.values(OUTCOME_METRICS),
  ...Object.values(DURATION_METRICS),
  BAKE_REUSED_METRIC,
  OVERRUN_METRIC,
];

export interface MetricValue {
  name: MetricName;
  unit: 'Count' | 'Seconds';
  value: number;
}

function secondsBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  const seconds = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/**
 * What a deployment that ended with `outcome` at `now` measured: its outcome's count, and each
 * duration the state holds both ends of (a deployment that never baked reports no bake).
 */
export function deploymentMetrics(state: DeploymentState, outcome: Outcome, now: Date): MetricValue[] {
  const metrics: MetricValue[] = [{ name: OUTCOME_METRICS[outcome], unit: 'Count', value: 1 }];
  const seconds = (name: MetricName, value: number | undefined) => {
    if (value !== undefined) metrics.push({ name, unit: 'Seconds', value });
  };
  const startedAt = state.plan?.startedAt;
  seconds(DURATION_METRICS.deployment, secondsBetween(startedAt, now.toISOString()));
  const { shift, bake, rollbackTraffic } = state;
  if (shift?.isLast && shift.percent === 100)
    seconds(DURATION_METRICS.fullGreen, secondsBetween(startedAt, shift.dns.syncedAt));
  if (rollbackTraffic?.alarmedAt && rollbackTraffic.dns?.status === 'INSYNC')
    seconds(
      DURATION_METRICS.alarmToBlue,
      secondsBetween(rollbackTraffic.alarmedAt, rollbackTraffic.dns.syncedAt),
    );
  if (bake?.status === 'AVAILABLE') {
    metrics.push({ name: BAKE_REUSED_METRIC, unit: 'Count', value: bake.reused ? 1 : 0 });
    if (!bake.reused) seconds(DURATION_METRICS.bake, secondsBetween(bake.startedAt, bake.completedAt));
  }
  return metrics;
}
