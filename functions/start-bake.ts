import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { startBake } from '#shared/tasks/start-bake.ts';

/** "Find or start the AMI bake": reuse the AMI baked from this artifact, or start a build. */
export const handler = defineTask('start-bake', (state: DeploymentState) => startBake(state));
