import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { healSplit } from '#shared/tasks/heal-split.ts';

/** What the state machine passes: the execution state, and the execution (it claims the slot it clears). */
export interface HealRequest {
  deployment: DeploymentState;
  executionArn: string;
}

/** "Move all traffic to the healthier slot": the first step of healing a traffic split. */
export const handler = defineTask('heal-split', (request: HealRequest) =>
  healSplit(request.deployment, request.executionArn),
);
