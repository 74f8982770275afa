import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

/** One attempt per put: progress events are best effort, and a task never waits on retries of one. */
export const eventbridge = new EventBridgeClient({ maxAttempts: 1 });

export interface BusEntry {
  source: string;
  detailType: string;
  detail: object;
}

/**
 * Puts events on the account's default bus. PutEvents answers 200 even when it refused entries:
 * a refused entry is thrown here with its error code, so that a caller sees every loss the same way.
 */
export async function putEvents(entries: readonly BusEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const out = await eventbridge.send(
    new PutEventsCommand({
      Entries: entries.map((entry) => ({
        Source: entry.source,
        DetailType: entry.detailType,
        Detail: JSON.stringify(entry.detail),
      })),
    }),
  );
  if ((out.FailedEntryCount ?? 0) > 0) {
    const codes = (out.Entries ?? []).flatMap((e) =>
      e.ErrorCode ? [`${e.ErrorCode}: ${e.ErrorMessage ?? ''}`] : [],
    );
    throw new Error(
      `EventBridge refused ${out.FailedEntryCount} of ${entries.length} events (${codes.join('; ')})`,
    );
  }
}
