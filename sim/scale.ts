import { configKey } from '#shared/domain/artifact-key.ts';
import { validateConfig } from '#shared/domain/config.ts';
import { Ec2RateLimits } from './aws/throttling.ts';
import { Harness } from './harness.ts';
import { SafetyMonitor } from './monitor.ts';
import { Printer } from './printer.ts';
import { inSimulatedAccount, MUTATING_OPERATIONS } from './simulate.ts';
import { LOCKS_TABLE, type World } from './world.ts';
import { BUCKET, builtInApp, ENV, releaseKey, seedAccount, seedApp } from './worlds.ts';

function isThrottled(call: World['calls'][number]): boolean {
  return call.error !== undefined && /Throttl|RequestLimitExceeded/.test(call.error);
}

/** The calls the account's rate limits refused (and the tasks retried). */
export function throttledCalls(world: World): number {
  return world.calls.filter(isThrottled).length;
}

/** The throttled calls by `service:Operation`. */
export function throttledBy(world: World): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of world.calls.filter(isThrottled)) {
    const key = `${call.service}:${call.operation}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * Turns on the rate limits of one AWS account: Route 53's `route53RatePerSecond` requests a second
 * account-wide, and EC2's token buckets per action (sim/aws/throttling.ts).
 */
export function limitAccount(world: World, route53RatePerSecond: number | undefined): void {
  if (route53RatePerSecond !== undefined) world.route53RatePerSecond = route53RatePerSecond;
  world.ec2.rateLimits = new Ec2RateLimits(() => world.now());
}

export interface ScaleResult {
  apps: number;
  status: 'SUCCEEDED' | 'FAILED';
  succeeded: number;
  virtualSeconds: number;
  /** State transitions of every execution, the rollbacks' included. */
  transitions: number;
  apiCalls: number;
  throttled: number;
  throttledBy: Record<string, number>;
  violations: string[];
  /** Why each execution that did not succeed ended as it did. */
  failures: string[];
}

/**
 * Many apps deploying at once in one account: every app gets its own slots, records (one hosted
 * zone, as an account usually has) and config; all releases are uploaded in the same second; Route
 * 53 answers at most `route53RatePerSecond` requests a second account-wide, and EC2 throttles each
 * action by its token buckets, as AWS does (sim/aws/throttling.ts). With `groups`, every app's
 * fleets are Auto Scaling groups (fleet.kind autoScalingGroup; blue's seeded as an earlier deploy
 * made it), all in the one account.
 */
export async function simulateApps(options: {
  apps: number;
  blueCount?: number;
  groups?: boolean;
  route53RatePerSecond?: number;
  taskLatencyMs?: number;
}): Promise<ScaleResult> {
  return inSimulatedAccount(false, async ({ world, handlers, loaded, clock }) => {
    seedAccount(world);
    limitAccount(world, options.route53RatePerSecond);
    const names = Array.from({ length: options.apps }, (_, i) =>
      options.apps === 1 ? 'web' : `web${i + 1}`,
    );
    const monitors: SafetyMonitor[] = [];
    for (const app of names) {
      const own = builtInApp(app, false, options.groups ?? false);
      seedApp(world, {
        own,
        firstDeploy: false,
        ...(options.blueCount ? { blueCount: options.blueCount } : {}),
      });
      const { config } = own;
      world.s3.put(BUCKET, configKey(app, ENV), JSON.stringify(config));
      const parsed = validateConfig(config);
      if (!parsed.ok) throw new Error(parsed.problems.join('; '));
      monitors.push(new SafetyMonitor(world, { app, env: ENV, config: parsed.config }));
    }
    const printer = new Printer(world, loaded, undefined, false);
    const harness = new Harness(world, handlers, loaded, printer, monitors, {
      taskLatencyMs: options.taskLatencyMs,
    });
    for (const app of names) harness.deliver([harness.upload(releaseKey('1.1.0', 'zip', app), `PK ${app}`)]);
    await harness.run(clock);
    const violations: string[] = [];
    for (const [i, monitor] of monitors.entries()) {
      monitor.finish({ wasLiveAtStart: true, mutating: (operation) => MUTATING_OPERATIONS.has(operation) });
      violations.push(...monitor.violations.map((v) => `${names[i]}: ${v}`));
    }
    // As every scenario: no lock may be left held once everything has ended.
    for (const lock of world.dynamodb.items(LOCKS_TABLE).filter((item) => item.owner))
      violations.push(`the lock of ${String(lock.id)} is still held by ${JSON.stringify(lock.owner)}`);
    const executions = [...world.sfn.executions.values()];
    const succeeded = executions.filter((e) => e.status === 'SUCCEEDED').length;
    return {
      apps: options.apps,
      status:
        succeeded === options.apps && executions.length === options.apps && violations.length === 0
          ? 'SUCCEEDED'
          : 'FAILED',
      succeeded,
      virtualSeconds: Math.round((world.now() - world.startedAt) / 1000),
      transitions: world.sfn.all().reduce((sum, e) => sum + e.transitions, 0),
      apiCalls: world.calls.length,
      throttled: throttledCalls(world),
      throttledBy: throttledBy(world),
      violations,
      failures: executions
        .filter((e) => e.status !== 'SUCCEEDED')
        .map((e) => `${e.name}: ${e.status} ${e.error ?? ''}: ${e.cause ?? ''}`),
    };
  });
}
