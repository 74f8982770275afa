import type { SimExecution } from './aws/sfn.ts';
import type { LoadedDefinition } from './definition.ts';

/**
 * The history events Step Functions writes for what an execution did: a Lambda task writes 5
 * (entered, scheduled, started, succeeded or failed, exited), a `.waitForTaskToken` task 6 (it is
 * also submitted), Wait, Choice, Pass and Succeed 2, Fail 1, each retry 3 more, and the execution
 * itself 2. A Standard execution may write at most 25,000.
 */
export function historyEvents(execution: SimExecution, loaded: LoadedDefinition): number {
  let events = 2 + execution.retries * 3;
  for (const state of execution.states) {
    if (state.type === 'Task') events += loaded.callbacks.has(state.name) ? 6 : 5;
    else if (state.type === 'Fail') events += 1;
    else events += 2;
  }
  return events;
}

/** Step Functions ends a Standard execution that writes more history events than this. */
export const HISTORY_LIMIT = 25_000;
