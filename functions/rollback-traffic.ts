import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { rollBackTraffic } from '#shared/tasks/rollback-traffic.ts';

/** "Return traffic to blue": all traffic back on blue in one change batch. */
export const handler = defineTask('rollback-traffic', (state: DeploymentState) => rollBackTraffic(state));
