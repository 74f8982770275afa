import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { watchWindow } from '#shared/tasks/watch-window.ts';

/** "Watch green during the termination window": alarms and health until the window ends. */
export const handler = defineTask('watch-window', (state: DeploymentState) => watchWindow(state));
