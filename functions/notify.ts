import { requireEnv } from '#shared/env.ts';
import { defineTask } from '#shared/task.ts';
import { type NotifyInput, notify } from '#shared/tasks/notify.ts';

const env = requireEnv('NOTIFICATION_TOPIC_ARN', 'LOCKS_TABLE');

/** Publishes the outcome of a deployment (succeeded, failed, rolled back, rollback failed) to SNS, once, then releases the lock. */
export const handler = defineTask('notify', (input: NotifyInput, context) =>
  notify(input, env.NOTIFICATION_TOPIC_ARN, env.LOCKS_TABLE, () => context.getRemainingTimeInMillis()),
);
