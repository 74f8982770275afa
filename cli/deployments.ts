import { getLock, getPublication } from '#shared/aws/dynamodb.ts';
import {
  describeExecution,
  type ExecutionDescription,
  ExecutionListing,
  executionArn,
} from '#shared/aws/sfn.ts';
import { executionNamePrefix, rollbackExecutionName } from '#shared/domain/identity.ts';
import { lockId } from '#shared/domain/lock.ts';
import { publicationId } from '#shared/domain/publication.ts';
import type { RecoveryTold } from '#shared/operations/recovery-notice.ts';
import type { Service } from './context.ts';
import { deploymentEnd, type Outcome, rollbackEnd } from './outcome.ts';

/** What an execution's input says it deploys. */
export interface Release {
  app: string;
  env: string;
  version: string;
}

export function releaseOf(execution: ExecutionDescription): Partial<Release> {
  try {
    const input = JSON.parse(execution.input ?? '{}') as Partial<Release>;
    return { app: input.app, env: input.env, version: input.version } as Partial<Release>;
  } catch {
    return {};
  }
}

/** The S3 version id of the object an execution deploys, from its input. */
function artifactVersionOf(execution: ExecutionDescription): string | undefined {
  try {
    return (JSON.parse(execution.input ?? '{}') as { artifact?: { versionId?: string } }).artifact?.versionId;
  } catch {
    return undefined;
  }
}

/** One deployment of an app/env, as history and status list it. */
export interface DeploymentRow {
  name: string;
  executionArn: string;
  version: string;
  status: string;
  startedAt: string | null;
  endedAt: string | null;
  /** Null while it runs; `recovering` when it was stopped and its recovery has not finished. */
  outcome: Outcome | 'recovering' | null;
  error: string | null;
  rollback: { name: string; status: string; endedAt: string | null } | null;
}

/** Whether `arn` names an execution of the state machine `stateMachineArn`. */
export function isExecutionOf(stateMachineArn: string, arn: string): boolean {
  return arn.startsWith(`${stateMachineArn.replace(':stateMachine:', ':execution:')}:`);
}

/** Said under a list of deployments the listing's bound cut short. */
export const TRUNCATED_TEXT =
  '(only the newest 1,000 executions of the service were read: older deployments may be missing)';

/** What a search of the executions found, and whether the listing's bound cut it short. */
export interface Found {
  executions: ExecutionDescription[];
  /** The listing stopped at its bound (1,000 executions) before `limit` were found: older ones may exist. */
  truncated: boolean;
}

/** What picks executions of app/env (version when given): see findExecutions. */
export interface Search {
  limit: number;
  /** Only running executions. */
  running?: boolean;
  skip?: ReadonlySet<string>;
  /** Only executions started at or after this time. */
  since?: Date;
  /** Only executions of this S3 object version. */
  versionId?: string;
  /** A listing to search (one listing serves every app/env of `status`); a new one by default. */
  listing?: ExecutionListing;
}

/**
 * The executions of app/env (version when given), newest first, at most `limit`: listed page by
 * page, taken by their name's prefix, then confirmed by their input (`web-prod-` also begins the
 * names of web/prod-eu), until `limit` are confirmed or the listing ends.
 */
export async function findExecutions(
  service: Service,
  release: { app: string; env: string; version?: string },
  search: Search,
): Promise<Found> {
  const prefix = executionNamePrefix(release.app, release.env, release.version ?? '');
  const listing =
    search.listing ??
    new ExecutionListing(service.deployStateMachineArn, search.running ? 'RUNNING' : undefined);
  const found: ExecutionDescription[] = [];
  for await (const item of listing.items()) {
    if (found.length >= search.limit) return { executions: found, truncated: false };
    if (!item.name.startsWith(prefix) || search.skip?.has(item.name)) continue;
    if (search.running && item.status !== 'RUNNING') continue;
    if (search.since && item.startDate && item.startDate < search.since) continue;
    const described = await describeExecution(item.executionArn);
    if (!described) continue;
    const r = releaseOf(described);
    if (r.app !== release.app || r.env !== release.env) continue;
    if (release.version !== undefined && r.version !== release.version) continue;
    if (search.versionId !== undefined && artifactVersionOf(described) !== search.versionId) continue;
    found.push(described);
  }
  return { executions: found, truncated: found.length < search.limit && listing.truncated };
}

/** The executions findExecutions finds, without whether the listing was cut short. */
export async function executionsOf(
  service: Service,
  release: { app: string; env: string; version?: string },
  search: Search,
): Promise<ExecutionDescription[]> {
  return (await findExecutions(service, release, search)).executions;
}

/**
 * How a stopped deployment whose recovery let the lock go without a rollback execution ended, by
 * what its recovery told (the record of its message, beside the locks): `stopped` when nothing was
 * left, `left-to-a-person` when the message named leftovers, or says no count (a recovery of an
 * older service), or no message is recorded though the record was claimed.
 */
export async function recoveryOutcome(
  service: Service,
  deploymentName: string,
): Promise<'stopped' | 'left-to-a-person'> {
  const record = await getPublication<RecoveryTold | string>(
    service.locksTable,
    publicationId(deploymentName, 'recovery'),
  );
  // No record: its final notification was out when it was stopped, so the recovery only released.
  if (!record) return 'stopped';
  const told = record.published;
  return typeof told === 'object' && told.leftOver === 0 ? 'stopped' : 'left-to-a-person';
}

/** A deployment's row: its outcome, and for a stopped one the rollback execution beside it. */
export async function rowOf(service: Service, execution: ExecutionDescription): Promise<DeploymentRow> {
  const end = deploymentEnd(execution.status, execution.error);
  let rollback: DeploymentRow['rollback'] = null;
  let outcome: DeploymentRow['outcome'] = end === 'running' ? null : end;
  if (end === 'recovering') {
    const arn = executionArn(service.rollbackStateMachineArn, rollbackExecutionName(execution.name));
    const back = await describeExecution(arn);
    if (back) {
      rollback = { name: back.name, status: back.status, endedAt: back.stopDate?.toISOString() ?? null };
      const rolled = rollbackEnd(back.status, back.error);
      outcome = rolled === 'running' ? 'recovering' : rolled;
    } else {
      // No rollback: once the recovery let the lock go, what it told says whether all is back.
      const { app, env } = releaseOf(execution);
      const lock = app && env ? await getLock(service.locksTable, lockId(app, env)) : undefined;
      if (lock?.owner?.name !== execution.name) outcome = await recoveryOutcome(service, execution.name);
    }
  }
  return {
    name: execution.name,
    executionArn: execution.executionArn,
    version: releaseOf(execution).version ?? '?',
    status: execution.status,
    startedAt: execution.startDate?.toISOString() ?? null,
    endedAt: execution.stopDate?.toISOString() ?? null,
    outcome,
    error: execution.error ?? null,
    rollback,
  };
}

/** The row as one line of text. */
export function rowText(row: DeploymentRow): string {
  const outcome = row.outcome ?? 'running';
  const rollback = row.rollback ? `  rollback ${row.rollback.name} ${row.rollback.status}` : '';
  return `${row.version.padEnd(12)} ${outcome.padEnd(20)} ${row.startedAt ?? '-'}  ${row.endedAt ?? '-'}  ${row.name}${rollback}`;
}
