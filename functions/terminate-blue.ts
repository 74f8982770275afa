import { terminateBlue } from '#shared/deploy/retire.ts';
import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';

/** "Terminate the blue fleet": deregister and terminate, only once blue carries no traffic. */
export const handler = defineTask('terminate-blue', (state: DeploymentState) => terminateBlue(state));
