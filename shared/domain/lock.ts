import { LIMITS } from './config.ts';
import { DNS_MAX_POLLS, DNS_POLL_SECONDS } from './plan.ts';
import { endedOnItsOwnPath } from './workflow.ts';

/**
 * One deployment per app/env at a time. The lock is one item per app/env: its owner (the
 * execution that may change things) and the executions waiting for it, each parked on a task token.
 * Only the newest upload may wait: an older waiter is superseded the moment a newer one arrives,
 * and an upload older than the owner's is superseded at once (deploying it would go backwards).
 * These functions decide; the caller writes the new item (conditionally on its version) and then
 * carries out the effects.
 */

export interface LockParty {
  /** Execution name (the deployment id). */
  name: string;
  executionArn: string;
  /**
   * When the artifact was uploaded: the S3 event time, bounded by when it was received (see
   * uploadOrder); orders competing deployments.
   */
  uploadedAt: string;
  since: string;
}

export interface LockWaiter extends LockParty {
  token: string;
  /**
   * It asks again rather than wait on its token (it was behind an owner whose recovery may still
   * run): given the lock, it is not resumed but finds itself the owner when it next asks.
   */
  polling?: boolean;
}

/** The resume a waiter given the lock needs: none when it polls (its token died with its ask). */
function resume(waiter: LockWaiter, output: LockGrant): LockEffect[] {
  return waiter.polling ? [] : [{ kind: 'resume', token: waiter.token, output }];
}

export interface LockItem {
  id: string;
  version: number;
  owner?: LockParty;
  waiters: LockWaiter[];
  /**
   * The newest upload that ever held the lock: an older one arriving later (an S3 event that was
   * late, or a hand-started execution with an old upload time) is superseded even once the lock
   * is free, since deploying it would take the app back.
   */
  newest?: LockParty;
}

/**
 * The item's next version, with this owner (if any) and these waiters; the record of the newest
 * upload that ever held it moves forward when the owner is newer.
 */
function nextVersion(item: LockItem, owner: LockParty | undefined, waiters: LockWaiter[]): LockItem {
  const newest = owner && !(item.newest && isNewer(item.newest, owner)) ? owner : item.newest;
  return {
    id: item.id,
    version: item.version + 1,
    ...(owner ? { owner } : {}),
    waiters,
    ...(newest ? { newest } : {}),
  };
}

export type LockEffect =
  | { kind: 'resume'; token: string; output: LockGrant }
  | { kind: 'supersede'; token: string; by: LockParty; loser: Pick<LockParty, 'name' | 'uploadedAt'> };

function supersede(loser: LockWaiter, by: LockParty): LockEffect {
  return {
    kind: 'supersede',
    token: loser.token,
    by,
    loser: { name: loser.name, uploadedAt: loser.uploadedAt },
  };
}

/** What a superseded upload is told: who is newer, and both upload times, so the order is plain. */
export function supersededCause(effect: Extract<LockEffect, { kind: 'supersede' }>): string {
  return `superseded by ${effect.by.name} (uploaded ${effect.by.uploadedAt}), newer than this upload (uploaded ${effect.loser.uploadedAt}): only the newest upload for an app/env is deployed`;
}

export interface LockGrant {
  acquiredAt: string;
  /** The execution that held the lock before, when it had stopped without releasing it. */
  tookOverFrom?: string;
}

export interface LockDecision {
  /** The item to write; undefined when nothing changes. */
  item?: LockItem;
  effects: LockEffect[];
  /** `recovering`: it would wait behind an owner whose recovery runs; ask again later. */
  outcome: 'acquired' | 'waiting' | 'superseded' | 'recovering';
  holder?: LockParty;
}

export function lockId(app: string, env: string): string {
  return `${app}/${env}`;
}

/**
 * Where a stopped deployment stands with its app/env lock, as its recovery reads it: it still
 * holds it (nothing has recovered it yet); another deployment holds it (an earlier delivery of the
 * event, or a retry, recovered it and handed the lock on, and that deployment may be changing the
 * same records by now); or nobody does, though nothing of this deployment's released it: the item
 * is gone, or names no owner (deleted by hand, a table restored from a backup, or released by its
 * own final notification just before the Stop).
 */
export type LockStanding =
  | { kind: 'held' }
  | { kind: 'another'; holder: string }
  | { kind: 'unheld'; item: 'missing' | 'no-owner' };

export function lockStanding(item: LockItem | undefined, deploymentId: string): LockStanding {
  const holder = item?.owner?.name;
  if (holder === deploymentId) return { kind: 'held' };
  if (holder !== undefined) return { kind: 'another', holder };
  return { kind: 'unheld', item: item ? 'no-owner' : 'missing' };
}

/** The lock as a person is told of it when nobody held it (see LockStanding). */
export function unheldLockText(
  standing: Extract<LockStanding, { kind: 'unheld' }>,
  id: string,
  table: string,
): string {
  const found =
    standing.item === 'missing'
      ? `the lock item of ${id} was missing from ${table}`
      : `the lock item of ${id} in ${table} named no owner`;
  return `${found} (deleted by hand, or the table restored from a backup), so nothing kept another deployment of ${id} from running beside this one: check that none does before changing anything of ${id} by hand`;
}

/**
 * The time that orders an upload: the S3 event time, but never later than when the upload was
 * received (by the starter; for an execution started by hand, its start). S3 sets event times,
 * but a client-side copy, a replayed or a forged event can carry any time, and one three hours
 * ahead would make every upload of the next three hours look older, and so superseded. Both are
 * canonical ISO strings (they compare as text).
 */
export function uploadOrder(eventTime: string | undefined, receivedAt: string): string {
  return eventTime !== undefined && eventTime < receivedAt ? eventTime : receivedAt;
}

/**
 * A party's upload time as it orders: never later than when it asked for the lock (`since`), so
 * even an item written before uploads were bounded by their receipt cannot block the app/env.
 */
function orderOf(party: Pick<LockParty, 'uploadedAt'> & { since?: string }): string {
  return party.since ? uploadOrder(party.uploadedAt, party.since) : party.uploadedAt;
}

/** Whether `a` is a newer upload than `b` (ties broken by name, so the order is total). */
export function isNewer(
  a: Pick<LockParty, 'uploadedAt' | 'name'> & { since?: string },
  b: Pick<LockParty, 'uploadedAt' | 'name'> & { since?: string },
): boolean {
  const [x, y] = [orderOf(a), orderOf(b)];
  if (x !== y) return x > y;
  return a.name > b.name;
}

function owner(party: LockParty, now: string): LockParty {
  return { name: party.name, executionArn: party.executionArn, uploadedAt: party.uploadedAt, since: now };
}

/**
 * How long an ended owner keeps the lock when it did not release it. An execution that was
 * stopped, timed out or crashed is recovered by a function that puts traffic back (waiting for
 * Route 53 and the record TTL) and then releases the lock, handing it to the newest waiter; a
 * deployment that took over before it finished would change the same records and fleets at once.
 * The recovery runs for at most 5 minutes, and Lambda retries a failed one twice (after 1 and 2
 * minutes): after 20 minutes it will not come, and the lock is taken over.
 */
export const RECOVERY_GRACE_SECONDS = 1200;

/** Whether, at `atMs`, an owner that ended at `endedAtMs` is still within its recovery's grace. */
export function withinRecoveryGrace(endedAtMs: number, atMs: number): boolean {
  return atMs - endedAtMs < RECOVERY_GRACE_SECONDS * 1000;
}

/** Why a recovery that would still run when the grace ends changes nothing (see withinRecoveryGrace). */
export function tooLateToRecoverText(endedAtMs: number, nowMs: number): string {
  return `this recovery started ${Math.round((nowMs - endedAtMs) / 60_000)} minutes after the execution ended, too near the ${RECOVERY_GRACE_SECONDS / 60} minutes after which its lock is taken over, so it changed nothing`;
}

/**
 * Where the lock's owner is: running; stopped, timed out or crashed so recently that its recovery
 * may still be putting traffic back (it releases the lock when done); or ended for good, its lock
 * free to take over.
 */
export type OwnerState = 'running' | 'recovering' | 'ended';

/** How long one ask for the lock waits on its token before it asks again (the lock state's TimeoutSeconds). */
export const LOCK_ASK_SECONDS = 1800;

/**
 * Room for what the limits do not bound one by one: every task and its retries, blue's drain (up
 * to ELB's largest deregistration delay, an hour), a rollback's DNS change, TTL and green's drain.
 */
const OTHER_WORK_SECONDS = 6 * 3600;

/**
 * The longest an owner can hold the lock under the config's limits: the longest bake (and one late
 * poll), green's health checks, every traffic step with its DNS change, every approval waiting its
 * whole timeout, the whole termination window (and one late check), the rest, and the recovery's
 * grace after a Stop. A waiter waits at most this behind one owner: only the newest upload waits,
 * and it gets the lock when that owner ends.
 */
export function longestHoldSeconds(limits: Record<keyof typeof LIMITS, number> = LIMITS): number {
  const bake = limits.bakeTimeoutMinutes * 60 + limits.bakePollSeconds;
  const steps =
    limits.steps * (Math.max(limits.stepWaitSeconds, limits.ttlSeconds) + DNS_POLL_SECONDS * DNS_MAX_POLLS);
  const approvals = limits.approvalStages * limits.approvalTimeoutSeconds;
  const window = limits.terminationWaitSeconds + limits.checkIntervalSeconds;
  return (
    bake +
    limits.healthTimeoutSeconds +
    steps +
    approvals +
    window +
    OTHER_WORK_SECONDS +
    RECOVERY_GRACE_SECONDS
  );
}

/**
 * How often a parked waiter asks again (the lock state's Retry on States.Timeout): enough asks to
 * outlast the longest hold. About 800, 4 history events each: far under Step Functions' 25,000.
 */
export const LOCK_REASKS = Math.ceil(longestHoldSeconds() / LOCK_ASK_SECONDS);

/** How long an upload waits for the lock in all before it gives up (and is told so). */
export const LOCK_WAIT_SECONDS = (LOCK_REASKS + 1) * LOCK_ASK_SECONDS;

export function ownerState(
  state: { status?: string; error?: string; stopDate?: Date } | undefined,
  now: Date,
): OwnerState {
  if (!state) return 'ended';
  if (state.status === 'RUNNING') return 'running';
  // Ended through its own paths: nothing will put traffic back, only its release was lost.
  if (endedOnItsOwnPath(state.status, state.error)) return 'ended';
  const recent = state.stopDate !== undefined && withinRecoveryGrace(state.stopDate.getTime(), now.getTime());
  return recent ? 'recovering' : 'ended';
}

/**
 * A deployment asks for the lock, the current owner being where `ownerIs` says (see ownerState).
 * An owner that ended without releasing, and whose recovery did not release it either, is taken
 * over. Behind an owner whose recovery may still run nobody parks on a token (the recovery may
 * never come to resume them): the newest is recorded as a polling waiter, so newer uploads
 * supersede it and the release hands it the lock, and is told to ask again.
 */
export function decideAcquire(
  current: LockItem | undefined,
  me: LockWaiter,
  ownerIs: OwnerState,
  id: string,
  now: string,
  ended: ReadonlySet<string> = new Set(),
): LockDecision {
  const ownerRunning = ownerIs !== 'ended';
  const item: LockItem = current ?? { id, version: 0, waiters: [] };
  // A waiter whose execution has ended is dropped: it is never handed the lock nor told anything.
  const others = item.waiters.filter((w) => w.name !== me.name && !ended.has(w.name));
  if (item.owner?.name === me.name) {
    return {
      effects: [{ kind: 'resume', token: me.token, output: { acquiredAt: item.owner.since } }],
      outcome: 'acquired',
    };
  }
  const free = !item.owner || !ownerRunning;
  // An older upload arriving late: deploying it now would roll the app backwards.
  const ahead = [...(!free && item.owner ? [item.owner] : []), ...(item.newest ? [item.newest] : [])].find(
    (party) => party.name !== me.name && isNewer(party, me),
  );
  if (ahead) {
    return {
      effects: [supersede(me, ahead)],
      outcome: 'superseded',
      ...(item.owner ? { holder: item.owner } : {}),
    };
  }
  const newest = [me, ...others].reduce((best, w) => (isNewer(w, best) ? w : best));
  const losers = [me, ...others].filter((w) => w.name !== newest.name);
  const effects: LockEffect[] = losers.map((w) => supersede(w, newest));
  if (free) {
    const tookOverFrom = item.owner?.name;
    const grant: LockGrant = { acquiredAt: now, ...(tookOverFrom ? { tookOverFrom } : {}) };
    const holder = owner(newest, now);
    return {
      item: nextVersion(item, holder, []),
      effects: [...resume(newest.name === me.name ? me : newest, grant), ...effects],
      outcome: newest.name === me.name ? 'acquired' : 'superseded',
      holder,
    };
  }
  if (ownerIs === 'recovering' && newest.name === me.name) {
    const next = nextVersion(item, item.owner, [{ ...me, polling: true }]);
    return { item: next, effects, outcome: 'recovering', ...(item.owner ? { holder: item.owner } : {}) };
  }
  return {
    item: nextVersion(item, item.owner, [newest]),
    effects,
    outcome: newest.name === me.name ? 'waiting' : 'superseded',
    ...(item.owner ? { holder: item.owner } : {}),
  };
}

/**
 * An execution is done: as the owner, the newest waiter still running, if any, becomes the owner
 * and is resumed (unless it polls); waiters in `ended` (their executions ended while they waited,
 * and nobody took them off the list) are dropped, never handed the lock. As a waiter (it ended
 * while waiting), it is taken off the list. Anyone else changes nothing.
 */
export function decideRelease(
  current: LockItem | undefined,
  ownerName: string,
  now: string,
  ended: ReadonlySet<string> = new Set(),
): LockDecision {
  if (!current || current.owner?.name !== ownerName) {
    if (!current?.waiters.some((w) => w.name === ownerName)) return { effects: [], outcome: 'superseded' };
    const waiters = current.waiters.filter((w) => w.name !== ownerName);
    return { item: nextVersion(current, current.owner, waiters), effects: [], outcome: 'superseded' };
  }
  const waiting = current.waiters.filter((w) => !ended.has(w.name));
  if (waiting.length === 0) {
    return { item: nextVersion(current, undefined, []), effects: [], outcome: 'acquired' };
  }
  const newest = waiting.reduce((best, w) => (isNewer(w, best) ? w : best));
  const holder = owner(newest, now);
  return {
    item: nextVersion(current, holder, []),
    effects: [
      ...resume(newest, { acquiredAt: now }),
      ...waiting.filter((w) => w.name !== newest.name).map((w) => supersede(w, newest)),
    ],
    outcome: 'acquired',
    holder,
  };
}
