/**
 * One outcome, one message. A final notification is published by a Lambda task that Step
 * Functions may run twice (a timeout after it published, a duplicate delivery), and SNS standard
 * topics have no deduplication. So the publication is recorded beside the locks, under
 * `notified#<execution>`: claimed before the publish (a conditional put), marked published with
 * what was sent after it. A repeat finds the record and returns what was sent, publishing nothing.
 *
 * The window left is a crash between the publish and its record: the claim then runs out at the
 * claimant's deadline (its Lambda timeout) and the next attempt publishes again. At least once,
 * chosen over at most once: a person told twice can tell, a person never told cannot. Likewise
 * when the table cannot be written at all, the message goes out unrecorded.
 */

export type PublicationState = 'publishing' | 'published' | 'abandoned';

export interface PublicationRecord<T> {
  id: string;
  state: PublicationState;
  /** Which invocation claimed it (a random id per attempt). */
  claimant: string;
  /** Epoch milliseconds until which the claimant may still be publishing (its deadline). */
  until: number;
  /** What was published, returned to every repeat. */
  published?: T;
  /** DynamoDB TTL (epoch seconds). */
  ttl: number;
}

/** Kept a week: every retry and duplicate of a final notification comes within minutes. */
export const PUBLICATION_TTL_SECONDS = 7 * 86_400;

/** Margin on a claimant's deadline for clocks that differ between invocations. */
export const CLAIM_MARGIN_MS = 5_000;

/** The record of an execution's final notification (`kind` for a second kind of message). */
export function publicationId(execution: string, kind?: string): string {
  return `notified#${execution}${kind ? `#${kind}` : ''}`;
}

export type Standing<T> =
  | { kind: 'published'; published: T }
  /** Another invocation holds the claim and may be publishing now. */
  | { kind: 'in-flight'; until: number }
  /** Nobody publishes: the claimant gave up after a failed publish, or died (its deadline passed). */
  | { kind: 'free'; claimant: string };

/** What a record found at claim time means. */
export function standing<T>(record: PublicationRecord<T>, now: number): Standing<T> {
  if (record.state === 'published' && record.published !== undefined)
    return { kind: 'published', published: record.published };
  if (record.state === 'publishing' && now <= record.until) return { kind: 'in-flight', until: record.until };
  return { kind: 'free', claimant: record.claimant };
}
