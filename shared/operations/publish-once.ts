import { randomUUID } from 'node:crypto';
import { claimPublication, getPublication, settlePublication } from '../aws/dynamodb.ts';
import { publish } from '../aws/sns.ts';
import type { MessageAttributes } from '../domain/notifications.ts';
import {
  CLAIM_MARGIN_MS,
  PUBLICATION_TTL_SECONDS,
  type PublicationRecord,
  standing,
} from '../domain/publication.ts';
import { NotificationInFlight } from '../errors.ts';
import { logger } from '../logger.ts';

/** A message ready to publish, and what its sender returns once it is out. */
export interface Composed<T> {
  topicArn: string;
  subject: string;
  message: string;
  attributes: MessageAttributes;
  result: (messageId: string) => T;
}

export interface Told<T> {
  value: T;
  /** Published by an earlier invocation: nothing was published now. */
  repeat: boolean;
}

/**
 * Publishes a final notification once per record id, however often it is asked (see
 * domain/publication.ts): claims the publication, composes and publishes the message, records
 * what was sent. A repeat gets what was sent; an invocation meeting another one's live claim
 * throws NotificationInFlight (its state asks again later). When the first claim cannot be written
 * at all (the table fails), the message goes out unrecorded: told, if maybe twice, rather than never.
 * `remainingMs`: time left before this invocation's Lambda times out (the claim's deadline).
 */
export async function publishOnce<T>(
  table: string,
  id: string,
  remainingMs: () => number,
  compose: () => Promise<Composed<T>>,
): Promise<Told<T>> {
  const now = Date.now();
  const claim: PublicationRecord<T> = {
    id,
    state: 'publishing',
    claimant: randomUUID(),
    until: now + Math.max(0, remainingMs()) + CLAIM_MARGIN_MS,
    ttl: Math.floor(now / 1000) + PUBLICATION_TTL_SECONDS,
  };
  let claimed: boolean;
  try {
    claimed = await claimPublication(table, claim);
  } catch (error) {
    logger.error('could not record the notification before publishing it: publishing it unrecorded', {
      record: id,
      error,
    });
    return { value: await publishClaimed(table, claim, false, compose), repeat: false };
  }
  if (!claimed) {
    // A record exists. Errors from here on are thrown (and retried): the table has just answered,
    // and publishing unrecorded now could repeat a message that went out.
    const found = await getPublication<T>(table, id);
    // Our own claim: the SDK retried a put that was written but whose answer was lost.
    const ours = found?.state === 'publishing' && found.claimant === claim.claimant;
    const where = found && !ours ? standing(found, Date.now()) : undefined;
    if (where?.kind === 'published') {
      logger.info('notification published already: not publishing it again', { record: id });
      return { value: where.published, repeat: true };
    }
    if (where?.kind === 'in-flight') {
      throw new NotificationInFlight(
        `another invocation is publishing this notification (its claim runs until ${new Date(where.until).toISOString()}); asking again after it`,
      );
    }
    if (!ours && !(await claimPublication(table, claim, where?.claimant))) {
      throw new NotificationInFlight(
        'another invocation took over the claim on this notification at the same moment; asking again after it',
      );
    }
    if (!ours && found?.state === 'publishing') {
      logger.warn(
        'taking over the notification of an invocation that died before it recorded the publication: it may have gone out once already (at least once)',
        { record: id },
      );
    }
  }
  return { value: await publishClaimed(table, claim, true, compose), repeat: false };
}

async function publishClaimed<T>(
  table: string,
  claim: PublicationRecord<T>,
  recorded: boolean,
  compose: () => Promise<Composed<T>>,
): Promise<T> {
  let value: T;
  try {
    const composed = await compose();
    const messageId = await publish(
      composed.topicArn,
      composed.subject,
      composed.message,
      composed.attributes,
    );
    value = composed.result(messageId);
  } catch (error) {
    // Nothing went out (or SNS took it and its answer was lost: at least once): free the claim,
    // so the retry publishes at once instead of waiting it out.
    if (recorded)
      await settlePublication(table, { ...claim, state: 'abandoned', until: 0 }).catch((e: unknown) =>
        logger.warn('could not free the claim on the notification', { record: claim.id, error: e }),
      );
    throw error;
  }
  if (!recorded) {
    // The claim could not be written before; record what went out now if the table answers, so a
    // retry of this invocation (its next step may fail too) finds it published instead of telling again.
    await claimPublication(table, { ...claim, state: 'published', published: value }).catch(
      (error: unknown) =>
        logger.warn('published unrecorded, and still could not record it: a repeat may publish again', {
          record: claim.id,
          error,
        }),
    );
    return value;
  }
  const settled = await settlePublication(table, { ...claim, state: 'published', published: value }).catch(
    (error: unknown) => {
      logger.warn('published, but could not record it: a repeat may publish again', {
        record: claim.id,
        error,
      });
      return true;
    },
  );
  if (!settled) logger.warn('published after another invocation took the claim over', { record: claim.id });
  return value;
}
