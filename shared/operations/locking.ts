import { getLock, putLock } from '../aws/dynamodb.ts';
import { executionState, sendTaskFailure, sendTaskSuccess } from '../aws/sfn.ts';
import {
  decideAcquire,
  decideRelease,
  type LockDecision,
  type LockEffect,
  type LockItem,
  type LockParty,
  type LockStanding,
  type LockWaiter,
  lockId,
  lockStanding,
  ownerState,
  RECOVERY_GRACE_SECONDS,
  supersededCause,
  unheldLockText,
} from '../domain/lock.ts';
import { CALLBACK_ERRORS, LockRecovering } from '../errors.ts';
import { logger } from '../logger.ts';

const MAX_RACES = 8;

/** Resumes or supersedes parked executions; says which resumes did not land (the waiter gave up). */
async function carryOut(effects: LockEffect[]): Promise<Set<string>> {
  const gone = new Set<string>();
  for (const effect of effects) {
    if (effect.kind === 'resume') {
      if (!(await sendTaskSuccess(effect.token, effect.output))) gone.add(effect.token);
    } else {
      await sendTaskFailure(effect.token, CALLBACK_ERRORS.superseded, supersededCause(effect));
    }
  }
  return gone;
}

/**
 * The waiters (other than `except`) whose executions have ended: checked before anyone is handed
 * the lock, since a waiter stopped while it waited may still be listed (its recovery had not run,
 * or an ask of its that was in flight at the Stop wrote it back). Only the newest upload waits, so
 * this is one DescribeExecution at most, as a rule.
 */
async function endedWaiters(item: LockItem | undefined, except?: string): Promise<Set<string>> {
  const ended = new Set<string>();
  for (const waiter of item?.waiters ?? []) {
    if (waiter.name === except) continue;
    const state = await executionState(waiter.executionArn);
    if (!state || (state.status !== undefined && state.status !== 'RUNNING')) ended.add(waiter.name);
  }
  if (ended.size > 0) logger.warn('dropping waiters whose executions ended', { waiters: [...ended] });
  return ended;
}

/** Reads, decides, writes conditionally; on a lost race, again. */
async function transact(
  table: string,
  id: string,
  decide: (item: Awaited<ReturnType<typeof getLock>>) => Promise<LockDecision>,
): Promise<LockDecision> {
  for (let attempt = 0; attempt < MAX_RACES; attempt++) {
    const current = await getLock(table, id);
    const decision = await decide(current);
    if (!decision.item || (await putLock(table, decision.item))) return decision;
  }
  throw new Error(`lock ${id}: gave up after ${MAX_RACES} concurrent updates`);
}

/**
 * Asks for the app/env lock on behalf of a parked execution (its task token). The execution is
 * resumed now if the lock is free, later by the releasing owner, or failed as superseded.
 */
export async function acquireLock(
  table: string,
  app: string,
  env: string,
  me: LockWaiter,
): Promise<LockDecision> {
  const id = lockId(app, env);
  const decision = await transact(table, id, async (current) => {
    const other = current?.owner && current.owner.name !== me.name ? current.owner : undefined;
    const now = new Date();
    const owner = other ? ownerState(await executionState(other.executionArn), now) : 'running';
    if (other && owner === 'ended')
      logger.warn('taking over the lock of a stopped execution', { lock: id, owner: other.name });
    return decideAcquire(current, me, owner, id, now.toISOString(), await endedWaiters(current, me.name));
  });
  const gone = await carryOut(decision.effects);
  if (decision.outcome === 'recovering') {
    // Recorded as the newest waiter; asks again in a minute (the lock task's Retry).
    throw new LockRecovering(
      `${decision.holder?.name} has ended and its recovery may still be putting traffic back; it releases the lock when done (taken over ${RECOVERY_GRACE_SECONDS / 60} minutes after the end at the latest)`,
    );
  }
  // The execution given the lock stopped waiting meanwhile: pass the lock on.
  if (decision.holder && gone.size > 0 && !(await stillRunning(decision.holder)))
    await releaseLock(table, app, env, decision.holder.name);
  logger.info('lock requested', { lock: id, outcome: decision.outcome, holder: decision.holder?.name });
  return decision;
}

/** Whether the execution still runs (and so will ask for the lock again). */
async function stillRunning(party: LockParty): Promise<boolean> {
  return (await executionState(party.executionArn))?.status === 'RUNNING';
}

/** Where `deploymentId` stands with the app/env lock (see LockStanding). */
async function lockStandingOf(
  table: string,
  app: string,
  env: string,
  deploymentId: string,
): Promise<LockStanding> {
  return lockStanding(await getLock(table, lockId(app, env)), deploymentId);
}

/** The owner is done (any end): the newest waiter gets the lock. A no-op for anyone but the owner. */
export async function releaseLock(table: string, app: string, env: string, ownerName: string): Promise<void> {
  const id = lockId(app, env);
  let releasing = ownerName;
  for (let handoffs = 0; handoffs < MAX_RACES; handoffs++) {
    const decision = await transact(table, id, async (current) =>
      decideRelease(
        current,
        releasing,
        new Date().toISOString(),
        current?.owner?.name === releasing ? await endedWaiters(current) : new Set(),
      ),
    );
    if (!decision.item) return;
    const gone = await carryOut(decision.effects);
    logger.info('lock released', { lock: id, by: releasing, to: decision.holder?.name });
    if (!decision.holder) return;
    const resumed = decision.effects.some((e) => e.kind === 'resume') && gone.size === 0;
    // Not resumed (it polls, or its token is gone): it keeps the lock if it still runs, since
    // it asks again and finds itself the owner; one that ended passes it on.
    if (resumed || (await stillRunning(decision.holder))) return;
    releasing = decision.holder.name;
  }
}

/**
 * A stopped owner's lock passes to the rollback execution its recovery started: the owner keeps
 * its name (the rollback's final notification releases it by that name) and is known by the
 * rollback's executionArn, so a waiter sees a running owner and waits. A no-op for anyone but the owner.
 */
export async function handOverLock(
  table: string,
  app: string,
  env: string,
  ownerName: string,
  executionArn: string,
): Promise<void> {
  await transact(table, lockId(app, env), async (current) =>
    current?.owner?.name === ownerName && current.owner.executionArn !== executionArn
      ? {
          item: { ...current, version: current.version + 1, owner: { ...current.owner, executionArn } },
          effects: [],
          outcome: 'acquired',
        }
      : { effects: [], outcome: 'acquired' },
  );
}

/** Whose a stopped deployment's recovery still is, by its lock (see recoveryStanding). */
export interface RecoveryStanding {
  lock: LockStanding;
  /** What a person should know of the lock: nobody held it. */
  found: string[];
}

/**
 * Whose a stopped deployment's recovery still is, by its lock (it took the lock before planning):
 * another holder means an earlier delivery recovered it and handed the lock on, unless past the
 * grace (withinRecoveryGrace); nobody holding it (the item deleted by hand, a table restored)
 * means only what this deployment started is put back, and a person told.
 */
export async function recoveryStanding(
  table: string,
  owner: { app: string; env: string; deploymentId: string },
): Promise<RecoveryStanding> {
  const lock = await lockStandingOf(table, owner.app, owner.env, owner.deploymentId);
  if (lock.kind !== 'unheld') return { lock, found: [] };
  logger.warn('nobody holds the lock: recovering what this deployment started', { item: lock.item });
  return { lock, found: [unheldLockText(lock, lockId(owner.app, owner.env), table)] };
}
