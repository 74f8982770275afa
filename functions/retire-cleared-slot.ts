import type { DeploymentState } from '#shared/domain/workflow.ts';
import { defineTask } from '#shared/task.ts';
import { retireClearedSlot } from '#shared/tasks/retire-cleared-slot.ts';

/** "Terminate the other slot's fleet" after it drained. */
export const handler = defineTask('retire-cleared-slot', (state: DeploymentState) =>
  retireClearedSlot(state),
);
