import { LIMITS } from '../domain/config.ts';
import { approvalTimedOut, causeMessage } from '../domain/report.ts';
import { failedOnGreen } from '../domain/return-to-blue.ts';
import { alarmedAtOf } from '../domain/text.ts';
import { formatWeights, weightsForStep } from '../domain/traffic.ts';
import type { DeploymentState, TrafficRollback } from '../domain/workflow.ts';
import { CALLBACK_ERRORS, RollbackBlocked } from '../errors.ts';
import { logger } from '../logger.ts';
import { tellProgress } from '../operations/progress.ts';
import { greenHeldByAnother } from '../operations/slot-tags.ts';
import { returnTrafficToBlue } from '../operations/traffic-moves.ts';
import { readTraffic } from '../operations/weights.ts';
import { need } from '../state.ts';

/**
 * When the watched alarm whose ALARM failed the deployment went into ALARM, if one did. The
 * rollback execution of a deployment stopped while its alarm's rollback ran has the stop as its
 * failure: the time the first rollback recorded stays.
 */
function alarmCausedIt(state: DeploymentState): Pick<TrafficRollback, 'alarmedAt'> {
  const alarmedAt =
    state.failure?.Error === CALLBACK_ERRORS.alarm
      ? alarmedAtOf(causeMessage(state.failure))
      : state.rollbackTraffic?.alarmedAt;
  return alarmedAt ? { alarmedAt } : {};
}

/**
 * Puts all traffic back on blue in one change batch, when the rollback rule allows it (blue has a
 * healthy target and is healthier than green; see domain/return-to-blue.ts); otherwise the traffic
 * stays and the rollback is blocked, saying why. Writes nothing when traffic never left blue (no
 * step was shifted and green has no weight), or when green's slot is another deployment's (its
 * traffic is that deployment's). Once a step was shifted it always writes, even when the records
 * already point at blue: a retry after its own write must still wait for INSYNC and the TTL before
 * green goes.
 */
export async function rollBackTraffic(input: DeploymentState): Promise<TrafficRollback> {
  const state = need(input, 'plan');
  const { plan } = state;
  const alarmed = alarmCausedIt(state);
  const { weights: current, stickinessSeconds } = await readTraffic(plan);
  // How long a client may still reach green once it has no weight: the plan's TTL or stickiness,
  // or the listener's stickiness as it is now when someone lengthened it since Plan (a client
  // that came while green had weight keeps its group that long), up to the longest Plan accepts
  // (which keeps the lock's bound).
  const leaveSeconds = Math.max(plan.leaveSeconds, Math.min(stickinessSeconds, LIMITS.ttlSeconds));
  // Green's slot taken by another deployment (or app/env): the traffic on it is theirs.
  const another = await greenHeldByAnother(plan, state.deploymentId);
  if (another) {
    return {
      ...alarmed,
      leaveSeconds,
      changed: false,
      weights: null,
      summary: `${another}: its traffic is not this deployment's to move (${formatWeights(current)})`,
      dns: null,
    };
  }
  if ((current[plan.green] ?? 0) === 0 && !state.shift) {
    return {
      ...alarmed,
      leaveSeconds,
      changed: false,
      weights: null,
      summary: `traffic never left blue (${formatWeights(current)})`,
      dns: null,
    };
  }
  if (plan.blue === null) {
    throw new RollbackBlocked(
      `green slot ${plan.green} carries traffic (${formatWeights(current)}) and this was the first deployment: there is no previous fleet to return it to`,
    );
  }
  const comment = `${state.deploymentId} rollback: all traffic to slot ${plan.blue}`;
  const greenFailed = failedOnGreen({
    error: state.failure?.Error,
    unapproved: approvalTimedOut(state) !== null,
  });
  const moved = await returnTrafficToBlue(plan, plan.blue, greenFailed, comment, current);
  if ('refused' in moved) {
    throw new RollbackBlocked(
      `not returning traffic to blue slot ${plan.blue}: ${moved.refused}; the traffic stays as it is (${formatWeights(current)})`,
    );
  }
  const { dns } = moved;
  const weights = weightsForStep(plan.green, 0);
  logger.warn('traffic rolled back to blue', { weights, changeId: dns.changeId });
  await tellProgress(state, 'traffic-returned', { weights, green: plan.green });
  return {
    ...alarmed,
    leaveSeconds,
    changed: true,
    weights,
    summary: `traffic returned to slot ${plan.blue} (${formatWeights(weights)})`,
    dns,
  };
}
