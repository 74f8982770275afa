import { type LockWaiter, uploadOrder } from '../domain/lock.ts';
import { type DeploymentState, readDeployment } from '../domain/workflow.ts';
import { acquireLock } from '../operations/locking.ts';

export interface LockRequest {
  /** The task token this execution waits on until it owns the lock. */
  token: string;
  executionArn: string;
  /** When the execution started ($$.Execution.StartTime): the upload time of one started by hand. */
  startedAt?: string;
  deployment: DeploymentState;
}

/**
 * "Take the deployment lock": resumes this execution at once when the app/env is free, parks it
 * when another deployment runs (the owner resumes it on release), or fails it as superseded when a
 * newer upload for the same app/env exists. Nothing has been changed yet at this point.
 */
export async function requestLock(request: LockRequest, table: string): Promise<{ outcome: string }> {
  const deployment = readDeployment(request.deployment, true);
  const now = new Date().toISOString();
  const me: LockWaiter = {
    name: deployment.deploymentId,
    executionArn: request.executionArn,
    // Fixed per execution, not per ask: a waiter asks again and again, and must not grow newer.
    // Never later than the execution's start (Step Functions' own time): an upload time typed by
    // hand, or a forged one, cannot put this deployment ahead of every later upload.
    uploadedAt: uploadOrder(
      deployment.uploadedAt,
      request.startedAt ? new Date(request.startedAt).toISOString() : now,
    ),
    since: now,
    token: request.token,
  };
  const decision = await acquireLock(table, deployment.app, deployment.env, me);
  return { outcome: decision.outcome };
}
