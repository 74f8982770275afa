import { parseArgs } from 'node:util';
import {
  type ChaosResult,
  EVENT_KINDS,
  type EventKind,
  failureKind,
  formatFailure,
  runSchedule,
  scheduleFromSeed,
} from './chaos.ts';

const HELP = `Usage: npm run chaos -- [options]

Runs randomized fault schedules (1-4 events at random virtual times over a deploy) through the
real state machine and handlers in the simulated account, and judges how each run ended.

Options:
  --runs N         how many schedules to run (default 100)
  --seed S         the first schedule's seed (default: random); run i uses seed S+i, so
                   --seed S --runs 1 replays one schedule
  --only K,K       draw only these event kinds
  --without K,K    never draw these event kinds
  --alb            the app in traffic.mode alb (one listener, with stickiness); faults drawn on
                   Route 53's calls strike the listener's
  --alb-rule       the same with a rule of the listener forwarding (listener.ruleArn)
  --json           print one JSON document (every run's schedule, effects and failures)
  --quiet          no progress on stderr
  -h, --help       this text

Event kinds: ${EVENT_KINDS.join(', ')}

Exits 1 when any run failed.`;

function kindList(value: string | undefined, flag: string): EventKind[] | undefined {
  if (value === undefined) return undefined;
  const kinds = value.split(',').filter(Boolean);
  const unknown = kinds.filter((k) => !(EVENT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`${flag}: unknown event kind(s) ${unknown.join(', ')}`);
  return kinds as EventKind[];
}

function count(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new Error(`${flag} must be a whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string' },
      without: { type: 'string' },
      json: { type: 'boolean', default: false },
      alb: { type: 'boolean', default: false },
      'alb-rule': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const runs = count(values.runs, '--runs', 100);
  const firstSeed = count(values.seed, '--seed', Math.floor(Math.random() * 2 ** 31));
  const only = kindList(values.only, '--only');
  const without = new Set(kindList(values.without, '--without') ?? []);
  const kinds = (only ?? EVENT_KINDS).filter((kind) => !without.has(kind));
  if (kinds.length === 0) throw new Error('no event kinds left to draw from');

  const results: ChaosResult[] = [];
  let failed = 0;
  const started = performance.now();
  for (let i = 0; i < runs; i++) {
    const schedule = scheduleFromSeed(firstSeed + i, kinds);
    const result = await runSchedule(schedule, { alb: values['alb-rule'] ? 'rule' : values.alb });
    results.push(result);
    if (result.failures.length > 0) {
      failed += 1;
      if (!values.json) console.log(`${formatFailure(result)}\n`);
    }
    if (!values.quiet)
      process.stderr.write(`\r${i + 1}/${runs} runs, ${failed} failed (seed ${firstSeed + i})   `);
  }
  if (!values.quiet) process.stderr.write('\n');
  const wallSeconds = Math.round((performance.now() - started) / 100) / 10;
  // How many runs broke each promise (a run can break several).
  const byKind: Record<string, number> = {};
  for (const result of results) {
    for (const kind of new Set(result.failures.map(failureKind))) byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
  const failures = Object.fromEntries(Object.entries(byKind).sort(([, x], [, y]) => y - x));
  if (values.json) {
    console.log(JSON.stringify({ firstSeed, runs, failed, wallSeconds, kinds, failures, results }, null, 2));
  } else {
    for (const [kind, n] of Object.entries(failures)) console.log(`${String(n).padStart(6)} run(s): ${kind}`);
    console.log(
      `${runs} runs from seed ${firstSeed}: ${runs - failed} passed, ${failed} failed (${wallSeconds} s)`,
    );
  }
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.error(`chaos: ${error.message}\n\n${HELP}`);
    process.exitCode = 2;
  },
);
