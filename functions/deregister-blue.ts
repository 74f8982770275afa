import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { deregisterBlue } from '#shared/tasks/deregister-blue.ts';

/** "Deregister the blue fleet": out of its target group, so ELB drains it. */
export const handler = defineTask('deregister-blue', (state: DeploymentState) => deregisterBlue(state));
