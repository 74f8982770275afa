import fc from 'fast-check';
import { STATE } from '#shared/domain/states.ts';
import { TAG } from '#shared/domain/tags.ts';
import { findLiveSlot, formatWeights } from '#shared/domain/traffic.ts';
import type { ApproverBehaviour } from './approver.ts';
import type { SimExecution } from './aws/sfn.ts';
import type { TaskInterceptor } from './runner.ts';
import type { Scenario } from './scenarios.ts';
import { simulate } from './simulate.ts';
import { LOCKS_TABLE, type Service, type World } from './world.ts';
import { ALARM, APPROVERS, releaseKey, type ScenarioContext, TARGET_GROUPS } from './worlds.ts';

/**
 * Randomized fault schedules: 1-4 events at random virtual times over one deploy of web/prod
 * (release 1.1.0 replacing 1.0.0), run through the real ASL and handlers in the simulated account,
 * and a judge of how the run ended. Shared by `test/workflow/chaos.test.ts` and `npm run chaos`.
 */

/** Every kind of event a schedule can hold; each can be switched off on its own. */
export const EVENT_KINDS = [
  'throttle-burst',
  'transient-errors',
  'permanent-error',
  'response-lost',
  'lambda-timeout',
  'duplicate-invocation',
  'event-redelivered',
  'alarm-blip',
  'alarm-lasting',
  'green-dies',
  'green-unhealthy',
  'blue-dies',
  'blue-unhealthy',
  'stop',
  'newer-upload',
  'slow-build',
  'failed-build',
  'slow-insync',
  'approval-late',
  'approval-never',
  'lock-item-lost',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** The AWS operations the service calls, per service: where API faults land (only the command line calls CloudFormation, STS and IAM; progress events are best effort, and faulted in their own test). */
const OPERATIONS: Record<
  Exclude<Service, 'secretsmanager' | 'cloudformation' | 'sts' | 'iam' | 'events' | 'autoscaling'>,
  string[]
> = {
  ec2: ['RunInstances', 'DescribeInstances', 'TerminateInstances', 'CreateTags', 'DescribeImages'],
  elbv2: [
    'RegisterTargets',
    'DeregisterTargets',
    'DescribeTargetHealth',
    'DescribeTargetGroups',
    'DescribeTargetGroupAttributes',
  ],
  route53: ['ChangeResourceRecordSets', 'GetChange', 'ListResourceRecordSets'],
  imagebuilder: ['CreateComponent', 'CreateImageRecipe', 'CreateImage', 'GetImage'],
  cloudwatch: ['DescribeAlarms', 'GetMetricData'],
  sns: ['Publish'],
  s3: ['GetObject', 'HeadObject', 'ListObjectVersions'],
  sfn: ['StartExecution', 'SendTaskSuccess', 'DescribeExecution', 'GetExecutionHistory'],
  dynamodb: ['GetItem', 'PutItem', 'UpdateItem'],
};
const API_TARGETS = Object.entries(OPERATIONS).flatMap(([service, operations]) =>
  operations.map((operation) => ({ service: service as Service, operation })),
);

/**
 * The state machine retries throttling 10 times and transient errors 6 times: bursts stay within
 * that, per operation, even when several land on the same one (see `withinRetries`).
 */
const MAX_THROTTLES_PER_OPERATION = 10;
const MAX_TRANSIENTS_PER_OPERATION = 6;

type ApiFault = { at: number; service: Service; operation: string };
type Fleet = 'green' | 'blue';

/** One event of a schedule; `at` is seconds of virtual time after the upload. */
export type ChaosEvent =
  | ({ kind: 'throttle-burst' | 'transient-errors'; times: number } & ApiFault)
  | ({ kind: 'permanent-error' | 'response-lost' } & ApiFault)
  | {
      kind:
        | 'lambda-timeout'
        | 'duplicate-invocation'
        | 'event-redelivered'
        | 'stop'
        | 'newer-upload'
        | 'lock-item-lost';
      at: number;
    }
  | { kind: 'alarm-blip'; at: number; minutes: number }
  | { kind: 'alarm-lasting'; at: number }
  | { kind: 'green-dies' | 'green-unhealthy' | 'blue-dies' | 'blue-unhealthy'; at: number; which: number }
  | { kind: 'slow-build'; minutes: number }
  | { kind: 'failed-build'; at: number; afterMinutes: number }
  | { kind: 'slow-insync'; at: number; seconds: number }
  | { kind: 'approval-late'; stages: ApprovalStage[]; minutes: number }
  | { kind: 'approval-never'; stages: ApprovalStage[] };

type ApprovalStage = 'traffic-shift' | 'blue-termination';

export interface Schedule {
  /** The seed the schedule was drawn with (replay: `npm run chaos -- --seed S --runs 1`). */
  seed?: number;
  events: ChaosEvent[];
}

/** The standard deploy takes about 1 h 45 min of virtual time: events fall in its first 2 hours. */
const SPAN_SECONDS = 2 * 3600;

const at = fc.integer({ min: 0, max: SPAN_SECONDS });
const apiTarget = fc.constantFrom(...API_TARGETS);
const stages = fc.constantFrom<ApprovalStage[]>(
  ['traffic-shift'],
  ['blue-termination'],
  ['traffic-shift', 'blue-termination'],
);
const which = fc.integer({ min: 0, max: 9 });

/** A fault that repeats on one API call target: `times` in a row, from 1 to `maxTimes`. */
const repeatedFault = (kind: 'throttle-burst' | 'transient-errors', maxTimes: number) =>
  fc
    .record({ kind: fc.constant(kind), at, times: fc.integer({ min: 1, max: maxTimes }), target: apiTarget })
    .map(({ target, ...rest }) => ({ ...rest, ...target }));

const EVENT_ARBITRARIES: Record<EventKind, fc.Arbitrary<ChaosEvent>> = {
  'throttle-burst': repeatedFault('throttle-burst', 5),
  'transient-errors': repeatedFault('transient-errors', 3),
  'permanent-error': fc
    .record({ kind: fc.constant('permanent-error' as const), at, target: apiTarget })
    .map(({ target, ...rest }) => ({ ...rest, ...target })),
  'response-lost': fc
    .record({ kind: fc.constant('response-lost' as const), at, target: apiTarget })
    .map(({ target, ...rest }) => ({ ...rest, ...target })),
  'lambda-timeout': fc.record({ kind: fc.constant('lambda-timeout' as const), at }),
  'duplicate-invocation': fc.record({ kind: fc.constant('duplicate-invocation' as const), at }),
  'event-redelivered': fc.record({ kind: fc.constant('event-redelivered' as const), at }),
  'alarm-blip': fc.record({
    kind: fc.constant('alarm-blip' as const),
    at,
    minutes: fc.integer({ min: 1, max: 10 }),
  }),
  'alarm-lasting': fc.record({ kind: fc.constant('alarm-lasting' as const), at }),
  'green-dies': fc.record({ kind: fc.constant('green-dies' as const), at, which }),
  'green-unhealthy': fc.record({ kind: fc.constant('green-unhealthy' as const), at, which }),
  'blue-dies': fc.record({ kind: fc.constant('blue-dies' as const), at, which }),
  'blue-unhealthy': fc.record({ kind: fc.constant('blue-unhealthy' as const), at, which }),
  stop: fc.record({ kind: fc.constant('stop' as const), at }),
  'newer-upload': fc.record({ kind: fc.constant('newer-upload' as const), at }),
  'slow-build': fc.record({
    kind: fc.constant('slow-build' as const),
    minutes: fc.integer({ min: 30, max: 150 }),
  }),
  'failed-build': fc.record({
    kind: fc.constant('failed-build' as const),
    at,
    afterMinutes: fc.integer({ min: 1, max: 25 }),
  }),
  'slow-insync': fc.record({
    kind: fc.constant('slow-insync' as const),
    at,
    seconds: fc.integer({ min: 60, max: 900 }),
  }),
  'approval-late': fc.record({
    kind: fc.constant('approval-late' as const),
    stages,
    minutes: fc.integer({ min: 30, max: 1800 }),
  }),
  'approval-never': fc.record({ kind: fc.constant('approval-never' as const), stages }),
  'lock-item-lost': fc.record({ kind: fc.constant('lock-item-lost' as const), at }),
};

/** Kinds a schedule holds at most once (they set one thing of the world or the config). */
const SINGLE: EventKind[] = ['slow-build', 'approval-late', 'approval-never'];

/**
 * Whether a schedule is one the service must survive as a whole: API faults on one operation stay
 * within its retries, and the config asks for one approval policy.
 */
function wellFormed(events: ChaosEvent[]): boolean {
  const count = (test: (e: ChaosEvent) => boolean) => events.filter(test).length;
  if (count((e) => e.kind === 'approval-late' || e.kind === 'approval-never') > 1) return false;
  if (SINGLE.some((kind) => count((e) => e.kind === kind) > 1)) return false;
  const budget = new Map<string, { throttles: number; transients: number }>();
  for (const event of events) {
    if (event.kind !== 'throttle-burst' && event.kind !== 'transient-errors') continue;
    const key = `${event.service}:${event.operation}`;
    const used = budget.get(key) ?? { throttles: 0, transients: 0 };
    if (event.kind === 'throttle-burst') used.throttles += event.times;
    else used.transients += event.times;
    budget.set(key, used);
    if (used.throttles > MAX_THROTTLES_PER_OPERATION || used.transients > MAX_TRANSIENTS_PER_OPERATION)
      return false;
  }
  return true;
}

/** Schedules of 1-4 events of the given kinds (all by default). */
export function scheduleArbitrary(kinds: readonly EventKind[] = EVENT_KINDS): fc.Arbitrary<Schedule> {
  if (kinds.length === 0) throw new Error('no event kinds to draw from');
  const event = fc.oneof(...kinds.map((kind) => EVENT_ARBITRARIES[kind]));
  return fc
    .array(event, { minLength: 1, maxLength: 4 })
    .filter(wellFormed)
    .map((events) => ({ events: [...events].sort((x, y) => timeOf(x) - timeOf(y)) }));
}

/** The one schedule a seed stands for. */
export function scheduleFromSeed(seed: number, kinds: readonly EventKind[] = EVENT_KINDS): Schedule {
  const [schedule] = fc.sample(scheduleArbitrary(kinds), { seed, numRuns: 1 });
  if (!schedule) throw new Error(`no schedule for seed ${seed}`);
  return { seed, ...schedule };
}

function timeOf(event: ChaosEvent): number {
  return 'at' in event ? event.at : 0;
}

function clock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `+${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/** One line per event, as a person reads a schedule. */
export function describeEvent(event: ChaosEvent): string {
  const when = 'at' in event ? `${clock(event.at)} ` : 'from the start ';
  switch (event.kind) {
    case 'throttle-burst':
      return `${when}${event.times} throttle(s) on ${event.service}:${event.operation}`;
    case 'transient-errors':
      return `${when}${event.times} transient error(s) on ${event.service}:${event.operation}`;
    case 'permanent-error':
      return `${when}a permanent error (AccessDenied) on the next ${event.service}:${event.operation}`;
    case 'response-lost':
      return `${when}the next ${event.service}:${event.operation} takes effect, its response is lost`;
    case 'lambda-timeout':
      return `${when}the next task does its work, then times out`;
    case 'duplicate-invocation':
      return `${when}the next task is invoked twice`;
    case 'event-redelivered':
      return `${when}S3 delivers the newest upload's event again`;
    case 'alarm-blip':
      return `${when}the alarm fires for ${event.minutes} min`;
    case 'alarm-lasting':
      return `${when}the alarm fires and stays`;
    case 'green-dies':
    case 'blue-dies':
      return `${when}a ${event.kind.split('-')[0]} instance (#${event.which}) dies`;
    case 'green-unhealthy':
    case 'blue-unhealthy':
      return `${when}a ${event.kind.split('-')[0]} instance (#${event.which}) starts failing health checks`;
    case 'stop':
      return `${when}an operator presses Stop on the newest running execution`;
    case 'newer-upload':
      return `${when}a newer release is uploaded`;
    case 'slow-build':
      return `${when}every build takes ${event.minutes} min`;
    case 'failed-build':
      return `${when}builds started from now fail after ${event.afterMinutes} min`;
    case 'slow-insync':
      return `${when}Route 53 changes take ${event.seconds} s to be INSYNC`;
    case 'approval-late':
      return `${when}approval before ${event.stages.join(' and ')}, answered after ${event.minutes} min`;
    case 'approval-never':
      return `${when}approval before ${event.stages.join(' and ')}, never answered`;
    case 'lock-item-lost':
      return `${when}the lock item is lost (deleted by hand, or the table restored from a backup)`;
  }
}

export function describeSchedule(schedule: Schedule): string[] {
  return schedule.events.map(describeEvent);
}

/** What one run of a schedule came to. */
export interface ChaosResult {
  schedule: Schedule;
  /** Each broken promise, one line each; empty when the run passed. */
  failures: string[];
  /** What the events did as they happened (an instance that died, the task a fault hit). */
  effects: string[];
  /** Each execution's name, status and how it ended. */
  executions: { name: string; status: string; error?: string | undefined; cause?: string | undefined }[];
  liveVersion: string | null;
  virtualSeconds: number;
  wallMs: number;
}

/** No run may go on longer than this in virtual time (the longest legitimate one is days shorter). */
const ENDLESS_AFTER_MS = 14 * 86_400_000;

const lambdaTimeout = () =>
  Object.assign(new Error('Task timed out after 90.00 seconds'), { name: 'Sandbox.Timedout' });

/** The instances of our fleets that are up, oldest fleet first (by version, in launch order). */
function fleetsByAge(world: World): string[][] {
  const byVersion = new Map<string, { first: number; ids: string[] }>();
  for (const instance of world.ec2.instances.values()) {
    if (!['pending', 'running'].includes(world.ec2.state(instance))) continue;
    const version = instance.tags[TAG.version];
    if (!version) continue;
    const fleet = byVersion.get(version) ?? { first: instance.launchedAt, ids: [] };
    fleet.first = Math.min(fleet.first, instance.launchedAt);
    fleet.ids.push(instance.id);
    byVersion.set(version, fleet);
  }
  return [...byVersion.values()].sort((x, y) => x.first - y.first).map((f) => f.ids);
}

function pickInstance(world: World, fleet: Fleet, which: number): string | undefined {
  const fleets = fleetsByAge(world);
  const ids = fleet === 'blue' ? fleets[0] : fleets.at(-1);
  return ids?.length ? ids[which % ids.length] : undefined;
}

/**
 * traffic.mode alb: the faults a schedule draws on Route 53's calls strike the listener's instead
 * (the same schedule for a seed in either mode).
 */
const LISTENER_CALLS: Record<string, string> = {
  ChangeResourceRecordSets: 'ModifyListener',
  ListResourceRecordSets: 'DescribeListeners',
  GetChange: 'DescribeListeners',
};

function targetIn(alb: boolean | 'rule', target: { service: Service; operation: string }) {
  if (!alb || target.service !== 'route53') return target;
  const operation = LISTENER_CALLS[target.operation] ?? target.operation;
  return {
    service: 'elbv2' as const,
    operation: alb === 'rule' ? operation.replace('Listener', 'Rule') : operation,
  };
}

/**
 * Runs one schedule in a fresh simulated account and judges how it ended; `alb`: the account's
 * app in traffic.mode alb (one listener forwarding to both target groups, with stickiness; `rule`:
 * a rule of the listener forwarding).
 */
export async function runSchedule(
  schedule: Schedule,
  { alb = false }: { alb?: boolean | 'rule' } = {},
): Promise<ChaosResult> {
  const effects: string[] = [];
  const failures: string[] = [];
  let world: World | undefined;
  const now = () => (world ? Math.round((world.now() - world.startedAt) / 1000) : 0);
  const note = (text: string) => effects.push(`${clock(now())} ${text}`);
  /** Permanent faults that struck: the service may then honestly leave things for a person. */
  let permanentStruck = 0;
  let endless = false;
  let stopsPressed = 0;
  const versions = ['1.1.0'];
  const taskFaults: { kind: 'lambda-timeout' | 'duplicate-invocation'; at: number; used: boolean }[] = [];
  const failingSince = new Map<string, number>();
  /** Instances the schedule killed or made unhealthy. */
  const hit = new Set<string>();
  const approval = schedule.events.find(
    (e): e is Extract<ChaosEvent, { kind: 'approval-late' | 'approval-never' }> =>
      e.kind === 'approval-late' || e.kind === 'approval-never',
  );
  const approvers: ApproverBehaviour | undefined = !approval
    ? undefined
    : approval.kind === 'approval-late'
      ? { kind: 'approve', afterMinutes: approval.minutes, comment: 'Looked at it.' }
      : { kind: 'ignore' };

  const upload = (ctx: ScenarioContext, version: string) => {
    const record = ctx.upload(releaseKey(version), `PK\u0003\u0004 web ${version}`);
    ctx.deliver([record]);
    return record;
  };
  let lastRecord: ReturnType<ScenarioContext['upload']> | undefined;

  const apply = (ctx: ScenarioContext, event: ChaosEvent) => {
    const w = ctx.world;
    switch (event.kind) {
      case 'throttle-burst':
      case 'transient-errors':
      case 'permanent-error':
      case 'response-lost': {
        const kind = {
          'throttle-burst': 'throttle',
          'transient-errors': 'transient',
          'permanent-error': 'permanent',
          'response-lost': 'response-lost',
        } as const;
        const target = targetIn(alb, event);
        w.inject({
          service: target.service,
          operation: target.operation,
          kind: kind[event.kind],
          times: 'times' in event ? event.times : 1,
          when: () => {
            if (event.kind === 'permanent-error') permanentStruck += 1;
            note(`${event.kind} strikes ${target.service}:${target.operation}`);
            return true;
          },
        });
        return;
      }
      case 'lambda-timeout':
      case 'duplicate-invocation':
        taskFaults.push({ kind: event.kind, at: event.at, used: false });
        return;
      case 'event-redelivered':
        if (lastRecord) ctx.deliver([lastRecord]);
        return;
      case 'alarm-blip':
        w.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed: 5xx rate 2.5 % > 1 %');
        w.cloudwatch.setState(ALARM, 'OK', 'Threshold not crossed', w.now() + event.minutes * 60_000);
        return;
      case 'alarm-lasting':
        w.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed: 5xx rate 3.0 % > 1 %');
        return;
      case 'green-dies':
      case 'blue-dies': {
        const id = pickInstance(w, event.kind === 'green-dies' ? 'green' : 'blue', event.which);
        const instance = id ? w.ec2.instances.get(id) : undefined;
        if (!instance) return note(`${event.kind}: no such instance up`);
        instance.diedAt = w.now();
        hit.add(instance.id);
        instance.stateReason = 'Server.InternalError: simulated hardware failure';
        note(`${id} (${instance.tags[TAG.version]}) dies`);
        return;
      }
      case 'green-unhealthy':
      case 'blue-unhealthy': {
        const id = pickInstance(w, event.kind === 'green-unhealthy' ? 'green' : 'blue', event.which);
        if (!id) return note(`${event.kind}: no such instance up`);
        failingSince.set(id, w.now());
        hit.add(id);
        note(`${id} (${w.ec2.instances.get(id)?.tags[TAG.version]}) starts failing health checks`);
        return;
      }
      case 'stop': {
        const running = [...w.sfn.executions.values()]
          .filter((e) => e.status === 'RUNNING')
          .sort((x, y) => y.startedAt - x.startedAt);
        const [newest] = running;
        if (!newest) return note('stop: nothing runs');
        ctx.stop(newest.name);
        stopsPressed += 1;
        note(`Stop pressed on ${newest.name}`);
        return;
      }
      case 'newer-upload': {
        const version = `1.${versions.length + 1}.0`;
        versions.push(version);
        lastRecord = upload(ctx, version);
        note(`${version} uploaded`);
        return;
      }
      case 'slow-build':
        w.imagebuilder.buildMinutes = event.minutes;
        return;
      case 'failed-build':
        w.imagebuilder.failure = {
          afterMinutes: event.afterMinutes,
          reason: 'Component bluegreen-install-artifact failed at step InstallArtifact: exit 1',
        };
        return;
      case 'slow-insync':
        w.route53.propagationSeconds = event.seconds;
        return;
      case 'approval-late':
      case 'approval-never':
        ctx.config.approval = { before: event.stages, approvers: APPROVERS };
        return;
      case 'lock-item-lost': {
        const table = w.dynamodb.tables.get(LOCKS_TABLE);
        note(`lock item lost (${table?.size ?? 0} item(s) deleted)`);
        table?.clear();
        return;
      }
    }
  };

  const scenario: Scenario = {
    name: `chaos${schedule.seed === undefined ? '' : ` seed ${schedule.seed}`}`,
    summary: describeSchedule(schedule).join('; '),
    // The judge below decides; the scenario's own expectations are not used.
    expect: 'SUCCEEDED',
    ...(approvers ? { approvers } : {}),
    ...(alb ? { alb } : {}),
    prepare: (ctx) => {
      world = ctx.world;
      const w = ctx.world;
      const failing = w.elbv2.failingFrom;
      w.elbv2.failingFrom = (instance) => failingSince.get(instance.id) ?? failing(instance);
      for (const event of schedule.events) {
        if (!('at' in event)) apply(ctx, event);
      }
      w.schedule(w.startedAt + ENDLESS_AFTER_MS, () => {
        endless = true;
        for (const execution of w.sfn.executions.values())
          if (execution.status === 'RUNNING') ctx.stop(execution.name);
      });
    },
    act: (ctx) => {
      lastRecord = upload(ctx, '1.1.0');
      for (const event of schedule.events) {
        if ('at' in event) ctx.after(event.at, () => apply(ctx, event));
      }
    },
  };

  const intercept: TaskInterceptor = async (call, invoke) => {
    const fault = taskFaults.find((f) => !f.used && world && world.now() - world.startedAt >= f.at * 1000);
    if (!fault) return invoke();
    fault.used = true;
    note(`${fault.kind} strikes "${call.state}" of ${call.execution.name}`);
    if (fault.kind === 'duplicate-invocation') {
      await invoke().catch(() => undefined);
      return invoke();
    }
    await invoke();
    throw lambdaTimeout();
  };

  const started = performance.now();
  let outcome: Awaited<ReturnType<typeof simulate>> | undefined;
  try {
    outcome = await simulate(scenario, { intercept });
  } catch (error) {
    failures.push(`the run did not end: ${(error as Error).message}`);
  }
  const result: ChaosResult = {
    schedule,
    failures,
    effects,
    executions: [],
    liveVersion: null,
    virtualSeconds: now(),
    wallMs: Math.round(performance.now() - started),
  };
  if (!outcome) return result;
  const { summary } = outcome;
  const w = outcome.world;
  const executions = [...w.sfn.executions.values()].sort((x, y) => x.startedAt - y.startedAt);
  result.executions = executions.map((e) => ({
    name: e.name,
    status: e.status,
    error: e.error,
    cause: e.cause,
  }));
  result.liveVersion = summary.liveVersion;
  failures.push(
    ...judge(w, summary, executions, {
      endless,
      permanentStruck,
      stopsPressed,
      hit,
      newest: versions.at(-1) ?? '',
    }),
  );
  return result;
}

/** What the final notifications say, by execution. */
function finalNotifications(world: World): Map<string, number> {
  const told = new Map<string, number>();
  for (const message of world.sns.messages.filter((m) => m.attributes.outcome)) {
    const name = message.attributes.deployment ?? '(unnamed)';
    told.set(name, (told.get(name) ?? 0) + 1);
  }
  return told;
}

/** The cause a person reads of an execution: its own, or the recovery's notification after a Stop. */
function causeOf(execution: SimExecution, world: World): string {
  if (execution.cause) return execution.cause;
  return (
    world.sns.messages.find((m) => m.attributes.deployment === execution.name && m.attributes.outcome)
      ?.message ?? ''
  );
}

/**
 * The promises every run keeps, whatever its schedule: it ended; the safety invariants held after
 * every state and at the end (one fleet, all traffic on it, healthy targets); the lock is free and
 * nobody waits on a task token; each execution told its end exactly once; the newest upload is live
 * unless its deploy failed. A permanent error, or a Stop while blue drains, may make a rollback or
 * cleanup fail: then invariant 3 may be broken, honestly, when the execution says what is left.
 */
function judge(
  world: World,
  summary: Awaited<ReturnType<typeof simulate>>['summary'],
  executions: SimExecution[],
  run: {
    endless: boolean;
    permanentStruck: number;
    stopsPressed: number;
    hit: Set<string>;
    newest: string;
  },
): string[] {
  const failures: string[] = [];
  if (run.endless) failures.push('the run did not end within 14 days of virtual time');
  const leftForPerson = executions.some(
    (e) => e.status !== 'SUCCEEDED' && causeOf(e, world).includes('Left for a person:'),
  );
  // A cleanup that cannot finish (a permanent error, a Stop while blue drains) leaves things behind.
  // When the notifier itself failed for good, nothing could list the rest (the cause is the raw error).
  const notifierDown = executions.some((e) => /notification not sent/.test(e.states.at(-1)?.name ?? ''));
  const honest =
    (run.permanentStruck > 0 && (leftForPerson || notifierDown)) || (run.stopsPressed > 0 && leftForPerson);
  // Every instance of ours that is gone was killed by the schedule: no fleet can serve, by the world's doing.
  const worldKilledAll = [...world.ec2.instances.values()].every(
    (i) =>
      ['pending', 'running'].includes(world.ec2.state(i)) ||
      i.terminateRequestedAt !== undefined ||
      run.hit.has(i.id),
  );
  for (const violation of summary.violations) {
    if (honest && /invariant 3:/.test(violation)) continue;
    // Judged below: an instance the world killed after the fleet went live is not the service's doing.
    if (/the live slot [ab] is not healthy at the end/.test(violation)) continue;
    if (/no fleet runs at the end/.test(violation) && worldKilledAll) continue;
    failures.push(`violation: ${violation}`);
  }
  failures.push(...endOfTraffic(world, summary.weights, honest, run.hit));
  const open = world.sfn.openTokens();
  if (open > 0) failures.push(`${open} task token wait(s) still open`);
  for (const item of world.dynamodb.items(LOCKS_TABLE)) {
    const waiters = (item.waiters as { name?: string }[] | undefined) ?? [];
    if (waiters.length > 0)
      failures.push(`the lock item still lists waiters: ${waiters.map((x) => x.name).join(', ')}`);
  }
  const told = finalNotifications(world);
  for (const execution of executions) {
    const count = told.get(execution.name) ?? 0;
    // A final notification that failed for good (a permanent error on Publish) tells nobody.
    const silenced =
      count === 0 &&
      run.permanentStruck > 0 &&
      world.calls.some(
        (c) => c.operation === 'Publish' && c.error === 'AccessDenied' && c.actor === execution.name,
      );
    // A Publish that took effect but whose response was lost cannot be told from one that failed:
    // standard SNS topics have no deduplication, and the notifier tells twice rather than never.
    const unknown = world.calls.filter(
      (c) =>
        c.operation === 'Publish' &&
        c.fn !== 'requestApproval' &&
        c.error === 'TimeoutError' &&
        c.actor === execution.name,
    ).length;
    if ((count < 1 || count > 1 + unknown) && !silenced)
      failures.push(`${execution.name} (${execution.status}) sent ${count} final notifications`);
  }
  for (const name of told.keys())
    if (!world.sfn.executions.has(name)) failures.push(`a final notification names no execution: ${name}`);
  const newest = executions.find((e) => e.name.includes(run.newest.replaceAll('.', '_')));
  // Lambda retries the starter's asynchronous invocation twice; then the event goes to the
  // dead-letter queue serverless.yml gives it, whose alarm tells the topic.
  const starterGaveUp =
    world.calls.filter((c) => c.fn === 'startDeployment' && c.error && c.error !== 'ExecutionAlreadyExists')
      .length >= 3;
  if (!newest) {
    if (!starterGaveUp) failures.push(`the newest upload (${run.newest}) started no execution`);
  } else if (newest.status === 'SUCCEEDED' && summary.liveVersion !== run.newest)
    failures.push(`${newest.name} succeeded but ${summary.liveVersion ?? 'nothing'} is live`);
  else failures.push(...failedOfItsOwn(newest, executions, world));
  return failures;
}

/**
 * The newest upload may fail, but for a reason of its own (its build, its green, an alarm, a fault,
 * a Stop), not because it gave up waiting behind an older one, nor because of what an earlier
 * deploy or the world left in the slot when nobody was told to clean it up.
 */
function failedOfItsOwn(newest: SimExecution, executions: SimExecution[], world: World): string[] {
  if (newest.status !== 'FAILED' || newest.error === 'DeploymentSuperseded') return [];
  const cause = newest.cause ?? '';
  const planned = newest.states.some((s) => s.name === STATE.plan);
  if (!planned && /States\.Timeout/.test(cause))
    return [`the newest upload ${newest.name} gave up waiting for the lock: ${cause.split('\n')[0]}`];
  const toldSomeone = executions.some(
    (e) => e !== newest && causeOf(e, world).includes('Left for a person:'),
  );
  if (/still has registered targets/.test(cause) && !toldSomeone)
    return [`the newest upload ${newest.name} was refused for what was left in the slot: ${cause}`];
  return [];
}

/**
 * At the end traffic is on one slot, and that slot has healthy targets. Not necessarily all of
 * them: an instance that died or went unhealthy has no replacement (the service runs no Auto
 * Scaling group), and the monitor judges every move of traffic onto a slot when it is made.
 */
function endOfTraffic(
  world: World,
  weights: { a: number | null; b: number | null },
  honest: boolean,
  hit: Set<string>,
): string[] {
  // As the monitor read them at the end: the records, or the listener's forward action.
  const live = findLiveSlot(weights);
  if (live.kind === 'none') return ['at the end no slot carries traffic'];
  if (live.kind === 'split')
    // A rollback that could not finish may leave a split, and says so.
    return honest ? [] : [`at the end traffic is split (${formatWeights(live.weights)})`];
  const arn = TARGET_GROUPS[live.slot];
  const group = world.elbv2.targetGroups.get(arn);
  const healthy = group
    ? world.elbv2.activeTargets(arn).filter((id) => world.elbv2.health(group, id).State === 'healthy')
    : [];
  if (healthy.length > 0) return [];
  // The schedule killed or broke every instance the slot had: nothing of the service's could serve.
  const registered = group ? [...group.registrations.keys()] : [];
  if (registered.length > 0 && registered.every((id) => hit.has(id))) return [];
  return [`at the end the live slot ${live.slot} has no healthy target`];
}

/**
 * A failure's kind, for counting: the line without its times, ids, names and numbers, so that the
 * same broken promise in two runs reads the same.
 */
export function failureKind(line: string): string {
  return line
    .replace(/\+\d\d:\d\d:\d\d /g, '')
    .replace(/\{.*\}/g, '{...}')
    .replace(/web-prod-[0-9_]+-[0-9a-f]+/g, 'EXECUTION')
    .replace(/i-[0-9a-f]{17}/g, 'INSTANCE')
    .replace(/\d+/g, 'N');
}

/** A failing run as it is printed: its seed, its events, what they did, and how it ended. */
export function formatFailure(result: ChaosResult): string {
  const { seed } = result.schedule;
  const lines = [
    seed === undefined
      ? `schedule ${JSON.stringify(result.schedule.events)}`
      : `seed ${seed} (replay: npm run chaos -- --seed ${seed} --runs 1)`,
    ...describeSchedule(result.schedule).map((line) => `  event  ${line}`),
    ...result.effects.map((line) => `  effect ${line}`),
    ...result.executions.map(
      (e) =>
        `  ended  ${e.name} ${e.status}${e.error ? ` (${e.error})` : ''}${e.cause ? `: ${e.cause.split('\n')[0]}` : ''}`,
    ),
    ...result.failures.map((line) => `  FAIL   ${line}`),
  ];
  return lines.join('\n');
}
