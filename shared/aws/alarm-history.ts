import { DescribeAlarmHistoryCommand } from '@aws-sdk/client-cloudwatch';
import { logger } from '../logger.ts';
import { cloudwatch } from './cloudwatch.ts';

/**
 * History pages read per alarm at most (100 state changes each): an alarm on a sparse metric that
 * flips between OK and INSUFFICIENT_DATA every minute through a 7-day approval wait fits.
 */
const MAX_HISTORY_PAGES = 110;

/**
 * How far before `since` the history is read: `since` comes from the function's clock, the
 * history's times from CloudWatch's, and a moment in between must not go unread.
 */
export const CLOCK_MARGIN_MS = 30_000;

/**
 * When the alarm went into ALARM after `since` (the first time: the history is read oldest first,
 * so an alarm that fired and cleared twice while a person decided is timed from when it first
 * fired, as AlarmToBlueSeconds is), and why; undefined if it did not. Only a real transition to
 * ALARM counts: flips between OK and INSUFFICIENT_DATA do not.
 */
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
        StartDate: new Date(since.getTime() - CLOCK_MARGIN_MS),
        ScanBy: 'TimestampAscending',
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
  // Read no further: what was read holds no ALARM, and the current state (checked too) is not one.
  logger.warn('alarm history too long to read in full', { alarm: name, since, pages: MAX_HISTORY_PAGES });
  return undefined;
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
