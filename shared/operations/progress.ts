import { putEvents } from '../aws/eventbridge.ts';
import {
  type ProgressFacts,
  type ProgressPhase,
  type ProgressSubject,
  progressEvent,
} from '../domain/progress.ts';
import { logger } from '../logger.ts';

/**
 * Tells the bus that `subject`'s deployment reached `phase` (see shared/domain/progress.ts).
 * Best effort: a put that fails is logged and never fails the task, nor makes it retry (the
 * deployment matters more than its watchers). Never throws.
 */
export async function tellProgress(
  subject: ProgressSubject,
  phase: ProgressPhase,
  facts: ProgressFacts = {},
  at: Date = new Date(),
): Promise<void> {
  const event = progressEvent(subject, phase, at, facts);
  try {
    await putEvents([event]);
  } catch (error) {
    logger.warn('could not put the progress event; the deployment goes on', {
      detailType: event.detailType,
      id: event.detail.id,
      error,
    });
  }
}
