import { DescribeAlarmHistoryCommand } from '@aws-sdk/client-cloudwatch';
import { cloudwatch } from './cloudwatch.ts';

/** History pages read per alarm at most (100 state changes each). */
const MAX_HISTORY_PAGES = 5;

/** When the alarm last went into ALARM after `since`, and why; undefined if it did not. */
export async function alarmedSince(
  name: string,
  since: Date,
): Promise<{ at: Date; reason: string } | undefined> {
  let NextToken: string | undefined;
  for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
    const out = await cloudwatch.send(
      new DescribeAlarmHistoryCommand({
        AlarmName: name,
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        HistoryItemType: 'StateUpdate',
        StartDate: since,
        EndDate: new Date(),
        ScanBy: 'TimestampDescending',
        MaxRecords: 100,
        NextToken,
      }),
    );
    for (const item of out.AlarmHistoryItems ?? []) {
      const data = parseHistoryData(item.HistoryData);
      if (data?.newState?.stateValue === 'ALARM') {
        return {
          at: item.Timestamp ?? since,
          reason: data.newState.stateReason ?? item.HistorySummary ?? '',
        };
      }
    }
    NextToken = out.NextToken;
    if (!NextToken) return undefined;
  }
  // More changes than that in one interval: an alarm this restless has surely fired.
  return {
    at: since,
    reason: `more than ${MAX_HISTORY_PAGES * 100} state changes since ${since.toISOString()}`,
  };
}

function parseHistoryData(
  text: string | undefined,
): { newState?: { stateValue?: string; stateReason?: string } } | undefined {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}
