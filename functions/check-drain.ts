import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { checkDrain } from '#shared/tasks/check-drain.ts';

/** "Check that blue has drained": ELB draining done, the target group idle, or the delay over. */
export const handler = defineTask('check-drain', (state: DeploymentState) => checkDrain(state));
