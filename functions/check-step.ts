import { checkStep } from '#shared/deploy/traffic.ts';
import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';

/** "Check alarms and green health" after a traffic step has settled. */
export const handler = defineTask('check-step', (state: DeploymentState) => checkStep(state));
