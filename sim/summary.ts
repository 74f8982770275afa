import { formatDuration } from '#shared/domain/report.ts';
import type { Summary } from './simulate.ts';

/** A run's summary as a person reads it at the end of `npm run simulate` (or `bluegreen simulate`). */
export function summaryLines(summary: Summary): string[] {
  const invariants = summary.violations.length === 0 ? 'all held' : `${summary.violations.length} VIOLATED`;
  const calls = Object.values(summary.apiCalls).reduce((a, b) => a + b, 0);
  return [
    `Result:      ${summary.status} (expected ${summary.expected})${summary.ok ? '' : '  ✗ NOT AS EXPECTED'}`,
    ...(summary.cause ? [`Cause:       ${summary.cause}`] : []),
    `Live slot:   ${summary.liveSlot ?? 'none'}  weights a=${summary.weights.a} b=${summary.weights.b}`,
    `Running:     a=${summary.running.a} b=${summary.running.b} other=${summary.running.other}`,
    `Took:        ${formatDuration(summary.virtualSeconds)} virtual, ${summary.wallMs} ms wall; ${summary.executions} execution(s), ${summary.transitions} state transitions, ${calls} AWS API calls`,
    `Invariants:  ${invariants}`,
    ...summary.violations.map((v) => `  - ${v}`),
    ...summary.problems.filter((p) => !p.startsWith('violation:')).map((p) => `Problem:     ${p}`),
    ...summary.notifications.map((n) => `Notified:    ${n.subject}`),
    ...summary.metrics.map((m) => `Metrics:     ${m.values.map((v) => `${v.name} ${v.value}`).join(', ')}`),
  ];
}
