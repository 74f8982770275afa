import { pathToFileURL } from 'node:url';
import { configKey } from '#shared/domain/artifact-key.ts';
import { validateConfig } from '#shared/domain/config.ts';
import { quoted } from '#shared/domain/text.ts';
import { findLiveSlot, type Slot } from '#shared/domain/traffic.ts';
import { endedOnItsOwnPath } from '#shared/domain/workflow.ts';
import type { TerminalDecision } from '#shared/operations/decide-from-terminal.ts';
import { approvalLinks, simulateApprovers, simulateTerminalApprovers } from './approver.ts';
import type { SimExecution } from './aws/sfn.ts';
import { type InstalledClock, installClock } from './clock.ts';
import type { DecisionHandler } from './decision-api.ts';
import { type LoadedDefinition, loadDefinition, loadFunctionHandlers } from './definition.ts';
import { Harness } from './harness.ts';
import { historyEvents } from './history.ts';
import type { HttpHandler } from './http.ts';
import { type EmittedMetrics, parseMetrics, recordMetricsPerWorld } from './metrics.ts';
import { type FleetCount, SafetyMonitor } from './monitor.ts';
import { Printer } from './printer.ts';
import { inWorld, routeClientsTo } from './router.ts';
import type { Handler, TaskInterceptor } from './runner.ts';
import type { Scenario, Status } from './scenarios.ts';
import {
  APPROVAL_BASE_URL,
  APPROVALS_TABLE,
  LOCKS_TABLE,
  lambdaFunction,
  ROLLBACK_STATE_MACHINE_ARN,
  SIGNING_SECRET_ID,
  STATE_MACHINE_ARN,
  TOPIC_NAMES,
  World,
} from './world.ts';
import {
  appNames,
  BUCKET,
  builtInApp,
  type ScenarioContext,
  type SimApp,
  seedWorld,
  uploadRelease,
} from './worlds.ts';

export interface Summary {
  scenario: string;
  status: Status;
  expected: Status;
  ok: boolean;
  liveSlot: Slot | null;
  /** The version the live slot's instances run. */
  liveVersion: string | null;
  weights: { a: number | null; b: number | null };
  running: FleetCount;
  executions: number;
  transitions: number;
  /** Task attempts the state machine retried. */
  retries: number;
  /** The most history events any execution of the run wrote (Step Functions allows 25,000). */
  historyEvents: number;
  /** The largest input or output of any state of any execution, in bytes (Step Functions allows 262,144). */
  maxStatePayloadBytes: number;
  /** Where that largest payload was. */
  largestPayload: { bytes: number; state: string; what: string } | null;
  virtualSeconds: number;
  /** The same, to the millisecond. */
  virtualMs: number;
  violations: string[];
  cause: string | null;
  notifications: { subject: string; summary: string }[];
  /** Decisions actually recorded, by link or from a terminal. */
  approvals: { stage: string; decision: string; approver: string }[];
  /** The progress events the service put on the bus, their detail-types in order. */
  events: string[];
  /** The metrics the service wrote (embedded metric format), one entry per document, in order. */
  metrics: EmittedMetrics[];
  apiCalls: Record<string, number>;
  wallMs: number;
  problems: string[];
}

/** Operations that change something; a scenario that must change nothing may call none of them. */
export const MUTATING_OPERATIONS = new Set([
  'RunInstances',
  'TerminateInstances',
  'CreateTags',
  'RegisterTargets',
  'AddTags',
  'DeregisterTargets',
  'ChangeResourceRecordSets',
  'ModifyListener',
  'ModifyRule',
  'CreateComponent',
  'CreateImageRecipe',
  'CreateImage',
  'CancelImageCreation',
]);

let handlerCache: Promise<Record<string, Handler>> | undefined;

/** The handlers serverless.yml names, imported once per process. */
export function loadHandlers(): Promise<Record<string, Handler>> {
  handlerCache ??= (async () => {
    const handlers: Record<string, Handler> = {};
    for (const [key, { module, exportName }] of Object.entries(loadFunctionHandlers())) {
      const loaded = (await import(pathToFileURL(module).href)) as Record<string, Handler>;
      const handler = loaded[exportName];
      if (typeof handler !== 'function') throw new Error(`${module} has no export ${exportName}`);
      // Every call the handler makes is attributed to its function (and so to its IAM role).
      handlers[key] = ((event: unknown, context: unknown) =>
        lambdaFunction.run(key, () =>
          (handler as (e: unknown, c: unknown) => unknown)(event, context),
        )) as Handler;
    }
    return handlers;
  })();
  return handlerCache;
}

/** Sets what the functions read from their environment in Lambda, pointed at the simulated account. */
export function simulatedEnvironment(verbose = false): void {
  const defaults: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'ASIASIMULATED',
    AWS_SECRET_ACCESS_KEY: 'simulated',
    STATE_MACHINE_ARN,
    ROLLBACK_STATE_MACHINE_ARN,
    NOTIFICATION_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:bluegreen-ec2-sim-deployments',
    NOTIFICATION_TOPIC_NAMES: TOPIC_NAMES,
    MANAGED_LISTENERS: [appNames().listenerArn, appNames().ruleArn].join(','),
    APPROVALS_TABLE,
    LOCKS_TABLE,
    SIGNING_SECRET_ID,
    APPROVAL_BASE_URL,
    POWERTOOLS_LOG_LEVEL: verbose ? 'INFO' : 'SILENT',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const [key, value] of Object.entries(defaults)) process.env[key] ??= value;
  // EMF lines on stdout would mix with the report (--json reads stdout): each run records its
  // own instead (recordMetricsPerWorld).
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
}

/**
 * The recovery's notification of an execution that ended with no Catch (stopped, timed out,
 * runtime error): what the operator learns of it.
 */
function recoveryOf(execution: SimExecution | undefined, world: World): string | undefined {
  if (!execution || execution.status === 'RUNNING' || endedOnItsOwnPath(execution.status, execution.error))
    return undefined;
  // The rollback execution the recovery started ends with the rollback's own cause.
  const rollback = world.sfn.rollbackOf(execution.name);
  if (rollback) return rollback.cause;
  const { app, env, version } = JSON.parse(execution.input) as {
    app?: string;
    env?: string;
    version?: string;
  };
  return world.sns.messages.find(
    (m) => m.attributes.outcome === 'stopped' && m.subject === `Stopped: ${app}/${env} ${version}`,
  )?.message;
}

function statusOf(execution: SimExecution | undefined, world: World): Status {
  if (!execution) return 'IGNORED';
  if (execution.status === 'SUCCEEDED') return 'SUCCEEDED';
  if (execution.error === 'DeploymentRolledBack') return 'ROLLED_BACK';
  // Stopped, or failed where no Catch runs (States.DataLimitExceeded): rolled back by the
  // recovery, unless it had to leave something for a person.
  if (!endedOnItsOwnPath(execution.status, execution.error)) {
    const rollback = world.sfn.rollbackOf(execution.name);
    if (rollback) return rollback.error === 'DeploymentRolledBack' ? 'ROLLED_BACK' : 'FAILED';
    return recoveryOf(execution, world)?.includes('Left for a person:') ? 'FAILED' : 'ROLLED_BACK';
  }
  return 'FAILED';
}

export interface RunOptions {
  print?: (line: string) => void;
  verbose?: boolean;
  /** Wraps every task invocation (the fault matrix injects its faults here). */
  intercept?: TaskInterceptor;
  /** Virtual time each task takes (Lambda and Step Functions latency); 0 by default. */
  taskLatencyMs?: number;
  /** A person answers approval links (a browser via --serve): virtual time waits while they decide. */
  person?: { onLink: (approver: string, url: string) => void };
  /** The app/env deployed and its config, the account built from it (default: the built-in web/prod). */
  own?: SimApp;
}

/** Runs one scenario in a fresh simulated account on the virtual clock and reports the outcome. */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<Summary> {
  return (await simulate(scenario, options)).summary;
}

/** What a run needs of the simulated account: the world, the real handlers, the loaded ASL, the clock. */
export interface SimulatedAccount {
  world: World;
  handlers: Record<string, Handler>;
  loaded: LoadedDefinition;
  clock: InstalledClock;
}

/**
 * Runs `run` in a fresh simulated account on the virtual clock, with every SDK client the handlers
 * create routed to it; the real clock is back afterwards.
 */
export async function inSimulatedAccount<T>(
  verbose: boolean | undefined,
  run: (account: SimulatedAccount) => Promise<T>,
): Promise<T> {
  simulatedEnvironment(verbose);
  const handlers = await loadHandlers();
  const loaded = loadDefinition();
  const clock = installClock();
  try {
    const world = new World();
    routeClientsTo(world);
    recordMetricsPerWorld();
    return await inWorld(world, () => run({ world, handlers, loaded, clock }));
  } finally {
    clock.uninstall();
  }
}

/** Like runScenario, and hands back the world as it ended, for tests that look closer. */
export async function simulate(
  scenario: Scenario,
  options: RunOptions = {},
): Promise<{ summary: Summary; world: World }> {
  const wallStart = performance.now();
  return inSimulatedAccount(options.verbose, async (account) => {
    const { world } = account;
    const { ctx, monitor, harness, printer } = buildScenarioWorld(scenario, account, options);
    const approvalStates = wireApprovals(account, printer, harness, scenario, options.person);
    const before: Before = { weights: monitor.weights(), fleets: monitor.fleets() };
    const wasLiveAtStart = before.weights !== undefined && findLiveSlot(before.weights).kind === 'live';

    if (scenario.act) scenario.act(ctx);
    else uploadRelease(ctx);
    const person = options.person;
    await harness.run(account.clock, () => person !== undefined && world.sfn.openTokens(approvalStates) > 0);
    monitor.finish({
      wasLiveAtStart,
      mutating: (operation) => MUTATING_OPERATIONS.has(operation),
      startWeights: before.weights,
    });
    const lock = world.dynamodb.items(LOCKS_TABLE).find((item) => item.owner);
    if (lock)
      monitor.violations.push(
        `the lock of ${String(lock.id)} is still held by ${JSON.stringify(lock.owner)}`,
      );
    return { summary: summarize(scenario, account, monitor, before, wallStart), world };
  });
}

/** The weights and fleets before the scenario acted. */
interface Before {
  weights: Record<Slot, number> | undefined;
  fleets: FleetCount;
}

/**
 * The scenario's world: the seeded account, the config it prepared (in S3), the safety monitor
 * judging by that config and the harness that runs the state machine with the monitor watching.
 */
export function buildScenarioWorld(
  scenario: Scenario,
  { world, handlers, loaded }: SimulatedAccount,
  options: RunOptions,
) {
  const own = options.own ?? builtInApp(undefined, scenario.alb ?? false, scenario.asg ?? false);
  seedWorld(world, {
    own,
    firstDeploy: scenario.firstDeploy ?? false,
    ...(scenario.startWeights ? { weights: scenario.startWeights } : {}),
    ...(scenario.blueCount ? { blueCount: scenario.blueCount } : {}),
  });
  const printer = new Printer(world, loaded, options.print, options.verbose ?? false);
  let harness: Harness | undefined;
  const ctx: ScenarioContext = {
    world,
    app: own.app,
    env: own.env,
    config: structuredClone(own.config),
    upload: (key, body, options) => (harness as Harness).upload(key, body, options),
    deliver: (records, afterSeconds) => (harness as Harness).deliver(records, afterSeconds),
    stop: (name) => harness?.runner.stop(name) ?? false,
    after: (seconds, action) => (harness as Harness).after(seconds, action),
    track: (promise) => (harness as Harness).track(promise),
    inFlight: (work) => (harness as Harness).runner.whileInFlight(work),
  };
  scenario.prepare?.(ctx);
  world.s3.put(BUCKET, configKey(own.app, own.env), JSON.stringify(ctx.config, null, 2));
  // The monitor judges by the config under test, or by the one the world was built from when the
  // scenario broke it.
  const parsed = validateConfig(ctx.config);
  const fallback = validateConfig(own.config);
  const config = parsed.ok ? parsed.config : fallback.ok ? fallback.config : undefined;
  if (!config) throw new Error(`the config of ${own.app}/${own.env} is invalid`);
  const monitor = new SafetyMonitor(world, { app: own.app, env: own.env, config });
  harness = new Harness(world, handlers, loaded, printer, [monitor], {
    intercept: options.intercept,
    taskLatencyMs: options.taskLatencyMs,
    lateWaits: scenario.lateWaits,
  });
  return { ctx, monitor, harness, printer };
}

/**
 * Who answers the approval links: the scenario's simulated approvers, a person (`--serve`), or
 * nobody. Returns the approval states, whose open waits stand the virtual clock still for a person.
 */
function wireApprovals(
  { world, handlers, loaded }: SimulatedAccount,
  printer: Printer,
  harness: Harness,
  scenario: Scenario,
  person: RunOptions['person'],
): Set<string> {
  const approvalPage = () => handlers.approvalPage as unknown as HttpHandler;
  const approvalStates = new Set(
    Object.entries(loaded.tasks)
      .filter(([, fn]) => fn === 'requestApproval')
      .map(([state]) => state),
  );
  world.sns.subscribers.push((message) => {
    if (message.attributes.kind !== 'approval-request') return;
    printer.note(
      message.attributes.approver === 'terminal'
        ? 'approval asked of the IAM approvers (from a terminal)'
        : `approval link sent to ${message.attributes.approver}`,
    );
  });
  if (scenario.terminal) {
    simulateTerminalApprovers(
      world,
      () => handlers.terminalDecision as unknown as DecisionHandler,
      scenario.terminal.map((answer) => ({
        ...answer,
        onResult: (result) => {
          printer.note(`bluegreen ${answer.decision} -> ${result.kind}${terminalDetail(result)}`);
          answer.onResult?.(result);
        },
      })),
      (work) => harness.runner.whileInFlight(work),
    );
  }
  if (scenario.approvers) {
    simulateApprovers(world, approvalPage, scenario.approvers, ({ request, status }) => {
      const who = request.headers?.['user-agent'] ?? '';
      printer.note(`${request.method} ${new URL(request.url).pathname} -> ${status} (${who})`);
    });
  }
  if (person) {
    world.sns.subscribers.push((message) => {
      if (message.attributes.kind !== 'approval-request') return;
      for (const url of approvalLinks(message.message)) person.onLink(message.attributes.approver ?? '', url);
    });
  }
  return approvalStates;
}

/** What `bluegreen approve|reject` would print after its result's kind. */
function terminalDetail(result: TerminalDecision): string {
  switch (result.kind) {
    case 'decided':
    case 'decided-already':
      return `: ${result.decision} by ${quoted(result.approver)} at ${result.at}`;
    case 'not-an-approver':
      return `: ${quoted(result.principal)}`;
    case 'bad-request':
      return `: ${result.problems.join('; ')}`;
    case 'refused':
      return `: HTTP ${result.status} ${quoted(result.message)}`;
    case 'waiting':
      return `: ${result.deployment.version} ${result.deployment.stage}`;
    case 'not-this-approval':
      return `: ${result.deployment.version} ${result.deployment.stage} waits, not ${quoted(JSON.stringify(result.asked))}`;
    default:
      return `: ${result.reason}`;
  }
}

/** What went otherwise than the scenario expects: status, executions, live version, changes, violations. */
function problemsOf(
  scenario: Scenario,
  world: World,
  monitor: SafetyMonitor,
  before: Before,
  found: { status: Status; executions: SimExecution[]; liveVersion: string | undefined; running: FleetCount },
): string[] {
  const { status, executions, liveVersion, running } = found;
  const last = executions.at(-1);
  const problems: string[] = [];
  if (status !== scenario.expect) problems.push(`status ${status}, expected ${scenario.expect}`);
  const expectedExecutions = scenario.executions ?? (scenario.expect === 'IGNORED' ? 0 : 1);
  if (executions.length !== expectedExecutions) {
    problems.push(`${executions.length} executions started, expected ${expectedExecutions}`);
  }
  if (scenario.expectLive && liveVersion !== scenario.expectLive) {
    problems.push(`${liveVersion ?? 'nothing'} is live, expected ${scenario.expectLive}`);
  }
  if (scenario.changesNothing) {
    const mutations = world.calls.filter((c) => MUTATING_OPERATIONS.has(c.operation));
    if (mutations.length > 0) {
      problems.push(`changed something: ${mutations.map((c) => `${c.service}:${c.operation}`).join(', ')}`);
    }
    const after = monitor.weights();
    if (JSON.stringify(after) !== JSON.stringify(before.weights)) problems.push('the weights changed');
    if (JSON.stringify(running) !== JSON.stringify(before.fleets)) problems.push('the blue fleet changed');
  }
  if (scenario.breaksInvariants) {
    // A rollback or cleanup that cannot finish leaves things behind (invariant 3), and the report
    // must say what. It may never break the others: traffic to an unfit slot, blue retired early,
    // two deploys at once.
    if (monitor.violations.length === 0)
      problems.push('expected the failed rollback to leave something behind');
    problems.push(...monitor.violations.filter((v) => !/invariant 3:/.test(v)).map((v) => `violation: ${v}`));
    // When the notifier itself failed, the cause is the raw error: nothing could list the rest.
    const ended = (last && world.sfn.rollbackOf(last.name)) ?? last;
    const notifierDown = /notification not sent/.test(ended?.states.at(-1)?.name ?? '');
    if (!notifierDown && !(last?.cause ?? recoveryOf(last, world) ?? '').includes('Left for a person:')) {
      problems.push('the cause does not say what is left for a person');
    }
  } else {
    problems.push(...monitor.violations.map((v) => `violation: ${v}`));
  }
  return problems;
}

/** The run's summary: the outcome against the scenario's expectations, and what it cost. */
function summarize(
  scenario: Scenario,
  { world, loaded }: SimulatedAccount,
  monitor: SafetyMonitor,
  before: Before,
  wallStart: number,
): Summary {
  const executions = [...world.sfn.executions.values()].sort((x, y) => x.startedAt - y.startedAt);
  const last = executions.at(-1);
  const status = statusOf(last, world);
  const weights = monitor.weights() ?? { a: 0, b: 0 };
  const live = findLiveSlot(weights);
  const running = monitor.fleets();
  const liveVersion = monitor.liveVersion(live.kind === 'live' ? live.slot : undefined);
  const problems = problemsOf(scenario, world, monitor, before, { status, executions, liveVersion, running });
  return {
    scenario: scenario.name,
    status,
    expected: scenario.expect,
    ok: problems.length === 0,
    liveSlot: live.kind === 'live' ? live.slot : null,
    liveVersion: liveVersion ?? null,
    weights: { a: weights.a, b: weights.b },
    running,
    executions: executions.length,
    // With the rollback executions the recovery started: their transitions and retries count too.
    transitions: world.sfn.all().reduce((sum, e) => sum + e.transitions, 0),
    retries: world.sfn.all().reduce((sum, e) => sum + e.retries, 0),
    historyEvents: Math.max(0, ...executions.map((e) => historyEvents(e, loaded))),
    maxStatePayloadBytes: Math.max(0, ...executions.map((e) => e.largestPayload?.bytes ?? 0)),
    largestPayload:
      executions
        .map((e) => e.largestPayload)
        .reduce<Summary['largestPayload']>(
          (largest, p) => (p && p.bytes > (largest?.bytes ?? -1) ? p : largest),
          null,
        ) ?? null,
    virtualSeconds: Math.round((world.now() - world.startedAt) / 1000),
    virtualMs: world.now() - world.startedAt,
    violations: monitor.violations,
    // A stopped execution has no cause of its own: the recovery's notification says what happened.
    cause: last?.cause ?? recoveryOf(last, world)?.split('\n')[0] ?? null,
    notifications: world.sns.messages.map((m) => ({
      subject: m.subject,
      summary: m.message.split('\n')[0] ?? '',
    })),
    approvals: world.dynamodb
      .items(APPROVALS_TABLE)
      .flatMap((item) =>
        // Only answers the deployment received (a DECIDING record's answer is not confirmed yet).
        item.decision && (item.state === 'APPROVED' || item.state === 'REJECTED')
          ? [item.decision as { stage: string; decision: string; approver: string }]
          : [],
      )
      .map(({ stage, decision, approver }) => ({ stage, decision, approver })),
    events: world.events.putByService.map((event) => event['detail-type']),
    metrics: world.metrics.flatMap(parseMetrics),
    apiCalls: world.callCounts(),
    wallMs: Math.round(performance.now() - wallStart),
    problems,
  };
}
