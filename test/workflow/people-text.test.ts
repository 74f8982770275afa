import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import type { ApprovalSummary } from '#shared/domain/approval.ts';
import { confirmationPage } from '#shared/domain/approval-page.ts';
import type { DeploymentState } from '#shared/domain/workflow.ts';
import { simulate } from '../../sim/simulate.ts';
import { APPROVALS_TABLE, type World } from '../../sim/world.ts';
import { ALARM, APPROVERS, greenWeightReaches, uploadRelease } from '../../sim/worlds.ts';
import { testScenario } from '../support/scenarios.ts';

// Text from people reaches the final notification and the execution's cause through the real
// state machine: an approver's comment (the rejection's cause, the approval line) and an alarm's
// reason (anyone allowed cloudwatch:SetAlarmState writes one). It must not add a line there.

const FAKE = 'Deployed web/prod 1.1.0';
const HOSTILE = `Looks wrong.\n${FAKE}\r\n\u2028${FAKE}\u0085${FAKE}\u202E0.1.1 deborp/bew\u2066`;
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const LINE_BREAKS = /\r\n|[\n\v\f\r\u0085\u2028\u2029]/;

/** The final notifications (not the approval requests), as a mail client would show them. */
function finalMessages(world: World) {
  return world.sns.messages.filter((m) => m.attributes.kind !== 'approval-request');
}

function expectNoInjectedLine(world: World) {
  const finals = finalMessages(world);
  expect(finals).toHaveLength(1);
  for (const message of finals) {
    expect(message.subject).not.toContain(FAKE);
    // Only the service's own lines, each free of what people could smuggle in.
    for (const line of message.message.split('\n')) expect(line).not.toMatch(UNSAFE);
    for (const line of message.message.split(LINE_BREAKS)) expect(line.startsWith(FAKE)).toBe(false);
  }
  for (const execution of world.sfn.executions.values()) {
    const cause = execution.cause ?? '';
    expect(cause).not.toMatch(UNSAFE);
    expect(cause.split(LINE_BREAKS)).toHaveLength(1);
  }
}

describe('text from people in notifications and causes', () => {
  it('keeps a rejecting approver’s comment on one quoted line of the rollback message and cause', async () => {
    const scenario = testScenario('hostile-rejection-comment', 'ROLLED_BACK', {
      summary: 'approval before the shift; Bob rejects with a comment that holds newlines and bidi controls',
      prepare: ({ config }) => {
        config.approval = { before: ['traffic-shift'], approvers: APPROVERS };
      },
      approvers: { kind: 'reject', afterMinutes: 5, comment: HOSTILE },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.problems).toEqual([]);
    expectNoInjectedLine(world);
    const [rollback] = finalMessages(world);
    expect(rollback?.subject).toBe('Rolled back: web/prod 1.1.0');
    expect(rollback?.message).toContain(`"Looks wrong.\\n${FAKE}\\r\\n\\u2028${FAKE}\\u0085`);
    expect(rollback?.message).toContain('\\u202e0.1.1 deborp/bew\\u2066');
  });

  it('keeps an alarm reason someone set by hand on one quoted line', async () => {
    const scenario = testScenario('hostile-alarm-reason', 'ROLLED_BACK', {
      summary: 'at 50 % someone puts the alarm into ALARM with SetAlarmState and a reason with newlines',
      prepare: ({ world }) => {
        greenWeightReaches(world, 50, () => world.cloudwatch.setState(ALARM, 'ALARM', HOSTILE, world.now()));
      },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.problems).toEqual([]);
    expectNoInjectedLine(world);
    // Quoted after when it went into ALARM, which the rollback reads back whatever the reason says.
    expect(summary.metrics.flatMap((m) => m.values.map((v) => v.name))).toContain('AlarmToBlueSeconds');
    const named = summary.cause?.indexOf(`"${ALARM}" (in ALARM since `) ?? -1;
    expect(named).toBeGreaterThanOrEqual(0);
    expect(summary.cause?.slice(named)).toMatch(
      /^"[^"]+" \(in ALARM since [\d:.TZ-]+: "Looks wrong\.\\nDeployed /,
    );
  });

  it("keeps an upload's commit and change note on one quoted line of the approval email, and escaped on its page", async () => {
    const markup = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const scenario = testScenario('hostile-release-metadata', 'SUCCEEDED', {
      summary: 'the upload carries a commit and a change note with newlines, bidi controls and markup',
      prepare: ({ config }) => {
        config.approval = { before: ['traffic-shift'], approvers: APPROVERS };
      },
      act: (ctx) => {
        uploadRelease(ctx, 0, { metadata: { commit: `3f9c2ab\n${FAKE}`, changes: `${HOSTILE}${markup}` } });
      },
      approvers: { kind: 'approve', afterMinutes: 5, comment: 'Go.' },
    });
    const { summary, world } = await simulate(scenario);
    expect(summary.problems).toEqual([]);

    // The plan carries each as one line, with the uploader the S3 event named.
    const [execution] = world.sfn.executions.values();
    const { plan } = (execution?.output ?? {}) as DeploymentState;
    expect(plan?.blueVersion).toBe('1.0.0');
    expect(plan?.release?.uploadedBy).toBe('AWS:AIDAEXAMPLECI');
    expect(plan?.release?.commit).toBe(`3f9c2ab\\u000a${FAKE}`);
    for (const text of [plan?.release?.commit, plan?.release?.changes]) expect(text).not.toMatch(UNSAFE);

    // Each approval email names them on lines of its own, quoted: nothing people wrote starts a line.
    const requests = world.sns.messages.filter((m) => m.attributes.kind === 'approval-request');
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      const lines = request.message.split(LINE_BREAKS);
      for (const line of lines) {
        expect(line).not.toMatch(UNSAFE);
        expect(line.startsWith(FAKE)).toBe(false);
      }
      expect(lines).toContain('Live version: 1.0.0 (slot a)');
      expect(lines).toContain('New version:  1.1.0 (slot b)');
      expect(lines).toContain(`Commit:       "3f9c2ab\\\\u000a${FAKE}"`);
      expect(lines.filter((l) => l.startsWith('Changes:      "Looks wrong.'))).toHaveLength(1);
    }

    // The page the approver opened shows the summary the request stored, escaped.
    const [stored] = world.dynamodb.tables.get(APPROVALS_TABLE)?.values() ?? [];
    const approval = unmarshall(stored ?? {}) as { summary: ApprovalSummary };
    expect(approval.summary.changes).toBe(plan?.release?.changes);
    const page = confirmationPage(approval.summary, {
      approver: APPROVERS[0] ?? '',
      expires: '0',
      signature: '',
    });
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('<img');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(page).toContain('<dt>Uploaded by</dt><dd>AWS:AIDAEXAMPLECI</dd>');
  });
});
