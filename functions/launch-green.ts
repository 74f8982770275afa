import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { launchGreen } from '#shared/tasks/launch-green.ts';

/** What the state machine passes: the execution state, and the execution (it claims green's slot). */
export interface LaunchRequest {
  deployment: DeploymentState;
  executionArn: string;
}

/** "Launch the green fleet": claim green's slot, then RunInstances from the launch template with the baked AMI. */
export const handler = defineTask('launch-green', (request: LaunchRequest) =>
  launchGreen(request.deployment, request.executionArn),
);
