import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, type MetricValue } from './domain/metrics.ts';

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
