import { requireEnv } from '#shared/env.ts';
import { defineTask } from '#shared/task.ts';
import { redriveWaits } from '#shared/tasks/redrive-waits.ts';

const env = requireEnv('LOCKS_TABLE');

/** Scheduled every minute: resumes the waits whose Image Builder or CloudWatch event was lost. */
export const handler = defineTask('redrive-waits', () => redriveWaits(env.LOCKS_TABLE));
