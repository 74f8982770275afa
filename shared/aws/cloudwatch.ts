import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { everyPage } from './paging.ts';

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

/** One alarm (metric or composite) as DescribeAlarms reports it. */
export interface AlarmStatus {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  reason: string;
  transitionedAt?: Date;
}

/** DescribeAlarms takes at most 100 names a call (and pages its answer, 50 alarms a page). */
const NAMES_PER_CALL = 100;
/**
 * 100 names give at most 100 alarms: two pages, three when metric and composite alarms are paged
 * apart. More pages than this for one batch is CloudWatch misbehaving, not a longer list.
 */
const MAX_PAGES_PER_CALL = 5;

/**
 * The named alarms (metric or composite) CloudWatch has, by name: asked 100 names at a time, every
 * page read. A name CloudWatch does not know is absent from the map.
 */
export async function describeAlarms(names: readonly string[]): Promise<Map<string, AlarmStatus>> {
  const found = new Map<string, AlarmStatus>();
  for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
    const pages = everyPage(
      'DescribeAlarms',
      MAX_PAGES_PER_CALL,
      (NextToken) =>
        cloudwatch.send(
          new DescribeAlarmsCommand({
            AlarmNames: names.slice(i, i + NAMES_PER_CALL),
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            NextToken,
          }),
        ),
      `for ${NAMES_PER_CALL} alarm names`,
    );
    for await (const out of pages) {
      for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        const name = alarm.AlarmName ?? '';
        const transitionedAt = alarm.StateTransitionedTimestamp ?? alarm.StateUpdatedTimestamp;
        found.set(name, {
          name,
          state: alarm.StateValue ?? 'INSUFFICIENT_DATA',
          reason: alarm.StateReason ?? '',
          ...(transitionedAt ? { transitionedAt } : {}),
        });
      }
    }
  }
  return found;
}

/** Which of the named alarms (metric or composite) are in ALARM, and which do not exist. */
export async function checkAlarms(names: readonly string[]): Promise<AlarmReport> {
  const found = await describeAlarms(names);
  const report: AlarmReport = { alarming: [], missing: [], quiet: [] };
  for (const alarm of found.values()) {
    if (alarm.state === 'ALARM') {
      const since = alarm.transitionedAt?.toISOString();
      report.alarming.push({ name: alarm.name, reason: alarm.reason, ...(since ? { since } : {}) });
      continue;
    }
    report.quiet.push({
      name: alarm.name,
      ...(alarm.transitionedAt ? { transitionedAt: alarm.transitionedAt } : {}),
    });
  }
  report.missing = names.filter((name) => !found.has(name));
  return report;
}

/** Requests the target group served in the last `seconds` (undefined when CloudWatch has no data). */
export async function recentRequests(
  dimensions: { TargetGroup: string; LoadBalancer?: string },
  seconds: number,
): Promise<number | undefined> {
  const end = new Date();
  const values: number[] = [];
  // GetMetricData pages its answer (NextToken): every page is read. One datapoint a minute of the
  // window fits one page many times over (a page holds up to 100,800), so more pages than this
  // is CloudWatch misbehaving.
  const pages = everyPage('GetMetricData', MAX_METRIC_PAGES, (NextToken) =>
    cloudwatch.send(requestCountQuery(dimensions, seconds, end, NextToken)),
  );
  for await (const out of pages) values.push(...(out.MetricDataResults?.[0]?.Values ?? []));
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
}

const MAX_METRIC_PAGES = 5;

function requestCountQuery(
  dimensions: { TargetGroup: string; LoadBalancer?: string },
  seconds: number,
  end: Date,
  NextToken: string | undefined,
): GetMetricDataCommand {
  return new GetMetricDataCommand({
    StartTime: new Date(end.getTime() - seconds * 1000),
    EndTime: end,
    NextToken,
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
  });
}
