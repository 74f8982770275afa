import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { launchGreen } from '#shared/tasks/launch-green.ts';

/** "Launch the green fleet": RunInstances from the launch template with the baked AMI. */
export const handler = defineTask('launch-green', (state: DeploymentState) => launchGreen(state));
