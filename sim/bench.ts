import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { formatDuration } from '#shared/domain/report.ts';
import { REDRIVE_PAUSE_SECONDS } from '#shared/tasks/redrive-waits.ts';
import { measureColdStarts } from './coldstart.ts';
import { readYaml, SERVERLESS_PATH } from './definition.ts';
import { HISTORY_LIMIT } from './history.ts';
import { runMain } from './main.ts';
import { PAYLOAD_LIMIT_BYTES, type TaskInterceptor } from './runner.ts';
import { limitAccount, type ScaleResult, simulateApps, throttledBy, throttledCalls } from './scale.ts';
import { findScenario, type Scenario } from './scenarios.ts';
import { simulate, simulatedEnvironment } from './simulate.ts';
import type { World } from './world.ts';

/**
 * Published us-east-1 prices, read 2026-11 (free tiers left out):
 * - Step Functions Standard: $0.025 per 1,000 state transitions, https://aws.amazon.com/step-functions/pricing/
 * - Lambda (arm64): $0.20 per 1M requests and $0.0000133334 per GB-second, https://aws.amazon.com/lambda/pricing/
 */
const PRICE = {
  transition: 0.025 / 1000,
  lambdaRequest: 0.2 / 1_000_000,
  lambdaGbSecond: 0.0000133334,
};
/** The functions' memory (serverless.yml provider.memorySize) and an assumed mean duration per call. */
const LAMBDA_GB = 256 / 1024;
/** Each task's latency in the simulation, and the Lambda duration billed for it: warm, in-region calls. */
const TASK_MS = 100;

/** The standard deploy of the bench: what a typical release of a mid-size fleet meets. */
const STANDARD = {
  buildMinutes: 20,
  bootSeconds: 90,
  healthChecks: 3,
  healthIntervalSeconds: 10,
  instances: 4,
  steps: [10, 50, 100],
  stepWaitSeconds: 300,
  ttlSeconds: 60,
  windowSeconds: 3600,
  /** Route 53's change propagation (PENDING to INSYNC) in the simulated account. */
  insyncSeconds: 40,
};

type Variation = (ctx: Parameters<NonNullable<Scenario['prepare']>>[0]) => void;

function standardScenario(
  name: string,
  extra?: Variation,
  {
    alb = false,
    asg = false,
    instances = STANDARD.instances,
  }: { alb?: boolean; asg?: boolean; instances?: number } = {},
): Scenario {
  return {
    name,
    summary: 'the standard deploy of the bench',
    expect: 'SUCCEEDED',
    blueCount: instances,
    ...(alb ? { alb: true } : {}),
    ...(asg ? { asg: true } : {}),
    prepare: (ctx) => {
      const { world, config } = ctx;
      world.imagebuilder.buildMinutes = STANDARD.buildMinutes;
      world.ec2.bootSeconds = STANDARD.bootSeconds;
      world.elbv2.appStartSeconds = 0;
      for (const group of world.elbv2.targetGroups.values()) {
        group.healthyThreshold = STANDARD.healthChecks;
        group.intervalSeconds = STANDARD.healthIntervalSeconds;
      }
      world.route53.propagationSeconds = STANDARD.insyncSeconds;
      config.traffic = {
        ...config.traffic,
        steps: STANDARD.steps,
        stepWaitSeconds: STANDARD.stepWaitSeconds,
      };
      if (config.dns) config.dns.ttlSeconds = STANDARD.ttlSeconds;
      config.termination = { waitSeconds: STANDARD.windowSeconds };
      extra?.(ctx);
    },
  };
}

/**
 * The time AWS and the configured waits take on the critical path, with no overhead of ours: the
 * build, boot and health checks, every step's propagation and wait, and the window, which starts
 * once the last change is in sync and resolvers have had one TTL (the last step's wait runs inside it).
 */
function inherentSeconds(buildMinutes = STANDARD.buildMinutes): number {
  const s = STANDARD;
  const health = s.bootSeconds + s.healthChecks * s.healthIntervalSeconds;
  const settle = Math.max(s.stepWaitSeconds, s.ttlSeconds);
  const steps = (s.steps.length - 1) * (s.insyncSeconds + settle) + s.insyncSeconds + s.ttlSeconds;
  return buildMinutes * 60 + health + steps + s.windowSeconds;
}

/**
 * The same for traffic.mode alb: each weight write is in effect when it returns, so the steps take
 * only their own waits, and the window starts at the last write (the bench's listener has no
 * target group stickiness; the last step's wait runs inside the window).
 */
function inherentAlbSeconds(): number {
  const s = STANDARD;
  const health = s.bootSeconds + s.healthChecks * s.healthIntervalSeconds;
  return s.buildMinutes * 60 + health + (s.steps.length - 1) * s.stepWaitSeconds + s.windowSeconds;
}

/** The bench's listener forwards without target group stickiness, as most do. */
const NOT_STICKY: Variation = ({ world }) => {
  for (const listener of world.elbv2.listeners.values()) {
    for (const action of listener.actions) {
      if (action.ForwardConfig) delete action.ForwardConfig.TargetGroupStickinessConfig;
    }
  }
};

function counter(): { intercept: TaskInterceptor; count: () => number } {
  let calls = 0;
  return {
    intercept: (_call, invoke) => {
      calls += 1;
      return invoke();
    },
    count: () => calls,
  };
}

/** Lambda invocations: the tasks, the starter, every function an event reached, and the schedule's. */
function invocations(world: World, tasks: number): number {
  return tasks + world.events.delivered.length + world.events.scheduled.length + 1;
}

/**
 * Seconds of Lambda billed beyond TASK_MS: the schedule's re-drive looks twice a minute, pausing
 * REDRIVE_PAUSE_SECONDS in between while anything is parked (shared/tasks/redrive-waits.ts).
 */
function scheduledSeconds(world: World): number {
  return world.events.scheduled.length * REDRIVE_PAUSE_SECONDS;
}

/** The re-drive's memory in GB, as serverless.yml gives it (it mostly waits: billed by memory). */
const REDRIVE_GB =
  Number(
    (readYaml(SERVERLESS_PATH) as { functions?: { redriveWaits?: { memorySize?: number } } }).functions
      ?.redriveWaits?.memorySize ?? 256,
  ) / 1024;

/**
 * The waits without AWS's events: EventBridge delivers service events best effort, so each wait
 * has a bounded fallback poll; these variations show what the events save.
 */
const EVENTS_LOST: Variation = ({ world }) => {
  world.events.lostSources.add('aws.imagebuilder');
  world.events.lostSources.add('aws.cloudwatch');
};

/** The re-drive switched off: the waits' own fallback polls alone, as before it (what it saves). */
const NO_REDRIVE: Variation = ({ world }) => {
  world.events.schedulesOff.add('redriveWaits');
};

/**
 * A build that does not end on a poll: the standard 20 minutes end exactly on the second
 * 10-minute fallback poll, which would hide what the end-of-build event saves.
 */
const OFF_POLL_BUILD_MINUTES = 25;

function offPollBuild(
  eventsLost: boolean,
  pollSeconds?: number,
  redrive = true,
): { buildMinutes: number; variation: Variation } {
  return {
    buildMinutes: OFF_POLL_BUILD_MINUTES,
    variation: (ctx) => {
      ctx.world.imagebuilder.buildMinutes = OFF_POLL_BUILD_MINUTES;
      if (eventsLost) EVENTS_LOST(ctx);
      if (!redrive) NO_REDRIVE(ctx);
      if (pollSeconds) ctx.config.bake.pollSeconds = pollSeconds;
    },
  };
}

async function standardDeploy(
  name = 'bench-standard',
  options: { buildMinutes?: number; variation?: Variation; alb?: boolean } = {},
) {
  const tasks = counter();
  const variation = options.alb
    ? (ctx: Parameters<Variation>[0]) => {
        NOT_STICKY(ctx);
        options.variation?.(ctx);
      }
    : options.variation;
  const { summary, world } = await simulate(
    standardScenario(name, variation, { alb: options.alb ?? false }),
    {
      intercept: tasks.intercept,
      taskLatencyMs: TASK_MS,
    },
  );
  const total = summary.virtualMs / 1000;
  const inherent = options.alb ? inherentAlbSeconds() : inherentSeconds(options.buildMinutes);
  const lambdaCalls = invocations(world, tasks.count());
  const cost =
    summary.transitions * PRICE.transition +
    lambdaCalls * (PRICE.lambdaRequest + LAMBDA_GB * (TASK_MS / 1000) * PRICE.lambdaGbSecond) +
    REDRIVE_GB * scheduledSeconds(world) * PRICE.lambdaGbSecond;
  return {
    status: summary.status,
    inherentSeconds: inherent,
    totalSeconds: Math.round(total * 10) / 10,
    overheadSeconds: Math.round((total - inherent) * 10) / 10,
    overheadPercent: Math.round(((total - inherent) / inherent) * 10000) / 100,
    transitions: summary.transitions,
    lambdaInvocations: lambdaCalls,
    apiCalls: world.callCounts(),
    costUsd: Math.round(cost * 100000) / 100000,
    violations: summary.violations,
  };
}

/** Route 53's documented rate: 5 requests a second per account (DESIGN.md, sim/aws/throttling.ts). */
const ROUTE53_RATE = 5;
/** The fleet size the config allows at most: an ALB's default limit of targets per target group. */
const FLEET_MAX = 1000;
/** App/envs deploying at once in one account in the bench's concurrency run. */
const CONCURRENT_APPS = 100;

/**
 * The standard deploy at the largest fleet the config allows (`instanceCount` 1,000, blue as
 * large), in an account with AWS's rate limits: 1,000 instances take EC2's whole RunInstances
 * resource bucket in one launch. With `groups`, both fleets are Auto Scaling groups (blue's seeded,
 * green's made by the deploy), which launch through the same buckets. The safety monitor judges it
 * as every scenario.
 */
async function largestFleet(groups = false) {
  const scenario = standardScenario(
    groups ? 'bench-fleet1000-groups' : 'bench-fleet1000',
    ({ world, config }) => {
      config.instanceCount = FLEET_MAX;
      limitAccount(world, ROUTE53_RATE);
    },
    { instances: FLEET_MAX, asg: groups },
  );
  const { summary, world } = await simulate(scenario, { taskLatencyMs: TASK_MS });
  return {
    status: summary.status === 'SUCCEEDED' && summary.violations.length === 0 ? 'SUCCEEDED' : 'FAILED',
    launched: [...world.ec2.instances.values()].filter((i) => i.launchTemplate !== 'seed').length,
    virtualSeconds: Math.round(summary.virtualMs / 100) / 10,
    transitions: summary.transitions,
    apiCalls: world.calls.length,
    throttled: throttledCalls(world),
    throttledBy: throttledBy(world),
    violations: summary.violations,
  };
}

/** Alarm into ALARM during the 50 % step; how long until all traffic is back on blue. */
async function rollbackLatency(variation?: Variation) {
  let alarmAt = 0;
  const scenario = standardScenario('bench-rollback', (ctx) => {
    const { world } = ctx;
    variation?.(ctx);
    world.hooks.push({
      afterRecordsChange: () => {
        const b = world.route53.weights('Z0123456789ABCDEFGHIJ', 'web.example.com', 'A').b;
        if (b === 50 && !alarmAt) {
          alarmAt = world.now() + 90_000;
          world.cloudwatch.setState(
            'web-prod-5xx',
            'ALARM',
            'Threshold Crossed: 5xx rate 4.2 % > 1 %',
            alarmAt,
          );
        }
      },
    });
  });
  const { summary, world } = await simulate(
    { ...scenario, expect: 'ROLLED_BACK' },
    { taskLatencyMs: TASK_MS },
  );
  const back = world.route53.weightLog.find(
    (e) => e.at >= alarmAt && e.setIdentifier === 'b' && e.weight === 0,
  );
  const toWrite = back ? (back.at - alarmAt) / 1000 : Number.NaN;
  return {
    status: summary.status,
    detectAndWriteSeconds: Math.round(toWrite * 10) / 10,
    insyncSeconds: world.route53.propagationSeconds,
    rollbackSeconds: Math.round((toWrite + world.route53.propagationSeconds) * 10) / 10,
  };
}

async function worstCase() {
  const scenario = findScenario('longest-allowed');
  if (!scenario) throw new Error('no longest-allowed scenario');
  const { summary } = await simulate(scenario);
  return { status: summary.status, events: summary.historyEvents, transitions: summary.transitions };
}

/**
 * The largest state (input or output of any state) of any execution of the largest config the
 * schema allows at 1,000 instances, a split healed first (the longest path): Step Functions fails
 * an execution past every Catch above 256 KiB, so it must not grow with the fleet or the config.
 */
async function largestState() {
  const scenario = findScenario('largest-config');
  if (!scenario) throw new Error('no largest-config scenario');
  const { summary } = await simulate(scenario);
  return { status: summary.status, bytes: summary.maxStatePayloadBytes, where: summary.largestPayload };
}

/** Target for the largest state: an eighth of Step Functions' 262,144-byte payload quota. */
const STATE_TARGET_BYTES = 32_768;

/** A largest-fleet run as `--json` reports it. */
function fleetReport(run: Awaited<ReturnType<typeof largestFleet>>) {
  return {
    status: run.status,
    instances: run.launched,
    virtualSeconds: run.virtualSeconds,
    transitions: run.transitions,
    apiCalls: run.apiCalls,
    throttled: run.throttled,
    throttledBy: run.throttledBy,
    violations: run.violations,
  };
}

/** A many-apps run as `--json` reports it. */
function appsReport(run: ScaleResult) {
  return {
    status: run.status,
    apps: run.apps,
    succeeded: run.succeeded,
    virtualSeconds: run.virtualSeconds,
    transitions: run.transitions,
    apiCalls: run.apiCalls,
    throttled: run.throttled,
    throttledBy: run.throttledBy,
    violations: run.violations,
    failures: run.failures,
  };
}

function table(rows: [string, string, string][]): string {
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      runs: { type: 'string', default: '10' },
      'skip-cold-start': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs needs a whole number, got ${values.runs}`);
  const say = values.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  simulatedEnvironment();
  const started = performance.now();
  const cpus = availableParallelism();
  const load = loadavg()[0] ?? 0;
  const busy = !values['skip-cold-start'] && load > cpus / 2 ? load : undefined;

  say('standard deploy...');
  const standard = await standardDeploy();
  say('standard deploy with the AWS events lost (fallback polls only)...');
  const bakeWaits = {
    event: await standardDeploy('bench-build-event', offPollBuild(false)),
    eventLost: await standardDeploy('bench-build-event-lost', offPollBuild(true)),
    polledEvery10Minutes: await standardDeploy(
      'bench-build-polled-10m',
      offPollBuild(true, undefined, false),
    ),
    polledEveryMinute: await standardDeploy('bench-build-polled-1m', offPollBuild(true, 60, false)),
  };
  say('the standard deploy in traffic.mode alb...');
  const albShift = await standardDeploy('bench-alb-shift', { alb: true });
  say('rollback latency...');
  const rollback = await rollbackLatency();
  const rollbackEventLost = await rollbackLatency(EVENTS_LOST);
  say('worst-case history...');
  const worst = await worstCase();
  say('largest state: the largest config at 1,000 instances...');
  const state = await largestState();
  say('scale: a 500-instance fleet...');
  const fleet500 = await simulateApps({
    apps: 1,
    blueCount: 500,
    route53RatePerSecond: ROUTE53_RATE,
    taskLatencyMs: TASK_MS,
  });
  say('scale: 20 apps at once under Route 53 5 req/s...');
  const concurrent20 = await simulateApps({
    apps: 20,
    route53RatePerSecond: ROUTE53_RATE,
    taskLatencyMs: TASK_MS,
  });
  say('scale: the standard deploy of 1,000 instances under AWS rate limits...');
  const fleet1000 = await largestFleet();
  say(`scale: ${CONCURRENT_APPS} apps at once under Route 53 5 req/s and EC2's token buckets...`);
  const concurrent100 = await simulateApps({
    apps: CONCURRENT_APPS,
    route53RatePerSecond: ROUTE53_RATE,
    taskLatencyMs: TASK_MS,
  });
  say('scale: the standard deploy of 1,000 instances in Auto Scaling groups under AWS rate limits...');
  const fleet1000Groups = await largestFleet(true);
  say(`scale: ${CONCURRENT_APPS} apps at once in Auto Scaling groups, under the same limits...`);
  const concurrent100Groups = await simulateApps({
    apps: CONCURRENT_APPS,
    groups: true,
    route53RatePerSecond: ROUTE53_RATE,
    taskLatencyMs: TASK_MS,
  });
  const coldStart = values['skip-cold-start'] ? {} : await measureColdStarts(runs, say);
  const wallSeconds = Math.round((performance.now() - started) / 100) / 10;

  const coldRatios = Object.entries(coldStart).map(([key, c]) => [key, c.initMs / c.sdkInitMs] as const);
  const targets = {
    overheadUnder1Percent: standard.overheadPercent <= 1,
    transitionsUnder150: standard.transitions <= 150,
    rollbackWithin60sPlusInsync: rollback.detectAndWriteSeconds <= 60,
    rollbackEventLostWithin60s: rollbackEventLost.detectAndWriteSeconds <= 60,
    bakeEventLostUnder1Percent:
      bakeWaits.eventLost.overheadPercent <= 1 && bakeWaits.eventLost.transitions <= 150,
    coldStartWithin10Percent: coldRatios
      .filter(([, r]) => r > 1.1)
      .map(([key, r]) => `${key} ${r.toFixed(2)}x`),
    scaleRunsSucceed: [
      fleet500,
      concurrent20,
      fleet1000,
      concurrent100,
      fleet1000Groups,
      concurrent100Groups,
    ].every((r) => r.status === 'SUCCEEDED'),
    albShiftSucceeds: albShift.status === 'SUCCEEDED' && albShift.violations.length === 0,
    historyUnder5000: worst.events < 5000,
    stateUnder32KiB: state.status === 'SUCCEEDED' && state.bytes <= STATE_TARGET_BYTES,
  };

  const rows: [string, string, string][] = [
    ['measure', 'value', 'target'],
    ['standard deploy, inherent', formatDuration(standard.inherentSeconds), ''],
    ['standard deploy, total (virtual)', `${formatDuration(standard.totalSeconds)} (${standard.status})`, ''],
    ['overhead', `${standard.overheadSeconds} s = ${standard.overheadPercent} %`, '<= 1 %'],
    ['state transitions', String(standard.transitions), '<= 150'],
    ['Lambda invocations', String(standard.lambdaInvocations), ''],
    ['AWS API calls', String(Object.values(standard.apiCalls).reduce((a, b) => a + b, 0)), ''],
    ['cost per deploy (Step Functions + Lambda)', `$${standard.costUsd}`, ''],
    [
      'alb mode: standard deploy, total (virtual)',
      `${formatDuration(albShift.totalSeconds)} (${albShift.status}), ${formatDuration(standard.totalSeconds - albShift.totalSeconds)} less than Route 53's`,
      '',
    ],
    [
      'alb mode: overhead, state transitions',
      `${albShift.overheadSeconds} s = ${albShift.overheadPercent} %, ${albShift.transitions} transitions (Route 53: ${standard.transitions})`,
      '',
    ],
    ...(
      [
        ['end-of-build event', bakeWaits.event],
        ['event lost, re-driven twice a minute', bakeWaits.eventLost],
        ['event lost, no re-drive, fallback poll every 10 min', bakeWaits.polledEvery10Minutes],
        ['event lost, no re-drive, poll every minute', bakeWaits.polledEveryMinute],
      ] as const
    ).map(([how, run]): [string, string, string] => [
      `${OFF_POLL_BUILD_MINUTES}-min build: ${how}`,
      `overhead ${run.overheadSeconds} s = ${run.overheadPercent} %, ${run.transitions} transitions`,
      '',
    ]),
    ['rollback: alarm to write', `${rollback.detectAndWriteSeconds} s`, '<= 60 s'],
    [
      'rollback: alarm to write, alarm event lost',
      `${rollbackEventLost.detectAndWriteSeconds} s (the re-drive, twice a minute)`,
      '<= 60 s',
    ],
    ['rollback: + INSYNC', `${rollback.rollbackSeconds} s (${rollback.insyncSeconds} s INSYNC)`, ''],
    [
      'worst-case history events',
      String(worst.events),
      `< 5,000 (limit ${HISTORY_LIMIT.toLocaleString('en-US')})`,
    ],
    [
      'largest state (largest config, 1,000 instances)',
      `${state.bytes.toLocaleString('en-US')} bytes (${state.where?.what ?? '?'} of "${state.where?.state ?? '?'}", ${state.status})`,
      `<= ${STATE_TARGET_BYTES.toLocaleString('en-US')} (limit ${PAYLOAD_LIMIT_BYTES.toLocaleString('en-US')})`,
    ],
    [
      'scale: 500 instances',
      `${fleet500.status} in ${formatDuration(fleet500.virtualSeconds)}, ${fleet500.apiCalls} API calls`,
      'SUCCEEDED',
    ],
    [
      'scale: 20 apps at once',
      `${concurrent20.status} (${concurrent20.succeeded}/20) in ${formatDuration(concurrent20.virtualSeconds)}, ${concurrent20.apiCalls} API calls, ${concurrent20.throttled} throttled and retried`,
      'all SUCCEEDED',
    ],
    [
      'scale: the standard deploy, 1,000 instances',
      `${fleet1000.status} (${fleet1000.launched} launched) in ${formatDuration(fleet1000.virtualSeconds)}, ${fleet1000.transitions} transitions, ${fleet1000.apiCalls} API calls, ${fleet1000.throttled} throttled and retried`,
      'SUCCEEDED',
    ],
    [
      `scale: ${CONCURRENT_APPS} apps at once`,
      `${concurrent100.status} (${concurrent100.succeeded}/${CONCURRENT_APPS}) in ${formatDuration(concurrent100.virtualSeconds)}, ${concurrent100.transitions} transitions, ${concurrent100.apiCalls} API calls, ${concurrent100.throttled} throttled and retried`,
      'all SUCCEEDED',
    ],
    [
      'scale: the standard deploy, 1,000 instances in groups',
      `${fleet1000Groups.status} (${fleet1000Groups.launched} launched) in ${formatDuration(fleet1000Groups.virtualSeconds)}, ${fleet1000Groups.transitions} transitions, ${fleet1000Groups.apiCalls} API calls, ${fleet1000Groups.throttled} throttled and retried`,
      'SUCCEEDED',
    ],
    [
      `scale: ${CONCURRENT_APPS} apps at once in groups`,
      `${concurrent100Groups.status} (${concurrent100Groups.succeeded}/${CONCURRENT_APPS}) in ${formatDuration(concurrent100Groups.virtualSeconds)}, ${concurrent100Groups.transitions} transitions, ${concurrent100Groups.apiCalls} API calls, ${concurrent100Groups.throttled} throttled and retried`,
      'all SUCCEEDED',
    ],
  ];
  for (const [key, c] of Object.entries(coldStart)) {
    rows.push([
      `cold start ${key}`,
      `${c.initMs} ms (SDK ${c.sdkInitMs} ms, x${(c.initMs / c.sdkInitMs).toFixed(2)}), ${Math.round(c.bundleBytes / 1024)} KiB`,
      '<= x1.10',
    ]);
  }
  const missed = [
    ...Object.entries(targets)
      .filter(([, met]) => met === false)
      .map(([name]) => name),
    ...targets.coldStartWithin10Percent.map((over) => `cold start ${over}`),
  ];
  say('');
  say(table(rows));
  say(`\nAPI calls of the standard deploy: ${JSON.stringify(standard.apiCalls)}`);
  say(`throttled calls of ${CONCURRENT_APPS} apps at once: ${JSON.stringify(concurrent100.throttledBy)}`);
  say(
    `throttled calls of ${CONCURRENT_APPS} apps at once in groups: ${JSON.stringify(concurrent100Groups.throttledBy)}`,
  );
  say(`bench took ${wallSeconds} s of wall time`);
  if (busy) {
    say(
      `note: the load average was ${busy.toFixed(2)} on ${cpus} cores when the bench started; cold-start ratios are noisy on a busy machine`,
    );
  }
  if (missed.length > 0) say(`targets missed: ${missed.join(', ')}`);
  if (values.json) {
    console.log(
      JSON.stringify({
        overheadPercent: standard.overheadPercent,
        overheadSeconds: standard.overheadSeconds,
        inherentSeconds: standard.inherentSeconds,
        totalSeconds: standard.totalSeconds,
        transitions: standard.transitions,
        lambdaInvocations: standard.lambdaInvocations,
        apiCalls: standard.apiCalls,
        costUsd: standard.costUsd,
        bakeWait: Object.fromEntries(
          Object.entries(bakeWaits).map(([how, run]) => [
            how,
            {
              overheadSeconds: run.overheadSeconds,
              overheadPercent: run.overheadPercent,
              transitions: run.transitions,
              status: run.status,
            },
          ]),
        ),
        albShift: {
          status: albShift.status,
          totalSeconds: albShift.totalSeconds,
          inherentSeconds: albShift.inherentSeconds,
          overheadSeconds: albShift.overheadSeconds,
          transitions: albShift.transitions,
          lambdaInvocations: albShift.lambdaInvocations,
          apiCalls: albShift.apiCalls,
          route53: { totalSeconds: standard.totalSeconds, transitions: standard.transitions },
          violations: albShift.violations,
        },
        rollbackDetectSecondsAlarmEventLost: rollbackEventLost.detectAndWriteSeconds,
        rollbackSeconds: rollback.rollbackSeconds,
        rollbackDetectSeconds: rollback.detectAndWriteSeconds,
        insyncSeconds: rollback.insyncSeconds,
        worstCaseEvents: worst.events,
        maxStatePayloadBytes: state.bytes,
        coldStart,
        scale: {
          fleet500: {
            status: fleet500.status,
            virtualSeconds: fleet500.virtualSeconds,
            apiCalls: fleet500.apiCalls,
          },
          concurrent20: {
            status: concurrent20.status,
            virtualSeconds: concurrent20.virtualSeconds,
            apiCalls: concurrent20.apiCalls,
            throttled: concurrent20.throttled,
          },
          fleet1000: fleetReport(fleet1000),
          concurrent100: appsReport(concurrent100),
          fleet1000Groups: fleetReport(fleet1000Groups),
          concurrent100Groups: appsReport(concurrent100Groups),
        },
        targets,
        wallSeconds,
      }),
    );
  }
  return missed.length > 0 ? 1 : 0;
}

runMain(main);
