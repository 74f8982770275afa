import { getLock, listLocks } from '#shared/aws/dynamodb.ts';
import { findManagedInstances } from '#shared/aws/ec2.ts';
import { targetGroupTags } from '#shared/aws/elbv2.ts';
import { readObject } from '#shared/aws/s3.ts';
import { currentState, describeExecution, ExecutionListing } from '#shared/aws/sfn.ts';
import { configKey } from '#shared/domain/artifact-key.ts';
import { parseConfigText } from '#shared/domain/config.ts';
import { type LockItem, lockId } from '#shared/domain/lock.ts';
import { TAG } from '#shared/domain/tags.ts';
import { findLiveSlot, formatWeights, SLOTS, type Slot, type Weights } from '#shared/domain/traffic.ts';
import { readWeights } from '#shared/operations/weights.ts';
import { handled, type Service, withService } from '../context.ts';
import {
  type DeploymentRow,
  executionsOf,
  findExecutions,
  isExecutionOf,
  releaseOf,
  rowOf,
  rowText,
  TRUNCATED_TEXT,
} from '../deployments.ts';
import { usageError } from '../errors.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import type { CommandContext, Register } from '../main.ts';
import { withGlobalOptions } from '../main.ts';
import { scenarioOption } from '../options.ts';

/** How many of the last deployments status shows per app/env. */
const RECENT = 5;

interface SlotStatus {
  weight: number | null;
  /** The versions its running instances carry (tagged at launch). */
  versions: string[];
  /** The name of the execution that claimed the slot, from its target group's tag. */
  claimedBy: string | null;
}

export interface AppEnvStatus {
  app: string;
  env: string;
  /** Why the config could not be read, if it could not (then slots and weights are unknown). */
  configProblem: string | null;
  live: { slot: Slot; versions: string[] } | { split: Weights } | null;
  slots: Record<Slot, SlotStatus> | null;
  /**
   * The execution that may change things now: the lock's owner (the rollback execution of a
   * stopped deployment once its recovery handed it the lock), else the newest running deployment
   * that is not waiting for the lock (one that has not asked for it yet).
   */
  running: {
    name: string;
    kind: 'deployment' | 'rollback';
    /** For a rollback, the stopped deployment it undoes. */
    of: string | null;
    version: string;
    status: string;
    state: string | null;
    startedAt: string | null;
  } | null;
  lock: {
    owner: string | null;
    since: string | null;
    waiters: { name: string; uploadedAt: string }[];
  } | null;
  recent: DeploymentRow[];
  /** The listing's bound (1,000 executions) cut the recent deployments short. */
  truncated: boolean;
}

/** The slots as the records, the fleets' tags and the target groups' tags say. */
async function slotsOf(
  app: string,
  env: string,
  service: Service,
): Promise<Pick<AppEnvStatus, 'configProblem' | 'live' | 'slots'>> {
  const object = await readObject(service.bucket, configKey(app, env));
  if (!object)
    return {
      configProblem: `no config at s3://${service.bucket}/${configKey(app, env)}`,
      live: null,
      slots: null,
    };
  const parsed = parseConfigText(object.text);
  if (!parsed.ok)
    return { configProblem: `config invalid: ${parsed.problems.join('; ')}`, live: null, slots: null };
  const { config } = parsed;
  const weights = await readWeights(config);
  const groups = await targetGroupTags(SLOTS.map((slot) => config.slots[slot].targetGroupArn));
  const slots = {} as Record<Slot, SlotStatus>;
  for (const slot of SLOTS) {
    const fleet = await findManagedInstances({ [TAG.app]: app, [TAG.env]: env, [TAG.slot]: slot });
    slots[slot] = {
      weight: weights[slot],
      versions: [...new Set(fleet.map((i) => i.tags[TAG.version] ?? '?'))].sort(),
      // The tag holds the claiming execution's ARN; its name is what operators search by.
      claimedBy: groups.get(config.slots[slot].targetGroupArn)?.[TAG.execution]?.split(':').at(-1) ?? null,
    };
  }
  const found = findLiveSlot(weights);
  const live =
    found.kind === 'live'
      ? { slot: found.slot, versions: slots[found.slot].versions }
      : found.kind === 'split'
        ? { split: weights }
        : null;
  return { configProblem: null, live, slots };
}

/** The execution that may change app/env now (see AppEnvStatus.running), as it is now. */
async function runningOf(
  service: Service,
  app: string,
  env: string,
  lock: LockItem | undefined,
  listing: ExecutionListing,
): Promise<AppEnvStatus['running']> {
  const owner = lock?.owner;
  const waiting = new Set(lock?.waiters.map((w) => w.name));
  const execution = owner
    ? await describeExecution(owner.executionArn)
    : (await executionsOf(service, { app, env }, { limit: 1, running: true, skip: waiting, listing }))[0];
  if (!execution) return null;
  const rollback = isExecutionOf(service.rollbackStateMachineArn, execution.executionArn);
  return {
    name: execution.name,
    kind: rollback ? 'rollback' : 'deployment',
    of: rollback ? (owner?.name ?? null) : null,
    version: releaseOf(execution).version ?? '?',
    status: execution.status,
    state: (await currentState(execution.executionArn)) ?? null,
    startedAt: execution.startDate?.toISOString() ?? null,
  };
}

async function statusOf(
  app: string,
  env: string,
  service: Service,
  listing: ExecutionListing,
): Promise<AppEnvStatus> {
  const item = await getLock(service.locksTable, lockId(app, env));
  const lock = item
    ? {
        owner: item.owner?.name ?? null,
        since: item.owner?.since ?? null,
        waiters: item.waiters.map((w) => ({ name: w.name, uploadedAt: w.uploadedAt })),
      }
    : null;
  const running = await runningOf(service, app, env, item, listing);
  const recent: DeploymentRow[] = [];
  const found = await findExecutions(service, { app, env }, { limit: RECENT, listing });
  for (const execution of found.executions) recent.push(await rowOf(service, execution));
  return {
    app,
    env,
    ...(await slotsOf(app, env, service)),
    running,
    lock,
    recent,
    truncated: found.truncated,
  };
}

/** Every app/env with a lock item or a running execution (from the one listing). */
async function appEnvs(service: Service, listing: ExecutionListing): Promise<{ app: string; env: string }[]> {
  const ids = new Set((await listLocks(service.locksTable)).map((item) => item.id));
  for await (const item of listing.items()) {
    if (item.status !== 'RUNNING') continue;
    const described = await describeExecution(item.executionArn);
    const { app, env } = described ? releaseOf(described) : {};
    if (app && env) ids.add(lockId(app, env));
  }
  return [...ids].sort().flatMap((id) => {
    const [app = '', env = ''] = id.split('/');
    return app && env ? [{ app, env }] : [];
  });
}

function statusText(s: AppEnvStatus): string {
  const lines = [`${s.app}/${s.env}`];
  if (s.configProblem) lines.push(`  ${s.configProblem}`);
  if (s.live && 'slot' in s.live)
    lines.push(`  live: slot ${s.live.slot}, ${s.live.versions.join(', ') || 'no instances'}`);
  else if (s.live) lines.push(`  traffic split: ${formatWeights(s.live.split)}`);
  else if (!s.configProblem) lines.push('  live: nothing carries traffic');
  for (const slot of SLOTS) {
    const x = s.slots?.[slot];
    if (x)
      lines.push(
        `  slot ${slot}: weight ${x.weight ?? 'no record'}, ${x.versions.join(', ') || 'no instances'}${x.claimedBy ? `, claimed by ${x.claimedBy}` : ''}`,
      );
  }
  lines.push(
    s.running
      ? `  running: ${s.running.kind === 'rollback' ? `rollback ${s.running.name} of ${s.running.of ?? '?'}` : s.running.name} (${s.running.version}) ${s.running.status === 'RUNNING' ? `in "${s.running.state ?? 'starting'}"` : `ended ${s.running.status}, its recovery not finished`}`
      : '  running: nothing',
  );
  if (s.lock)
    lines.push(`  lock: ${s.lock.owner ? `held by ${s.lock.owner} since ${s.lock.since}` : 'free'}`);
  if (s.lock?.waiters.length)
    lines.push(
      `  waiting for the lock: ${s.lock.waiters.map((w) => `${w.name} (uploaded ${w.uploadedAt})`).join(', ')}`,
    );
  if (s.recent.length) lines.push('  last deployments:', ...s.recent.map((r) => `    ${rowText(r)}`));
  if (s.truncated) lines.push(`  ${TRUNCATED_TEXT}`);
  return lines.join('\n');
}

async function status(
  { out }: CommandContext,
  target: { app: string; env: string } | undefined,
  service: Service,
): Promise<ExitCode> {
  // One listing of the executions, read once however many app/envs are shown.
  const listing = new ExecutionListing(service.deployStateMachineArn);
  const targets = target ? [target] : await appEnvs(service, listing);
  const statuses: AppEnvStatus[] = [];
  for (const t of targets) statuses.push(await statusOf(t.app, t.env, service, listing));
  out.result(
    { appEnvs: statuses },
    statuses.length === 0 ? 'no app/env has deployed yet' : statuses.map(statusText).join('\n\n'),
  );
  return EXIT.ok;
}

export const registerStatus: Register = (program, run) => {
  withGlobalOptions(
    program
      .command('status')
      .description(
        'per app/env: the live slot, version and weights, the deployment running and its state, the lock and who waits, the last deployments',
      )
      .argument('[app]')
      .argument('[env]')
      .addOption(scenarioOption({ uploads: true })),
  ).action(
    run(async (context, app: string | undefined, env: string | undefined, flags: { scenario?: string }) =>
      handled(context.out, async () => {
        if ((app === undefined) !== (env === undefined))
          throw usageError('status takes APP ENV, or nothing for every app/env');
        const target = app && env ? { app, env } : undefined;
        return withService(context, (service) => status(context, target, service), {
          scenario: flags.scenario,
        });
      }),
    ),
  );
};
