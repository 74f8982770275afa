import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { checkGreenHealth } from '#shared/tasks/check-green-health.ts';

/** "Check green health": register running instances, judge target health, bounded by the health timeout. */
export const handler = defineTask('check-green-health', (state: DeploymentState) => checkGreenHealth(state));
