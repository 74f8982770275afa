import { describe, expect, it } from 'vitest';
import type { TerminalDecision } from '#shared/operations/decide-from-terminal.ts';
import type { TerminalAnswer } from '../../sim/approver.ts';
import { findScenario, type Scenario } from '../../sim/scenarios.ts';
import { simulate } from '../../sim/simulate.ts';
import { APPROVALS_TABLE, type World } from '../../sim/world.ts';
import { APPROVER_ROLE, terminalApprovalBeforeShift, uploadRelease } from '../../sim/worlds.ts';

// `bluegreen approve|reject` through the real state machine: the client function the command
// calls signs its request as a session of an IAM role; the simulated API Gateway verifies the
// signature and the caller's IAM policy, and the real handler decides.

const SESSION = 'arn:aws:sts::123456789012:assumed-role/DeployApprover/alice';
const FAKE = 'Deployed web/prod 1.1.0';
const HOSTILE = `Looks wrong.\n${FAKE}\r\n\u2028${FAKE}\u202E0.1.1 deborp/bew`;
const LINE_BREAKS = /\r\n|[\n\v\f\r\u0085\u2028\u2029]/;

function finalMessages(world: World) {
  return world.sns.messages.filter((m) => m.attributes.kind !== 'approval-request');
}

function answer(overrides: Partial<TerminalAnswer> & Pick<TerminalAnswer, 'decision'>) {
  const results: TerminalDecision[] = [];
  const terminal: TerminalAnswer = {
    as: { role: APPROVER_ROLE, session: 'alice' },
    afterMinutes: 10,
    onResult: (result) => results.push(result),
    ...overrides,
  };
  return { terminal, results };
}

function scenario(fields: Omit<Scenario, 'name' | 'summary'>): Scenario {
  return {
    name: 'terminal',
    summary: 'approval from a terminal',
    prepare: terminalApprovalBeforeShift,
    ...fields,
  };
}

function approvalItems(world: World) {
  return world.dynamodb.items(APPROVALS_TABLE).filter((item) => !String(item.id).startsWith('latest#'));
}

describe('approving from a terminal', () => {
  it('as a session of the approver role: the deploy goes on, and the history and notification name the session', async () => {
    const { terminal, results } = answer({ decision: 'approve', comment: 'Dashboards look good.' });
    const { summary, world } = await simulate(scenario({ expect: 'SUCCEEDED', terminal: [terminal] }));
    expect(summary.problems).toEqual([]);
    expect(results).toEqual([
      expect.objectContaining({
        kind: 'decided',
        decision: 'approved',
        approver: SESSION,
        comment: 'Dashboards look good.',
        deployment: expect.objectContaining({
          app: 'web',
          env: 'prod',
          version: '1.1.0',
          stage: 'traffic-shift',
        }),
      }),
    ]);
    expect(summary.approvals).toEqual([{ stage: 'traffic-shift', decision: 'approved', approver: SESSION }]);
    const [execution] = [...world.sfn.executions.values()];
    const output = (execution?.output ?? {}) as { shiftApproval?: { approver?: string } };
    expect(output.shiftApproval?.approver).toBe(SESSION);
    const [deployed] = finalMessages(world);
    expect(deployed?.subject).toBe('Deployed web/prod 1.1.0');
    expect(deployed?.message).toContain(`approved by ${JSON.stringify(SESSION)}`);
  });

  it('tells the IAM approvers, in one message without a link, which command to run and as whom', async () => {
    const { terminal } = answer({ decision: 'approve' });
    const { world } = await simulate(scenario({ expect: 'SUCCEEDED', terminal: [terminal] }));
    const requests = world.sns.messages.filter((m) => m.attributes.kind === 'approval-request');
    expect(requests.map((m) => m.attributes.approver)).toEqual([
      'alice@example.com',
      'bob@example.com',
      'terminal',
    ]);
    const forTerminal = requests.at(-1)?.message ?? '';
    expect(forTerminal).toContain('bluegreen approve web prod');
    expect(forTerminal).toContain(JSON.stringify(APPROVER_ROLE));
    expect(forTerminal).not.toContain('/approvals/');
  });

  it('rejecting rolls back, with the session and the comment in the cause', async () => {
    const { terminal, results } = answer({ decision: 'reject', comment: 'Wrong build.' });
    const { summary } = await simulate(scenario({ expect: 'ROLLED_BACK', terminal: [terminal] }));
    expect(summary.problems).toEqual([]);
    expect(results[0]).toMatchObject({ kind: 'decided', decision: 'rejected', approver: SESSION });
    expect(summary.cause).toContain(`rejected by ${JSON.stringify(SESSION)}`);
    expect(summary.cause).toContain('"Wrong build."');
  });

  it('refuses a principal the config does not list and decides nothing; an approver decides after', async () => {
    const stranger = answer({
      decision: 'approve',
      as: { role: 'arn:aws:iam::123456789012:role/Developer', session: 'mallory' },
      afterMinutes: 5,
    });
    const user = answer({
      decision: 'approve',
      as: { user: 'arn:aws:iam::123456789012:user/mallory' },
      afterMinutes: 6,
    });
    let stateAfterRefusals: unknown;
    const approver = answer({ decision: 'approve', afterMinutes: 10 });
    const { summary, world } = await simulate(
      scenario({
        expect: 'SUCCEEDED',
        terminal: [stranger.terminal, user.terminal, approver.terminal],
        act: (ctx) => {
          uploadRelease(ctx);
          ctx.world.sns.subscribers.push((message) => {
            if (message.attributes.approver !== 'terminal') return;
            ctx.after(8 * 60, () => {
              stateAfterRefusals = approvalItems(ctx.world).map((item) => item.state);
            });
          });
        },
      }),
    );
    expect(summary.problems).toEqual([]);
    expect(stranger.results).toEqual([
      {
        kind: 'not-an-approver',
        principal: 'arn:aws:sts::123456789012:assumed-role/Developer/mallory',
        app: 'web',
        env: 'prod',
      },
    ]);
    expect(user.results).toEqual([
      {
        kind: 'not-an-approver',
        principal: 'arn:aws:iam::123456789012:user/mallory',
        app: 'web',
        env: 'prod',
      },
    ]);
    expect(stateAfterRefusals).toEqual(['PENDING']);
    expect(approver.results[0]).toMatchObject({ kind: 'decided', approver: SESSION });
    expect(summary.approvals).toEqual([{ stage: 'traffic-shift', decision: 'approved', approver: SESSION }]);
    expect(world.sns.messages.map((m) => m.message).join('\n')).not.toContain('mallory');
  });

  it('refuses a second answer after a link decided, naming who decided', async () => {
    const { terminal, results } = answer({ decision: 'reject', afterMinutes: 30 });
    const { summary } = await simulate(
      scenario({
        expect: 'SUCCEEDED',
        approvers: { kind: 'approve', afterMinutes: 5, comment: 'Go.' },
        terminal: [terminal],
      }),
    );
    expect(summary.problems).toEqual([]);
    expect(results).toEqual([
      expect.objectContaining({
        kind: 'decided-already',
        decision: 'approved',
        approver: 'alice@example.com',
        comment: 'Go.',
      }),
    ]);
    expect(summary.approvals).toEqual([
      { stage: 'traffic-shift', decision: 'approved', approver: 'alice@example.com' },
    ]);
  });

  it('lets the first of two terminal answers decide, and refuses the second as decided already', async () => {
    const first = answer({ decision: 'approve', afterMinutes: 5 });
    const second = answer({
      decision: 'reject',
      afterMinutes: 6,
      as: { role: APPROVER_ROLE, session: 'bob' },
    });
    const { summary } = await simulate(
      scenario({ expect: 'SUCCEEDED', terminal: [first.terminal, second.terminal] }),
    );
    expect(summary.problems).toEqual([]);
    expect(second.results[0]).toMatchObject({
      kind: 'decided-already',
      decision: 'approved',
      approver: SESSION,
    });
  });

  it('decides nothing when the answer names another release than the one waiting', async () => {
    const stale = answer({ decision: 'approve', afterMinutes: 5, version: '1.0.9' });
    const { world } = await simulate(scenario({ expect: 'ROLLED_BACK', terminal: [stale.terminal] }));
    expect(stale.results[0]).toMatchObject({
      kind: 'not-this-approval',
      deployment: { version: '1.1.0', stage: 'traffic-shift' },
      asked: { version: '1.0.9' },
    });
    // Nobody answered 1.1.0's approval: it timed out, and nothing was recorded as approved.
    const decisions = approvalItems(world).map(
      (item) => (item.decision as { decision?: string } | undefined)?.decision,
    );
    expect(decisions).not.toContain('approved');
  });

  it('keeps a hostile comment on one quoted line of the rollback message and cause', async () => {
    const { terminal } = answer({ decision: 'reject', comment: HOSTILE });
    const { summary, world } = await simulate(scenario({ expect: 'ROLLED_BACK', terminal: [terminal] }));
    expect(summary.problems).toEqual([]);
    const [rollback] = finalMessages(world);
    expect(rollback?.subject).toBe('Rolled back: web/prod 1.1.0');
    for (const line of (rollback?.message ?? '').split(LINE_BREAKS))
      expect(line.startsWith(FAKE)).toBe(false);
    expect(rollback?.message).toContain(
      JSON.stringify(HOSTILE).replace('\u2028', '\\u2028').replace('\u202E', '\\u202e'),
    );
    for (const execution of world.sfn.executions.values()) {
      expect((execution.cause ?? '').split(LINE_BREAKS)).toHaveLength(1);
    }
  });

  it('is refused by AWS for an identity whose IAM policy does not allow the route: nothing decided', async () => {
    const { terminal, results } = answer({ decision: 'approve', policies: [{ Statement: [] }] });
    const { summary } = await simulate(scenario({ expect: 'ROLLED_BACK', terminal: [terminal] }));
    expect(summary.problems).toEqual([]);
    expect(results).toEqual([
      {
        kind: 'refused',
        status: 403,
        message: expect.stringMatching(
          /^User: arn:aws:sts::123456789012:assumed-role\/DeployApprover\/alice is not authorized to perform: execute-api:Invoke/,
        ),
      },
    ]);
    expect(summary.approvals).toEqual([]);
    expect(summary.cause).toContain('no approver answered within 24h00m');
  });

  it("when Step Functions' response is lost and the retry meets the used token, learns from the history that it approved", async () => {
    const { terminal, results } = answer({ decision: 'approve' });
    const { summary } = await simulate(
      scenario({
        expect: 'SUCCEEDED',
        prepare: (ctx) => {
          terminalApprovalBeforeShift(ctx);
          ctx.world.inject({
            service: 'sfn',
            operation: 'SendTaskSuccess',
            kind: 'response-lost-then-retried',
            times: 1,
            when: (input) => String((input as { output?: string }).output).includes('"approver"'),
          });
        },
        terminal: [terminal],
      }),
    );
    expect(summary.problems).toEqual([]);
    expect(results[0]).toMatchObject({ kind: 'decided', decision: 'approved', approver: SESSION });
    expect(summary.approvals).toEqual([{ stage: 'traffic-shift', decision: 'approved', approver: SESSION }]);
  });

  it('runs as the scenario approval-terminal', async () => {
    const { summary } = await simulate(findScenario('approval-terminal') as Scenario);
    expect(summary.ok).toBe(true);
    expect(summary.approvals).toEqual([{ stage: 'traffic-shift', decision: 'approved', approver: SESSION }]);
  });
});
