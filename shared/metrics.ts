import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { overran } from './domain/deadline.ts';
import { METRICS_NAMESPACE, type MetricValue, OVERRUN_METRIC } from './domain/metrics.ts';
import { logger } from './logger.ts';

const UNITS = { Count: MetricUnit.Count, Seconds: MetricUnit.Seconds } as const;

/**
 * Writes a deployment's metrics as one embedded-metric-format line on stdout (CloudWatch Logs turns
 * it into metrics: no API call, no permission), dimensioned by its app and env.
 */
export function emitDeploymentMetrics(app: string, env: string, values: MetricValue[]): void {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'bluegreen-ec2' });
  metrics.addDimensions({ app, env });
  for (const { name, unit, value } of values) metrics.addMetric(name, UNITS[unit], value);
  metrics.publishStoredMetrics();
}

/** The plan a task's input carries: the state's own, or the one under `deployment`. */
function planOf(input: unknown): { app: string; env: string; deadline: string } | undefined {
  const event = input as { plan?: unknown; deployment?: { plan?: unknown } } | null | undefined;
  const plan = (event?.plan ?? event?.deployment?.plan) as Record<string, unknown> | undefined;
  const { app, env, deadline } = plan ?? {};
  return typeof app === 'string' && typeof env === 'string' && typeof deadline === 'string'
    ? { app, env, deadline }
    : undefined;
}

/**
 * Counts a DeploymentOverrun when a task is invoked, at `now`, for a deployment past its plan's
 * deadline. Never fails the task: a metric that cannot be written is logged. Whether it counted.
 */
export function countOverrun(input: unknown, now: Date = new Date()): boolean {
  try {
    const plan = planOf(input);
    if (!plan || !overran(plan.deadline, now)) return false;
    emitDeploymentMetrics(plan.app, plan.env, [{ name: OVERRUN_METRIC, unit: 'Count', value: 1 }]);
    logger.warn('deployment running past its deadline', { deadline: plan.deadline });
    return true;
  } catch (error) {
    logger.warn('could not count the deployment overrun', { error });
    return false;
  }
}
