import { releaseKey, type ScenarioContext } from '../../sim/scenarios.ts';
import type { World } from '../../sim/world.ts';

/** Uploads release `version` of the web app and delivers its S3 event now. */
export function uploadRelease(ctx: ScenarioContext, version: string): void {
  ctx.deliver([ctx.upload(releaseKey(version), `PK\u0003\u0004 web ${version}`)]);
}

/** The execution that deploys release `version`. */
export function executionOf(world: World, version: string) {
  return [...world.sfn.executions.values()].find((e) => e.name.includes(version.replaceAll('.', '_')));
}

/** Presses Stop on the execution that deploys release `version`. */
export function stopRelease(ctx: ScenarioContext, version: string): void {
  const execution = executionOf(ctx.world, version);
  if (execution) ctx.stop(execution.name);
}
