import { describe, expect, it } from 'vitest';
import { STATE } from '#shared/domain/states.ts';
import { findScenario } from '../../sim/scenarios.ts';
import { simulate } from '../../sim/simulate.ts';
import { APPROVALS_TABLE, LOCKS_TABLE } from '../../sim/world.ts';
import { greenWeightReaches } from '../../sim/worlds.ts';
import { testScenario } from '../support/scenarios.ts';

// Step Functions fails an execution whose state input or output exceeds 256 KiB with
// States.DataLimitExceeded, which no Catch runs for, not even States.ALL: the rollback branch is
// never reached, and only the recovery on the execution's status change can put things back.

describe('a state over Step Functions payload quota', () => {
  it('fails the execution past every Catch, and the recovery rolls back and frees the lock', async () => {
    let oversized = false;
    const scenario = testScenario('data-limit-exceeded', 'ROLLED_BACK', {
      summary: 'at 50 %, the step check returns more than 256 KiB',
      prepare: ({ world }) => greenWeightReaches(world, 50, () => (oversized = true)),
    });
    const { summary, world } = await simulate(scenario, {
      intercept: async (call, invoke) => {
        const result = await invoke();
        if (!oversized || call.state !== STATE.checkStep) return result;
        return { ...(result as object), padding: 'x'.repeat(300_000) };
      },
    });
    const execution = [...world.sfn.executions.values()][0];
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    // No Catch ran: the rollback branch was never entered.
    expect(execution?.states.map((s) => s.name)).not.toContain(STATE.returnTraffic);
    expect(summary.violations).toEqual([]);
    expect(summary).toMatchObject({
      status: 'ROLLED_BACK',
      weights: { a: 100, b: 0 },
      running: { a: 3, b: 0, other: 0 },
    });
    expect(world.dynamodb.items(LOCKS_TABLE).filter((item) => item.owner)).toEqual([]);
    // The recovery started the rollback execution, which told.
    expect(summary.notifications.map((n) => n.subject)).toEqual(['Rolled back: web/prod 1.1.0']);
  });

  it('is never reached by the largest config the schema allows at 1,000 instances: every state stays under 32 KiB', async () => {
    const largest = findScenario('largest-config');
    if (!largest) throw new Error('no largest-config scenario');
    const { summary, world } = await simulate(largest);
    expect(summary.status).toBe('SUCCEEDED');
    // Counts instead of instance lists, the config read by its pinned version instead of copied.
    expect(summary.maxStatePayloadBytes).toBeGreaterThan(0);
    expect(summary.maxStatePayloadBytes).toBeLessThanOrEqual(32_768);
    // Each approval message names every watched alarm and approver, and stays far under SNS's
    // 256 KiB; the stored summary (in the approvals table, not the state) under DynamoDB's 400 KB.
    const asks = world.sns.messages.filter((m) => m.attributes.kind === 'approval-request');
    expect(asks).toHaveLength(2 * 20);
    for (const ask of asks) {
      expect(ask.message).toContain('web-prod-99-');
      expect(Buffer.byteLength(ask.message)).toBeLessThan(64 * 1024);
    }
    for (const item of world.dynamodb.items(APPROVALS_TABLE)) {
      expect(Buffer.byteLength(JSON.stringify(item))).toBeLessThan(100 * 1024);
    }
  });
});
