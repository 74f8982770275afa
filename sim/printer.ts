import type { DecisionRecord } from '#shared/domain/approval.ts';
import { imageBuildName } from '#shared/domain/bake.ts';
import { formatDuration } from '#shared/domain/report.ts';
import { formatWeights } from '#shared/domain/traffic.ts';
import type {
  BakeState,
  BlueDrain,
  BlueRetirement,
  DnsChange,
  GreenDrain,
  GreenFleet,
  GreenRemoval,
  HealthState,
  LockState,
  Plan,
  ShiftState,
  StepCheck,
  TrafficRollback,
  WindowState,
} from '#shared/domain/workflow.ts';
import type { SimExecution } from './aws/sfn.ts';
import type { LoadedDefinition } from './definition.ts';
import type { ExecutionObserver } from './runner.ts';
import type { World } from './world.ts';

type Describe = (value: never) => { text: string; key?: string };

/** One line per task result, keyed by the ResultPath the task writes. */
const DESCRIBERS: Record<string, Describe> = {
  '$.lock': (l: LockState) => ({
    text: l.tookOverFrom ? `acquired (taken over from stopped ${l.tookOverFrom})` : 'acquired',
  }),
  '$.healing': (h: { to: string; from: string }) => ({
    text: `all traffic to slot ${h.to}, away from slot ${h.from}`,
  }),
  '$.healing.dns': (d: DnsChange) =>
    d.status === 'INSYNC'
      ? { text: d.maxPolls === 0 ? 'in effect when written (listener)' : `INSYNC after ${d.polls} check(s)` }
      : { text: 'PENDING', key: `pending${d.changeId}` },
  '$.cleared': (c: { slot: string; deregistered: number; terminated?: number }) => ({
    text:
      c.terminated !== undefined
        ? `slot ${c.slot}: terminated ${c.terminated} instance(s)`
        : `slot ${c.slot}: deregistered ${c.deregistered} target(s)`,
  }),
  '$.plan': (p: Plan) => ({
    text:
      p.blue === null
        ? `first deployment: green = slot ${p.green}, ${p.instanceCount} instance(s), straight to 100 %`
        : p.heal
          ? `both slots carry traffic (a=${p.heal.weights.a} b=${p.heal.weights.b}): heal toward slot ${p.heal.to} first; then green = slot ${p.green}`
          : `blue = slot ${p.blue} (${p.blueTargetCount} targets), green = slot ${p.green}, ${p.instanceCount} instances, steps ${p.steps.map((s) => s.percent).join('/')} %`,
  }),
  '$.bake': (b: BakeState) =>
    b.status === 'AVAILABLE'
      ? {
          text: b.reused
            ? `reusing ${b.amiId}, already baked from this artifact`
            : `AMI ${b.amiId} is available`,
        }
      : {
          text: `Image Builder is baking the AMI (${b.imageBuildVersionArn ? imageBuildName(b.imageBuildVersionArn) : 'build not known yet'})`,
          key: 'building',
        },
  '$.green': (g: GreenFleet) => ({
    text: `${g.launched} instance(s) in slot ${g.slot}`,
  }),
  '$.health': (h: HealthState) => ({ text: h.summary, key: `${h.status}${h.healthyCount}` }),
  '$.shift': (s: ShiftState) => ({ text: `${s.percent} % to green: ${formatWeights(s.weights)}` }),
  '$.shift.dns': (d: DnsChange) =>
    d.status === 'INSYNC'
      ? { text: d.maxPolls === 0 ? 'in effect when written (listener)' : `INSYNC after ${d.polls} check(s)` }
      : { text: 'PENDING', key: `pending${d.changeId}` },
  '$.check': (c: StepCheck) => ({ text: c.summary }),
  '$.window': (w: WindowState) => ({
    text: w.done
      ? `window over: ${w.summary}`
      : `check ${w.checks}: ${w.summary}; next in ${formatDuration(w.nextCheckSeconds)}`,
  }),
  '$.drain': (d: BlueDrain) =>
    d.drained
      ? { text: `slot ${d.slot} drained: ${d.reason}` }
      : { text: `slot ${d.slot}: ${d.deregistered} target(s) draining`, key: 'draining' },
  '$.retired': (r: BlueRetirement) => ({
    text: `slot ${r.slot}: terminated ${r.terminated} instance(s)`,
  }),
  '$.rollbackTraffic': (r: TrafficRollback) => ({ text: r.summary }),
  '$.rollbackTraffic.dns': (d: DnsChange) =>
    d.status === 'INSYNC'
      ? { text: d.maxPolls === 0 ? 'in effect when written (listener)' : `INSYNC after ${d.polls} check(s)` }
      : { text: 'PENDING', key: `pending${d.changeId}` },
  '$.greenDrain': (d: GreenDrain) => ({
    text: `${d.deregistered} green target(s) deregistered; draining for ${d.drainSeconds} s`,
  }),
  '$.greenRemoval': (g: GreenRemoval) => ({ text: g.summary }),
  '$.notification': (n: { subject?: string }) => ({ text: `SNS: ${n.subject ?? ''}` }),
  '$.shiftApproval': (d: DecisionRecord) => ({
    text: `${d.decision} by ${d.approver}${d.comment ? `: "${d.comment}"` : ''}`,
  }),
  '$.terminationApproval': (d: DecisionRecord) => ({
    text: `${d.decision} by ${d.approver}${d.comment ? `: "${d.comment}"` : ''}`,
  }),
};

function read(value: unknown, path: string): unknown {
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>(
      (node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
      value,
    );
}

/** Prints each state as it runs, with the virtual time and what the task found or did. */
export class Printer implements ExecutionObserver {
  private readonly resultPaths: Record<string, string>;
  /** Waits whose timeout is their normal end (a Catch on States.Timeout leads on). */
  private readonly timedWaits: Set<string>;
  private readonly lastKey = new Map<string, string>();
  private readonly labels = new Map<string, string>();

  constructor(
    private readonly world: World,
    loaded: LoadedDefinition,
    private readonly print: ((line: string) => void) | undefined,
    private readonly verbose: boolean,
  ) {
    const states = (loaded.definition.States ?? {}) as Record<
      string,
      { ResultPath?: string; Catch?: { ErrorEquals: string[] }[] }
    >;
    this.timedWaits = new Set(
      Object.entries(states)
        .filter(([, s]) => s.Catch?.some((c) => c.ErrorEquals.includes('States.Timeout')))
        .map(([name]) => name),
    );
    this.resultPaths = Object.fromEntries(
      Object.entries(states)
        .filter(([, s]) => typeof s.ResultPath === 'string')
        .map(([name, s]) => [name, s.ResultPath as string]),
    );
  }

  private clock(): string {
    const s = Math.round((this.world.now() - this.world.startedAt) / 1000);
    const hh = String(Math.floor(s / 3600)).padStart(2, '0');
    const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
    return `+${hh}:${mm}:${String(s % 60).padStart(2, '0')}`;
  }

  private line(execution: SimExecution, state: string, text: string): void {
    if (!this.print) return;
    const label = this.labels.size > 1 ? `${this.labels.get(execution.name) ?? ''} ` : '';
    this.print(`${this.clock()}  ${label}${state.padEnd(46)} ${text}`.trimEnd());
  }

  stateEntered(execution: SimExecution, state: string, type: string): void {
    if (!this.labels.has(execution.name)) {
      this.labels.set(execution.name, `#${this.labels.size + 1}`);
      this.print?.(`${this.clock()}  execution ${execution.name} started`);
    }
    if (this.verbose && (type === 'Wait' || type === 'Choice')) this.line(execution, state, '');
    if (type === 'Succeed') this.line(execution, state, '');
  }

  stateExited(execution: SimExecution, state: string, type: string, output: unknown): void {
    if (type !== 'Task') return;
    const path = this.resultPaths[state];
    const describe = path ? DESCRIBERS[path] : undefined;
    if (!path || !describe) return;
    const value = read(output, path);
    if (value === undefined || value === null) return; // the task failed; stateFailed said so
    const { text, key } = describe(value as never);
    const dedupe = `${execution.name}|${state}`;
    if (key && this.lastKey.get(dedupe) === key && !this.verbose) return;
    this.lastKey.set(dedupe, key ?? '');
    this.line(execution, state, text);
  }

  stateFailed(execution: SimExecution, state: string, error: string, cause: string): void {
    if (error === 'States.Timeout' && this.timedWaits.has(state) && !this.verbose) return;
    this.line(execution, state, `✗ ${error}: ${cause}`);
  }

  /** Something that happened outside the state machine (a link sent, a page opened). */
  note(text: string): void {
    this.print?.(`${this.clock()}  ${''.padEnd(46)} ${text}`);
  }

  /** What the starter function did with an S3 event. */
  delivery(result: {
    started: string[];
    duplicates: string[];
    ignored: { key: string; reason: string }[];
  }): void {
    for (const name of result.duplicates)
      this.print?.(`${this.clock()}  S3 event: duplicate of ${name}, nothing started`);
    for (const { key, reason } of result.ignored)
      this.print?.(`${this.clock()}  S3 event: ignored ${key}: ${reason}`);
  }

  stateRetried(execution: SimExecution, state: string, attempt: number): void {
    this.line(execution, state, `↻ retry ${attempt}`);
  }

  executionEnded(execution: SimExecution): void {
    const how =
      execution.status === 'FAILED' ? `FAILED (${execution.error}): ${execution.cause}` : execution.status;
    this.print?.(`${this.clock()}  execution ${execution.name} ended ${how}`);
  }
}
