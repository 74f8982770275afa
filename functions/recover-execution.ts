import type { EventBridgeEvent } from 'aws-lambda';
import type { ExecutionStatusChange } from '#shared/domain/recovery.ts';
import { requireEnv } from '#shared/env.ts';
import { defineTask } from '#shared/task.ts';
import { recoverExecution } from '#shared/tasks/recover-execution.ts';

const env = requireEnv('LOCKS_TABLE', 'NOTIFICATION_TOPIC_ARN', 'ROLLBACK_STATE_MACHINE_ARN');

/** EventBridge, every execution end: a lock left behind, or a stop/timeout/crash with no rollback run. */
export const handler = defineTask(
  'recover-execution',
  (event: EventBridgeEvent<string, ExecutionStatusChange>, context) =>
    recoverExecution(event, {
      locksTable: env.LOCKS_TABLE,
      defaultTopicArn: env.NOTIFICATION_TOPIC_ARN,
      rollbackStateMachineArn: env.ROLLBACK_STATE_MACHINE_ARN,
      remainingMs: () => context.getRemainingTimeInMillis(),
    }),
);
