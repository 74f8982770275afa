import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';

export const cloudwatch = new CloudWatchClient({});

export interface AlarmReport {
  /**
   * `since`: in ALARM now, since then (when CloudWatch says); `firedAt`: not in ALARM now, but it
   * was then (read from its history).
   */
  alarming: { name: string; reason: string; firedAt?: string; since?: string }[];
  missing: string[];
  /** The alarms not in ALARM, with when their state last changed (if CloudWatch says). */
  quiet: { name: string; transitionedAt?: Date }[];
}

/** Which of the named alarms (metric or composite) are in ALARM, and which do not exist. */
export async function checkAlarms(names: readonly string[]): Promise<AlarmReport> {
  const report: AlarmReport = { alarming: [], missing: [], quiet: [] };
  const seen = new Set<string>();
  for (let i = 0; i < names.length; i += 100) {
    let NextToken: string | undefined;
    do {
      const out = await cloudwatch.send(
        new DescribeAlarmsCommand({
          AlarmNames: names.slice(i, i + 100),
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          NextToken,
        }),
      );
      for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        seen.add(alarm.AlarmName ?? '');
        const transitionedAt = alarm.StateTransitionedTimestamp ?? alarm.StateUpdatedTimestamp;
        if (alarm.StateValue === 'ALARM') {
          const since = transitionedAt?.toISOString();
          report.alarming.push({
            name: alarm.AlarmName ?? '',
            reason: alarm.StateReason ?? '',
            ...(since ? { since } : {}),
          });
          continue;
        }
        report.quiet.push({ name: alarm.AlarmName ?? '', ...(transitionedAt ? { transitionedAt } : {}) });
      }
      NextToken = out.NextToken;
    } while (NextToken);
  }
  report.missing = names.filter((name) => !seen.has(name));
  return report;
}

/** Requests the target group served in the last `seconds` (undefined when CloudWatch has no data). */
export async function recentRequests(
  dimensions: { TargetGroup: string; LoadBalancer?: string },
  seconds: number,
): Promise<number | undefined> {
  const end = new Date();
  const out = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(end.getTime() - seconds * 1000),
      EndTime: end,
      MetricDataQueries: [
        {
          Id: 'requests',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/ApplicationELB',
              MetricName: 'RequestCount',
              Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
            },
            Period: 60,
            Stat: 'Sum',
          },
        },
      ],
    }),
  );
  const values = out.MetricDataResults?.[0]?.Values ?? [];
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
}
