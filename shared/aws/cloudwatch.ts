import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';

export const cloudwatch = new CloudWatchClient({});

export interface AlarmReport {
  alarming: { name: string; reason: string }[];
  missing: string[];
}

/** Which of the named alarms (metric or composite) are in ALARM, and which do not exist. */
export async function checkAlarms(names: readonly string[]): Promise<AlarmReport> {
  const report: AlarmReport = { alarming: [], missing: [] };
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
        if (alarm.StateValue === 'ALARM') {
          report.alarming.push({ name: alarm.AlarmName ?? '', reason: alarm.StateReason ?? '' });
        }
      }
      NextToken = out.NextToken;
    } while (NextToken);
  }
  report.missing = names.filter((name) => !seen.has(name));
  return report;
}
