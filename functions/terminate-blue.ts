import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { terminateBlue } from '#shared/tasks/terminate-blue.ts';

/** "Terminate the blue fleet": deregister and terminate, only once blue carries no traffic. */
export const handler = defineTask('terminate-blue', (state: DeploymentState) => terminateBlue(state));
