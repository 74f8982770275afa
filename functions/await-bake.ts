import { requireEnv } from '#shared/env.ts';
import { defineTask } from '#shared/task.ts';
import { awaitBake, type BakeWaitRequest } from '#shared/tasks/await-bake.ts';

const env = requireEnv('LOCKS_TABLE');

/** "Wait for the AMI bake": invoked with .waitForTaskToken; resumed by Image Builder's event. */
export const handler = defineTask('await-bake', (request: BakeWaitRequest) =>
  awaitBake(request, env.LOCKS_TABLE),
);
