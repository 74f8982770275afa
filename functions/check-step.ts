import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { checkStep } from '#shared/tasks/check-step.ts';

/** "Check alarms and green health" after a traffic step has settled. */
export const handler = defineTask('check-step', (state: DeploymentState) => checkStep(state));
