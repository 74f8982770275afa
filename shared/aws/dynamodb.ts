import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  type ScanCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ApprovalState, ApprovalSummary, DecisionRecord } from '../domain/approval.ts';
import type { LockItem } from '../domain/lock.ts';
import type { PromotableWait } from '../domain/promotion.ts';
import type { PublicationRecord } from '../domain/publication.ts';
import { waitTtl } from '../domain/waits.ts';
import { LoopBoundExceeded } from '../errors.ts';

export const dynamodb = new DynamoDBClient({});

/** One pending approval, keyed by its opaque id. The task token never leaves this table. */
export interface ApprovalItem {
  id: string;
  taskToken: string;
  executionArn: string;
  summary: ApprovalSummary;
  approvers: string[];
  /** Link expiry (seconds since the epoch): the approval task's own timeout. */
  expiresAt: number;
  /** DynamoDB TTL: the item is removed a week after the link expired. */
  ttl: number;
  state: ApprovalState;
  createdAt: string;
  notified?: boolean;
  /** DECIDING: the answer sent, outcome unconfirmed; APPROVED / REJECTED: the answer received. */
  decision?: DecisionRecord;
  /** DECIDING: which try sent `decision` (a settle or a new claim is conditional on it). */
  attempt?: string;
  /** EXPIRED: how the deployment stopped waiting, completing "web/prod 1.1.0 …". */
  ended?: string;
  /** EXPIRED: an answer that was sent but never reached the deployment. */
  unusedAnswer?: DecisionRecord;
}

/** A conditional write: true when written, false when its condition failed (someone else wrote first). */
async function conditionally(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if ((error as Error)?.name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

type Condition = { ConditionExpression: string; ExpressionAttributeValues?: Record<string, AttributeValue> };

/** The item does not exist yet. */
const ABSENT: Condition = { ConditionExpression: 'attribute_not_exists(id)' };

/** The item's attribute still holds the value that was read. */
function still(attribute: string, value: string | number): Condition {
  return {
    ConditionExpression: `${attribute} = :read`,
    ExpressionAttributeValues: marshall({ ':read': value }),
  };
}

/** Puts the item only where the condition holds: false when it did not (someone else wrote first). */
function putIf(table: string, item: object, condition: Condition): Promise<boolean> {
  return conditionally(() =>
    dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: marshall(item, { removeUndefinedValues: true }),
        ...condition,
      }),
    ),
  );
}

/** An item by its id (a consistent read). */
async function itemById<T>(table: string, id: string): Promise<T | undefined> {
  const out = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: marshall({ id }), ConsistentRead: true }),
  );
  return out.Item ? (unmarshall(out.Item) as T) : undefined;
}

/** Writes the approval unless it exists already (a retried request task); says which. */
export async function createApproval(table: string, item: ApprovalItem): Promise<boolean> {
  return putIf(table, item, ABSENT);
}

export async function getApproval(table: string, id: string): Promise<ApprovalItem | undefined> {
  return itemById<ApprovalItem>(table, id);
}

/** The id under which an app/env's latest approval is found (approval ids never contain `#`). */
function latestKey(app: string, env: string): string {
  return `latest#${app}/${env}`;
}

/**
 * Points the app/env's latest approval at `id`, for an approver who names the app/env instead of
 * following a link. One deployment per app/env at a time (the lock), so the latest is the one that
 * may be waiting; a retried request task writes the same.
 */
export async function pointLatestApproval(
  table: string,
  latest: { app: string; env: string; approvalId: string; ttl: number },
): Promise<void> {
  await dynamodb.send(
    new PutItemCommand({
      TableName: table,
      Item: marshall({
        id: latestKey(latest.app, latest.env),
        approvalId: latest.approvalId,
        ttl: latest.ttl,
      }),
    }),
  );
}

/** The app/env's latest approval, if one was requested (and not yet removed by its TTL). */
export async function getLatestApproval(
  table: string,
  app: string,
  env: string,
): Promise<ApprovalItem | undefined> {
  const pointer = await itemById<{ approvalId?: string }>(table, latestKey(app, env));
  return pointer?.approvalId ? getApproval(table, pointer.approvalId) : undefined;
}

export async function markNotified(table: string, id: string): Promise<void> {
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: marshall({ id }),
      UpdateExpression: 'SET notified = :yes',
      ExpressionAttributeValues: marshall({ ':yes': true }),
    }),
  );
}

/**
 * Records an answer (state DECIDING, the answer in `decision`, `attempt` naming this try) if, and
 * only if, the approval is still pending and unexpired, or still holds the unconfirmed attempt
 * `replacing` that the execution showed never arrived: the conditional write is what makes a link
 * single-use. False when someone else got there first.
 */
export async function claimDecision(
  table: string,
  id: string,
  claim: { record: DecisionRecord; attempt: string; nowSeconds: number; replacing?: string },
): Promise<boolean> {
  const { record, attempt, nowSeconds, replacing } = claim;
  return conditionally(() =>
    dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: marshall({ id }),
        UpdateExpression: 'SET #state = :deciding, decision = :decision, #attempt = :attempt',
        ConditionExpression: replacing
          ? '#state = :deciding AND #attempt = :was AND expiresAt > :now'
          : '#state = :pending AND expiresAt > :now',
        ExpressionAttributeNames: { '#state': 'state', '#attempt': 'attempt' },
        ExpressionAttributeValues: marshall({
          ':deciding': 'DECIDING',
          ':decision': record,
          ':attempt': attempt,
          ':now': nowSeconds,
          ...(replacing ? { ':was': replacing } : { ':pending': 'PENDING' }),
        }),
      }),
    ),
  );
}

/** Where an answer in DECIDING goes once its outcome is known. */
export type Settled =
  /** Step Functions refused it (it did nothing): the link is usable again. */
  | { state: 'PENDING' }
  /** The deployment received this answer (the attempt, or what the history says was received). */
  | { state: 'APPROVED' | 'REJECTED'; decision: DecisionRecord }
  /** The deployment no longer waits and received no answer; `ended` says how, `unused` is the answer it never got. */
  | { state: 'EXPIRED'; ended: string; unused: DecisionRecord };

/**
 * Moves an approval out of DECIDING if it still holds `attempt` (nobody settled it meanwhile).
 * False when it no longer does.
 */
export async function settleDecision(
  table: string,
  id: string,
  attempt: string,
  next: Settled,
): Promise<boolean> {
  const names: Record<string, string> = { '#state': 'state', '#attempt': 'attempt' };
  const values: Record<string, unknown> = {
    ':state': next.state,
    ':deciding': 'DECIDING',
    ':attempt': attempt,
  };
  let update: string;
  if (next.state === 'PENDING') {
    update = 'SET #state = :state REMOVE decision, #attempt';
  } else if (next.state === 'EXPIRED') {
    update = 'SET #state = :state, #ended = :ended, #unused = :unused REMOVE decision, #attempt';
    Object.assign(names, { '#ended': 'ended', '#unused': 'unusedAnswer' });
    Object.assign(values, { ':ended': next.ended, ':unused': next.unused });
  } else {
    update = 'SET #state = :state, decision = :decision REMOVE #attempt';
    values[':decision'] = next.decision;
  }
  return conditionally(() =>
    dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: marshall({ id }),
        UpdateExpression: update,
        ConditionExpression: '#state = :deciding AND #attempt = :attempt',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values),
      }),
    ),
  );
}

/** Reads a lock item (consistent read). */
export async function getLock(table: string, id: string): Promise<LockItem | undefined> {
  return itemById<LockItem>(table, id);
}

/**
 * Writes the next version of a lock item if nobody else wrote since it was read (optimistic
 * concurrency on `version`). False on a lost race: read again and decide again.
 */
export async function putLock(table: string, next: LockItem): Promise<boolean> {
  return putIf(table, next, next.version === 1 ? ABSENT : still('version', next.version - 1));
}

/** An execution parked on a task token until an AWS event (or its own timeout) resumes it. */
export interface WaitItem {
  id: string;
  token: string;
  /** For alarm watches: the alarm names whose ALARM resumes (fails) the wait. */
  alarms?: string[];
  /** For alarm watches: the wait it is, which an operator's promote ends. */
  wait?: PromotableWait;
  /** For alarm watches: the execution waiting, and when the wait ends on its own. */
  executionArn?: string;
  endsAt?: string;
  /**
   * For alarm watches: the earliest a promote may end the wait, once the traffic change is INSYNC
   * and resolvers have had the record TTL to move (a promote before is told to try again then).
   */
  promotableAt?: string;
  /** DynamoDB TTL: waits expire on their own. */
  ttl: number;
}

export async function putWait(table: string, item: WaitItem): Promise<void> {
  await dynamodb.send(
    new PutItemCommand({ TableName: table, Item: marshall(item, { removeUndefinedValues: true }) }),
  );
}

export async function getWait(table: string, id: string): Promise<WaitItem | undefined> {
  return itemById<WaitItem>(table, id);
}

/**
 * Pages of a Scan read at most: the locks table holds one lock and a few waits per app/env that is
 * deploying, far under a page of 1 MB each; 100 pages is DynamoDB misbehaving, not a larger table.
 */
const MAX_SCAN_PAGES = 100;

/** Every item a Scan of the table with `filter` finds, page by page (LastEvaluatedKey). */
async function scanAll<T>(
  table: string,
  filter: Pick<
    ScanCommandInput,
    'FilterExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
  >,
): Promise<T[]> {
  const found: T[] = [];
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  for (let page = 0; ; page++) {
    if (page === MAX_SCAN_PAGES)
      throw new LoopBoundExceeded(`Scan of ${table} returned more than ${MAX_SCAN_PAGES} pages`);
    const out = await dynamodb.send(new ScanCommand({ TableName: table, ...filter, ExclusiveStartKey }));
    for (const item of out.Items ?? []) found.push(unmarshall(item) as T);
    ExclusiveStartKey = out.LastEvaluatedKey;
    if (!ExclusiveStartKey) return found;
  }
}

/** The alarm watches that name this alarm (a small table: one item per running deployment). */
export async function findAlarmWatches(table: string, alarmName: string): Promise<WaitItem[]> {
  return scanAll<WaitItem>(table, {
    FilterExpression: 'begins_with(id, :prefix) AND contains(alarms, :alarm)',
    ExpressionAttributeValues: marshall({ ':prefix': 'watch#', ':alarm': alarmName }),
  });
}

/**
 * The waits that may still be parked at `now`: bake waits and alarm watches whose own timeout (their
 * TTL less the day they are kept) has not passed. Every page is read; the table holds one lock and
 * a few waits per running deployment.
 */
export async function listLiveWaits(table: string, now: Date): Promise<WaitItem[]> {
  const items = await scanAll<WaitItem>(table, {
    // The expiry of a wait stored now with no time left (shared/domain/waits.ts waitTtl).
    FilterExpression: '#ttl > :ttl',
    ExpressionAttributeNames: { '#ttl': 'ttl' },
    ExpressionAttributeValues: marshall({ ':ttl': waitTtl(now, 0) }),
  });
  return items.filter((wait) => wait.id.startsWith('bake#') || wait.id.startsWith('watch#'));
}

/**
 * Claims the publication of a final notification: written only if no record exists (`expected`
 * undefined) or the record still has the claimant that was read (taking over a claim whose
 * invocation gave up or died). False when another invocation got there first.
 */
export async function claimPublication<T>(
  table: string,
  record: PublicationRecord<T>,
  expected?: string,
): Promise<boolean> {
  return putIf(table, record, expected === undefined ? ABSENT : still('claimant', expected));
}

export async function getPublication<T>(
  table: string,
  id: string,
): Promise<PublicationRecord<T> | undefined> {
  return itemById<PublicationRecord<T>>(table, id);
}

/** Records what was published, or that the claimant gave up (only while it holds the claim). */
export async function settlePublication<T>(table: string, record: PublicationRecord<T>): Promise<boolean> {
  return claimPublication(table, record, record.claimant);
}

/** Pages of the locks table read at most when listing its lock items (1 MB each). */
const LOCK_SCAN_PAGES = 20;

/** Every lock item of the table (one per app/env that ever deployed), beside its other items. */
export async function listLocks(table: string): Promise<LockItem[]> {
  const found: LockItem[] = [];
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  for (let page = 0; page < LOCK_SCAN_PAGES; page++) {
    const out = await dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey }));
    for (const raw of out.Items ?? []) {
      const item = unmarshall(raw) as Partial<LockItem>;
      // Lock items are the ones with a version and waiters; waits and publications share the table.
      if (typeof item.id === 'string' && typeof item.version === 'number' && Array.isArray(item.waiters))
        found.push(item as LockItem);
    }
    ExclusiveStartKey = out.LastEvaluatedKey;
    if (!ExclusiveStartKey) break;
  }
  return found;
}
