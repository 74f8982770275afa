import type { World } from '../../sim/world.ts';
import type { ScenarioContext } from '../../sim/worlds.ts';

/** The execution that deploys release `version`. */
export function executionOf(world: World, version: string) {
  return [...world.sfn.executions.values()].find((e) => e.name.includes(version.replaceAll('.', '_')));
}

/** Presses Stop on the execution that deploys release `version`. */
export function stopRelease(ctx: ScenarioContext, version: string): void {
  const execution = executionOf(ctx.world, version);
  if (execution) ctx.stop(execution.name);
}

/**
 * The recovery never runs for the next Stop (of release `version`, or of any): its status change is
 * lost, or every attempt of it dies (a Lambda timeout or crash, before it could tell or release).
 */
export function recoveryNeverComes(world: World, version?: string): void {
  const put = world.events.put.bind(world.events);
  let dropped = false;
  world.events.put = (event) => {
    const detail = event.detail as { status?: string; name?: string };
    const ours = version === undefined || (detail.name ?? '').includes(version.replaceAll('.', '_'));
    if (!dropped && event.source === 'aws.states' && detail.status === 'ABORTED' && ours) {
      dropped = true;
      return;
    }
    put(event);
  };
}
