import { findManagedInstances } from '../aws/ec2.ts';
import type { ExecutionHistory } from '../aws/sfn.ts';
import { idList } from '../domain/leftovers.ts';
import type { RecoveryReport } from '../domain/recovery.ts';
import { failedOnGreen } from '../domain/return-to-blue.ts';
import { STATE } from '../domain/states.ts';
import { TAG } from '../domain/tags.ts';
import { formatWeights, sameWeights } from '../domain/traffic.ts';
import type { Plan } from '../domain/workflow.ts';
import { greenFleetOf, retireInstances } from './fleet.ts';
import { releaseBlue } from './groups.ts';
import { greenSlotStanding } from './slot-tags.ts';
import { healLeftovers } from './survey.ts';
import { returnDecision } from './traffic-moves.ts';
import { readWeights } from './weights.ts';

/** A stopped execution, as the recovery knows it. */
export interface Stopped {
  plan: Plan;
  history: ExecutionHistory;
  deploymentId: string;
  app: string;
  env: string;
  status: string;
  /** It still holds the app/env lock; else nobody does (see LockStanding). */
  lockHeld: boolean;
}

/** Whether the deployment moved traffic: the records say so, or else its history does. */
export async function moved(history: ExecutionHistory, state: string, weightsSay: boolean): Promise<boolean> {
  return weightsSay || (await history.firstOutput(state)) !== undefined;
}

/**
 * What the recovery puts back itself, where no rollback execution is started for it: instances of
 * a launch that never said what it launched, and nothing of a slot that is not this deployment's.
 * With green's slot another's, its traffic is that one's and only this deployment's instances go
 * (kept, and named, when nobody holds the lock). With nobody holding the lock and green's claim
 * not naming this deployment, a traffic step is not known to be its own to undo: nothing moves,
 * and what a person may do is what the rollback rule says now. A heal that ran leaves what it had
 * not cleared listed.
 */
export async function restoreTraffic(stopped: Stopped, report: RecoveryReport): Promise<void> {
  const { plan, history, deploymentId, status } = stopped;
  const weights = await readWeights(plan);
  // The heal comes before anything is launched. Whether it ran is in the history: the weights
  // alone cannot tell, since a traffic step may recreate the very split the deploy found.
  const { heal } = plan;
  const healed =
    heal !== undefined && (await moved(history, STATE.heal, !sameWeights(weights, heal.weights)));
  if (heal && !healed) return;
  const { another, claimedByMe } = await greenSlotStanding(plan, deploymentId);
  if (another) {
    // Green's slot held by another deployment: its traffic is that one's; only ours go. With
    // nobody holding the lock, the claim is all that says whose the slot is, and it names another:
    // this deployment's instances may be registered there, serving that one's traffic.
    report.actions.push(`${another}, so its traffic was left as it is`);
    if (!stopped.lockHeld) {
      const kept = (await findManagedInstances({ [TAG.deploymentId]: deploymentId })).map((i) => i.id);
      if (kept.length > 0)
        report.leftOver.push(
          `this deployment's instances (tagged ${TAG.deploymentId}=${deploymentId}) were kept, since nobody holds the lock and ${another}: ${idList(kept)}; if they are registered in slot ${plan.green}'s target group, deregister them only once it carries no traffic or has healthy targets besides them, then terminate them`,
        );
      if (heal) report.leftOver.push(...(await healLeftovers({ ...stopped, plan: { ...plan, heal } })));
      return;
    }
  } else if (!stopped.lockHeld && !claimedByMe) {
    // Nobody holds the lock and green's claim does not name this deployment: a traffic step it
    // wrote is not known to be its own to undo, and its instances may serve it; both are kept.
    if (await moved(history, STATE.shift, (weights[plan.green] ?? 0) > 0)) {
      const mine = `the instances tagged ${TAG.deploymentId}=${deploymentId}`;
      // What a person may do with blue is what the rollback rule says now, as everywhere else.
      const back = plan.blue ? await returnDecision(plan, plan.blue, failedOnGreen({ status })) : undefined;
      const then = !plan.blue
        ? `slot ${plan.green} is the only slot with a fleet, and they serve its traffic`
        : back?.toBlue
          ? `once no other deployment is found to fill slot ${plan.green}, put all traffic on slot ${plan.blue} if it is not there (the rollback rule allows it now: ${back.why}), then terminate them once ${plan.listener ? `sticky clients have left them (the forward action's target group stickiness, ${plan.leaveSeconds} s)` : `resolvers have left them (the record TTL, ${plan.leaveSeconds} s)`}`
          : `keep the traffic where it is: ${back?.why}; move it to slot ${plan.blue} only once slot ${plan.blue} is at least as healthy as slot ${plan.green}`;
      report.leftOver.push(
        `green slot ${plan.green}'s target group does not name this deployment as the one filling it (${TAG.deploymentId}), and with no lock held nothing else says its traffic is this deployment's to move, so traffic stays as it is (${formatWeights(weights)}) and ${mine} were kept: ${then}`,
      );
      return;
    }
  }
  const after = await readWeights(plan);
  if (!another && (after[plan.green] ?? 0) > 0) {
    report.leftOver.push(
      `green slot ${plan.green} carries traffic (${formatWeights(after)}) and there is no previous fleet to return it to; its instances were kept`,
    );
    return;
  }
  const removed = await retireInstances(greenFleetOf(plan, deploymentId));
  await releaseBlue(plan);
  if (removed.terminated > 0)
    report.actions.push(
      `${removed.terminated} green instance(s) terminated (tagged ${TAG.deploymentId}=${deploymentId})`,
    );
  if (heal) report.leftOver.push(...(await healLeftovers({ ...stopped, plan: { ...plan, heal } })));
}
