import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { checkBake } from '#shared/tasks/check-bake.ts';

/** "Check the AMI bake": one bounded poll of the Image Builder build. */
export const handler = defineTask('check-bake', (state: DeploymentState) => checkBake(state));
