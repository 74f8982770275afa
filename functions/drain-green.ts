import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { drainGreen } from '#shared/tasks/drain-green.ts';

/** "Take green out of service": deregister what this deployment launched, to let it drain. */
export const handler = defineTask('drain-green', (state: DeploymentState) => drainGreen(state));
