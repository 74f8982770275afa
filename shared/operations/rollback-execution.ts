import { type ExecutionHistory, executionArn, startExecution } from '../aws/sfn.ts';
import { rollbackExecutionName } from '../domain/identity.ts';
import {
  type ExecutionStatusChange,
  type RecoveryReport,
  type RecoverySettings,
  rollbackFailure,
} from '../domain/recovery.ts';
import { STATE } from '../domain/states.ts';
import type { DeploymentInput, DeploymentState } from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { handOverLock } from './locking.ts';
import { moved, restoreTraffic, type Stopped } from './restore-traffic.ts';
import { greenSlotStanding } from './slot-tags.ts';
import { readWeights } from './weights.ts';

/**
 * Whether the rollback states are this stopped deployment's to run: green was launched or took
 * traffic (before the heal moved it, the split is the deploy's starting point, not green's
 * traffic), green's slot is not another deployment's, and the lock is still held or else green's
 * claim names this deployment.
 */
async function rollbackIsOurs(stopped: Stopped, launched: boolean): Promise<boolean> {
  const { plan, history } = stopped;
  const greenWeight = async () => ((await readWeights(plan))[plan.green] ?? 0) > 0;
  if (!launched && (plan.heal || !(await moved(history, STATE.shift, await greenWeight())))) return false;
  const { another, claimedByMe } = await greenSlotStanding(plan, stopped.deploymentId);
  return !another && (stopped.lockHeld || claimedByMe);
}

/**
 * Starts the rollback execution of the stopped one, from its last known state, with how it ended
 * as the failure (a Stop is a verdict on green, as for the rollback rule), and what the recovery
 * found in its cause (so the rollback's one notification says it), and hands it the lock. Named
 * after the stopped execution: the event again starts nothing new. Returns its name.
 */
async function startRollback(
  deployment: DeploymentInput,
  detail: ExecutionStatusChange,
  history: ExecutionHistory,
  settings: RecoverySettings,
  lockHeld: boolean,
  found: string[],
  known: { rollback?: string },
): Promise<string> {
  const last = (await history.lastOutput()) as DeploymentState;
  const name = rollbackExecutionName(detail.name);
  const input = { ...deployment, ...last, failure: rollbackFailure(detail, found) };
  let arn: string;
  let started = true;
  try {
    arn = await startExecution(settings.rollbackStateMachineArn, name, input);
  } catch (error) {
    if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
    arn = executionArn(settings.rollbackStateMachineArn, name);
    started = false;
  }
  // From here on the rollback execution tells and releases the lock, whatever fails after.
  known.rollback = name;
  const { app, env, deploymentId } = deployment;
  if (lockHeld) await handOverLock(settings.locksTable, app, env, deploymentId, arn);
  logger.warn('rollback execution started', { name, started });
  return name;
}

/**
 * What a stopped deployment's recovery starts, once its bake is settled: the rollback states, in
 * an execution of their own, where green exists or took traffic and is its own; else it puts back
 * itself what is left (restoreTraffic). Says which.
 */
export async function rollBackOrRestore(
  stopped: Stopped,
  launched: boolean,
  deployment: DeploymentInput,
  detail: ExecutionStatusChange,
  settings: RecoverySettings,
  report: RecoveryReport,
  /** Where the name of a rollback execution started is kept, across the recovery's attempts. */
  known: { rollback?: string },
): Promise<'rolling-back' | 'recovered'> {
  if (!(await rollbackIsOurs(stopped, launched))) {
    await restoreTraffic(stopped, report);
    return 'recovered';
  }
  const { history, lockHeld } = stopped;
  const name = await startRollback(deployment, detail, history, settings, lockHeld, report.found, known);
  report.actions.push(`its rollback runs as execution ${name}`);
  return 'rolling-back';
}
