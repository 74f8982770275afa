import type { EventBridgeEvent } from 'aws-lambda';
import { requireEnv } from '#shared/env.ts';
import { defineTask } from '#shared/task.ts';
import { type ExecutionStatusChange, recoverExecution } from '#shared/tasks/recover-execution.ts';

const env = requireEnv('LOCKS_TABLE', 'NOTIFICATION_TOPIC_ARN');

/** EventBridge: an execution stopped, timed out or failed without running its own rollback. */
export const handler = defineTask(
  'recover-execution',
  (event: EventBridgeEvent<string, ExecutionStatusChange>) =>
    recoverExecution(event, { locksTable: env.LOCKS_TABLE, defaultTopicArn: env.NOTIFICATION_TOPIC_ARN }),
);
