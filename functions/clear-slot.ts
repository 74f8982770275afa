import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { clearSlot } from '#shared/tasks/clear-slot.ts';

/** "Take the other slot out of service": deregister our instances in the slot that lost its traffic. */
export const handler = defineTask('clear-slot', (state: DeploymentState) => clearSlot(state));
