import { getLock, getPublication } from '#shared/aws/dynamodb.ts';
import {
  describeExecution,
  type ExecutionDescription,
  executionArn,
  listExecutions,
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

/** How many more executions are read than asked for: names of other app/envs can share a prefix. */
const SLACK = 10;

/**
 * The executions of app/env (version when given), newest first, at most `limit`: listed by their
 * name's prefix, then confirmed by their input (`web-prod-` also begins `web-prod-x-` names).
 */
export async function executionsOf(
  service: Service,
  release: { app: string; env: string; version?: string },
  options: {
    limit: number;
    running?: boolean;
    skip?: ReadonlySet<string>;
    /** Only executions started at or after this time. */
    since?: Date;
    /** Only executions of this S3 object version. */
    versionId?: string;
  },
): Promise<ExecutionDescription[]> {
  const prefix = executionNamePrefix(release.app, release.env, release.version ?? '');
  const listed = await listExecutions(
    service.deployStateMachineArn,
    (e) =>
      e.name.startsWith(prefix) &&
      !options.skip?.has(e.name) &&
      !(options.since && e.startDate && e.startDate < options.since),
    {
      limit: options.limit + SLACK,
      ...(options.running ? { statusFilter: 'RUNNING' as const } : {}),
    },
  );
  const found: ExecutionDescription[] = [];
  for (const item of listed) {
    if (found.length >= options.limit) break;
    const described = await describeExecution(item.executionArn);
    if (!described) continue;
    const r = releaseOf(described);
    if (r.app !== release.app || r.env !== release.env) continue;
    if (release.version !== undefined && r.version !== release.version) continue;
    if (options.versionId !== undefined && artifactVersionOf(described) !== options.versionId) continue;
    found.push(described);
  }
  return found;
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
