import { requireEnv } from '#shared/env.ts';
import { defineTask } from '#shared/task.ts';
import { type LockRequest, requestLock } from '#shared/tasks/acquire-lock.ts';

const env = requireEnv('LOCKS_TABLE');

/** "Take the deployment lock": invoked with .waitForTaskToken; resumed when this execution owns it. */
export const handler = defineTask('acquire-lock', (request: LockRequest) =>
  requestLock(request, env.LOCKS_TABLE),
);
