import { checkBake } from '#shared/deploy/bake.ts';
import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';

/** "Check the AMI bake": one bounded poll of the Image Builder build. */
export const handler = defineTask('check-bake', (state: DeploymentState) => checkBake(state));
