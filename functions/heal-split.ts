import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { healSplit } from '#shared/tasks/heal-split.ts';

/** "Move all traffic to the healthier slot": the first step of healing a traffic split. */
export const handler = defineTask('heal-split', (state: DeploymentState) => healSplit(state));
