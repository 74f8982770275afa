import { requireEnv } from '#shared/env.ts';
import { defineTask } from '#shared/task.ts';
import { type AlarmWatchRequest, watchAlarms } from '#shared/tasks/watch-alarms.ts';

const env = requireEnv('LOCKS_TABLE');

/** Settle and window waits: invoked with .waitForTaskToken; failed at once by a watched alarm. */
export const handler = defineTask('watch-alarms', (request: AlarmWatchRequest) =>
  watchAlarms(request, env.LOCKS_TABLE),
);
