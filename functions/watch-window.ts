import { watchWindow } from '#shared/deploy/traffic.ts';
import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';

/** "Watch green during the termination window": alarms and health until the window ends. */
export const handler = defineTask('watch-window', (state: DeploymentState) => watchWindow(state));
