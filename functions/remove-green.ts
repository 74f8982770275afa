import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { removeGreen } from '#shared/tasks/remove-green.ts';

/** "Remove the green fleet": deregister and terminate what this deployment launched. */
export const handler = defineTask('remove-green', (state: DeploymentState) => removeGreen(state));
