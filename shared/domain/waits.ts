/**
 * Waiting on AWS events instead of polling: a task parks its execution on a task token under one
 * of these ids, and the event handler resumes it the moment the event arrives. A bounded timeout on
 * the waiting state is the fallback when an event is late or lost (EventBridge delivers best effort).
 */

export function bakeWaitId(imageBuildVersionArn: string): string {
  return `bake#${imageBuildVersionArn}`;
}

export function alarmWatchId(deploymentId: string): string {
  return `watch#${deploymentId}`;
}

/** How long a bake wait lasts before the state machine polls once anyway. */
export const BAKE_FALLBACK_SECONDS = 900;

/** Waits are kept a day after they could matter, then DynamoDB removes them. */
export function waitTtl(now: Date, seconds: number): number {
  return Math.floor(now.getTime() / 1000) + seconds + 86_400;
}
