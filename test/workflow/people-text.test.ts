import { describe, expect, it } from 'vitest';
import { simulate } from '../../sim/simulate.ts';
import type { World } from '../../sim/world.ts';
import { ALARM, APPROVERS, greenWeightReaches } from '../../sim/worlds.ts';
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
    expect(summary.cause).toContain(`"${ALARM}" ("Looks wrong.\\n${FAKE}`);
  });
});
