import { requireEnv } from '#shared/env.ts';
import { defineTask } from '#shared/task.ts';
import { onAwsEvent } from '#shared/tasks/on-aws-event.ts';

const env = requireEnv('LOCKS_TABLE');

/** EventBridge: Image Builder image state changes and CloudWatch alarm state changes end waits. */
export const handler = defineTask('on-aws-event', (event: Parameters<typeof onAwsEvent>[0]) =>
  onAwsEvent(event, env.LOCKS_TABLE),
);
