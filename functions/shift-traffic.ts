import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { shiftTraffic } from '#shared/tasks/shift-traffic.ts';

/** "Shift traffic to the next step": both weighted records in one change batch. */
export const handler = defineTask('shift-traffic', (state: DeploymentState) => shiftTraffic(state));
