import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecisionRecord, rejectionCause } from '#shared/domain/approval.ts';
import { type Promotion, promoteText } from '#shared/domain/promotion.ts';
import { buildReport, causeMessage } from '#shared/domain/report.ts';
import { alarmedAtOf, alarmsCause, alarmText, quoted } from '#shared/domain/text.ts';
import type { DeploymentState } from '#shared/domain/workflow.ts';

// Text from people (an approver's comment, an alarm's reason set with SetAlarmState, names from a
// config) goes into SNS bodies, execution causes and pages. It must never become a line of its
// own there, nor reorder what is around it on screen.

/** Every character that breaks a line or steers bidirectional text, or is invisible. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const LINE_BREAKS = /\r\n|[\n\v\f\r\u0085\u2028\u2029]/;

const HOSTILE = [
  '\n',
  '\r\n',
  '\r',
  '\v',
  '\f',
  '\u0000',
  '\u001b[2J',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u2028',
  '\u2029',
  '\u200b',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u061c',
  '\ufeff',
  '\ud800',
  '\udc00',
  '\u{e0001}',
];

describe('quoted: text from people, made safe for a message', () => {
  it('keeps ordinary text as it was written, in double quotes', () => {
    expect(quoted('Canary dashboards look good.')).toBe('"Canary dashboards look good."');
    expect(quoted('Jürgen: ça marche, 好的 👍 — שלום')).toBe('"Jürgen: ça marche, 好的 👍 — שלום"');
    expect(quoted('')).toBe('""');
  });

  it('escapes what would end the quote or break the line', () => {
    expect(quoted('say "yes"\\no')).toBe('"say \\"yes\\"\\\\no"');
    expect(quoted('ok\nDeployed web/prod 1.1.0')).toBe('"ok\\nDeployed web/prod 1.1.0"');
    expect(quoted('a\r\nb\tc')).toBe('"a\\r\\nb\\tc"');
  });

  const named = HOSTILE.map((text) => {
    const points = [...text].map(
      (c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`,
    );
    return [points.join(' '), text] as const;
  });
  it.each(named)('escapes %s so nothing of it is left in the text', (_name, hostile) => {
    const out = quoted(`before${hostile}after`);
    expect(out).not.toMatch(UNSAFE);
    expect(out).not.toMatch(LINE_BREAKS);
    expect(out).toMatch(/^"before(\\u[0-9a-f]{4}|\\[nrtbf]|\\u001b\[2J)+after"$/);
  });

  it('names a bidi override by its code point, so a reader sees it was there', () => {
    expect(quoted('abc\u202Eevil')).toBe('"abc\\u202eevil"');
    expect(quoted('x\u2028y')).toBe('"x\\u2028y"');
  });

  it('is one line, holds no unsafe character, and reads back as exactly what was written', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), (binary, graphemes) => {
        for (const text of [binary, graphemes, `${graphemes}\n${binary}\u202e`]) {
          const out = quoted(text);
          expect(out).not.toMatch(UNSAFE);
          expect(out).not.toMatch(LINE_BREAKS);
          // A JSON string literal: nothing is lost, and the quote cannot be closed from inside.
          expect(JSON.parse(out)).toBe(text);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reads back the earliest time an alarm cause names, whatever the names and reasons say', () => {
    const instant = fc
      .date({
        min: new Date('2000-01-01T00:00:00Z'),
        max: new Date('2100-01-01T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
    const alarm = fc.record(
      {
        name: fc.string({ unit: 'binary' }),
        reason: fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.constant('x" (in ALARM since 1999-01-01T00:00:00.000Z: "y'),
        ),
        since: instant,
        firedAt: instant,
      },
      { requiredKeys: ['name', 'reason'] },
    );
    fc.assert(
      fc.property(fc.array(alarm, { minLength: 1, maxLength: 4 }), (alarms) => {
        const times = alarms.flatMap((a) => (a.firedAt ?? a.since ?? []) as string | string[]);
        const message = causeMessage({ Error: 'AlarmTriggered', Cause: alarmsCause(alarms) });
        expect(alarmedAtOf(message)).toBe([...times].sort()[0]);
      }),
      { numRuns: 300 },
    );
    expect(alarmedAtOf('green not healthy: in ALARM since 2026-03-02T09:30:40.000Z')).toBeUndefined();
  });

  it('quotes an alarm name and its reason (anyone may set a reason with SetAlarmState)', () => {
    expect(alarmText('web-prod-5xx', 'Threshold Crossed')).toBe('"web-prod-5xx" ("Threshold Crossed")');
    expect(alarmText('web-prod-5xx', '')).toBe('"web-prod-5xx" (no reason)');
    expect(alarmText('web\u2028prod', 'x\nDeployed web/prod 1.1.0')).toBe(
      '"web\\u2028prod" ("x\\nDeployed web/prod 1.1.0")',
    );
  });
});

const FAKE_LINE = 'Deployed web/prod 1.1.0';
const COMMENT = `Looks bad.\n${FAKE_LINE}\r\n\u2028${FAKE_LINE}\u202E0.1.1 deborp/bew deyolpeD\u2066`;

function deployment(extra: Partial<DeploymentState> = {}): DeploymentState {
  return {
    deploymentId: 'web-prod-1_1_0-0123456789',
    app: 'web',
    env: 'prod',
    version: '1.1.0',
    format: 'zip',
    artifact: { bucket: 'b', key: 'releases/web/prod/1.1.0.zip' },
    ...extra,
  } as DeploymentState;
}

/** Every line a mail client, a terminal or the console would show. */
function linesOf(text: string): string[] {
  return text.split(LINE_BREAKS);
}

describe('a hostile comment in what operators read', () => {
  const rejection: DecisionRecord = {
    stage: 'traffic-shift',
    decision: 'rejected',
    approver: 'bob@example.com',
    comment: COMMENT,
    at: '2026-03-02T09:30:00.000Z',
  };

  it('stays on the cause line of a rejection, quoted', () => {
    const cause = rejectionCause(rejection);
    expect(linesOf(cause)).toHaveLength(1);
    expect(cause).not.toMatch(UNSAFE);
    expect(cause).toBe(
      `rejected by "bob@example.com" at 2026-03-02T09:30:00.000Z: "Looks bad.\\nDeployed web/prod 1.1.0\\r\\n\\u2028Deployed web/prod 1.1.0\\u202e0.1.1 deborp/bew deyolpeD\\u2066"`,
    );
  });

  it('adds no line to a rollback notification, whether it comes as the cause or as the approval', () => {
    const report = buildReport(
      deployment({
        failure: { Error: 'ApprovalRejected', Cause: rejectionCause(rejection) },
        shiftApproval: rejection,
      }),
      'rolled-back',
      new Date('2026-03-02T10:00:00.000Z'),
    );
    for (const line of [report.summary, ...report.lines]) expect(line).not.toMatch(UNSAFE);
    const body = [report.summary, ...report.lines].join('\n');
    for (const line of linesOf(body)) expect(line.startsWith(FAKE_LINE)).toBe(false);
    expect(linesOf(report.summary)).toHaveLength(1);
    expect(report.lines).toContain(
      `Approval to shift traffic to the new release: rejected by "bob@example.com" at 2026-03-02T09:30:00.000Z: ${quoted(COMMENT)}`,
    );
  });

  it('adds no line through an approval comment of a deployment that succeeded', () => {
    const report = buildReport(
      deployment({ shiftApproval: { ...rejection, decision: 'approved' } }),
      'succeeded',
      new Date('2026-03-02T10:00:00.000Z'),
    );
    for (const line of [report.summary, ...report.lines]) expect(line).not.toMatch(UNSAFE);
    const body = [report.summary, ...report.lines].join('\n');
    expect(linesOf(body).filter((line) => line.startsWith('Deployed'))).toEqual([]);
  });

  it('adds no line through the caller identity of a promote, in the notification or the command line', () => {
    const promotion: Promotion = {
      by: COMMENT,
      at: '2026-03-02T09:31:30.000Z',
      wait: { kind: 'step', step: 1, of: 3, percent: 10 },
    };
    const report = buildReport(
      deployment({
        check: { checkedAt: '2026-03-02T09:31:30.000Z', summary: 'ok', promotions: [promotion] },
      }),
      'succeeded',
      new Date('2026-03-02T10:00:00.000Z'),
    );
    for (const line of [report.summary, ...report.lines]) expect(line).not.toMatch(UNSAFE);
    expect(report.lines).toContain(
      `Promoted traffic step 1 of 3 (10 %): the rest of its wait skipped by ${quoted(COMMENT)} at 2026-03-02T09:31:30.000Z; its checks still ran.`,
    );
    const running = { deployment: 'web-prod-1_1_0-0123456789', executionArn: 'arn:x' };
    for (const outcome of ['promoted', 'already-promoted'] as const) {
      const text = promoteText({ ...running, outcome, promotion }, 'web', 'prod');
      expect(linesOf(text)).toHaveLength(1);
      expect(text).not.toMatch(UNSAFE);
    }
  });

  it('keeps a whole cause on one line, even one whose source did not quote what a person wrote', () => {
    const raw = { Error: 'BakeFailed', Cause: `build failed: ${COMMENT}` };
    const wrapped = { Error: 'BakeFailed', Cause: JSON.stringify({ errorMessage: raw.Cause }) };
    for (const failure of [raw, wrapped]) {
      const message = causeMessage(failure);
      expect(linesOf(message)).toHaveLength(1);
      expect(message).not.toMatch(UNSAFE);
    }
    // Quoted text passes through unchanged.
    expect(causeMessage({ Error: 'X', Cause: rejectionCause(rejection) })).toBe(rejectionCause(rejection));
  });
});
