import { describe, expect, it } from 'vitest';
import {
  lastWaitPromotion,
  type Promotion,
  promoterProblem,
  promotionsOf,
  skippedSeconds,
  stepPromotions,
  waitOf,
  windowPromotion,
} from '#shared/domain/promotion.ts';
import { buildReport } from '#shared/domain/report.ts';
import type { DeploymentState, WindowState } from '#shared/domain/workflow.ts';

// What a promote is on record as: the wait it ended, every promote once, and the lines the final
// notification gives them.

const STEP_1: Promotion = {
  by: 'arn:aws:iam::123456789012:user/bob',
  at: '2026-03-02T09:31:00.000Z',
  wait: { kind: 'step', step: 1, of: 3, percent: 10 },
  waitEndsAt: '2026-03-02T09:34:40.000Z',
};
const STEP_2: Promotion = {
  ...STEP_1,
  at: '2026-03-02T09:37:00.000Z',
  wait: { kind: 'step', step: 2, of: 3, percent: 50 },
};
const WINDOW: Promotion = {
  by: 'arn:aws:sts::123456789012:assumed-role/oncall/alice',
  at: '2026-03-02T09:50:00.000Z',
  wait: { kind: 'termination-window' },
  waitEndsAt: '2026-03-02T09:55:00.000Z',
};
const WINDOW_STATE: WindowState = {
  startedAt: '2026-03-02T09:45:00.000Z',
  endsAt: '2026-03-02T10:45:00.000Z',
  checks: 2,
  done: true,
  nextCheckSeconds: 0,
  checkedAt: '2026-03-02T09:50:00.000Z',
  summary: 'ok',
  promotions: [WINDOW],
};

function state(extra: Partial<DeploymentState>): DeploymentState {
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

describe('the wait a watch is', () => {
  it('is the step it settles, numbered from 1 of the plan’s steps, until the window has begun', () => {
    const shift = { index: 1, percent: 50 } as NonNullable<DeploymentState['shift']>;
    const plan = { steps: [{}, {}, {}] } as NonNullable<DeploymentState['plan']>;
    expect(waitOf({ shift, plan })).toEqual({ kind: 'step', step: 2, of: 3, percent: 50 });
    expect(waitOf({ shift, plan, window: WINDOW_STATE })).toEqual({ kind: 'termination-window' });
  });
});

describe('promotions on record', () => {
  it('lists every promote once, oldest first: the step checks’, the window’s, and the last wait’s', () => {
    const recorded = state({
      check: { checkedAt: STEP_2.at, summary: 'ok', promotions: [STEP_1, STEP_2] },
      window: WINDOW_STATE,
      watch: { promoted: WINDOW },
    });
    expect(promotionsOf(recorded)).toEqual([STEP_1, STEP_2, WINDOW]);
    expect(stepPromotions(recorded)).toEqual({ promotions: [STEP_1, STEP_2] });
    expect(windowPromotion(recorded)).toEqual(WINDOW);
  });

  it('counts a wait that ran out, or a promoted step, as no promote of the window', () => {
    const timedOut = state({ watch: { Error: 'States.Timeout', Cause: '' } });
    expect(promotionsOf(timedOut)).toEqual([]);
    expect(stepPromotions(timedOut)).toEqual({});
    expect(windowPromotion(state({ watch: { promoted: STEP_2 } }))).toBeUndefined();
  });

  it('takes the last wait’s result as a promote only when it names the wait the state was in', () => {
    const lastStep = {
      shift: { index: 2, percent: 100 } as NonNullable<DeploymentState['shift']>,
      plan: { steps: [{}, {}, {}] } as NonNullable<DeploymentState['plan']>,
    };
    const STEP_3: Promotion = { ...STEP_1, wait: { kind: 'step', step: 3, of: 3, percent: 100 } };
    // A window promote sent to the last step's settle token: neither the step's nor the window's.
    const forged = state({ ...lastStep, watch: { promoted: WINDOW } });
    expect(lastWaitPromotion(forged)).toEqual({ ignored: WINDOW });
    expect(stepPromotions(forged)).toEqual({});
    expect(windowPromotion(forged)).toBeUndefined();
    expect(promotionsOf(forged)).toEqual([]);
    // Another step's promote sent to this step's token.
    expect(lastWaitPromotion(state({ ...lastStep, watch: { promoted: STEP_1 } }))).toEqual({
      ignored: STEP_1,
    });
    expect(stepPromotions(state({ ...lastStep, watch: { promoted: STEP_3 } }))).toEqual({
      promotions: [STEP_3],
    });
    // A step promote sent to a window wait's token.
    expect(
      lastWaitPromotion(state({ ...lastStep, window: WINDOW_STATE, watch: { promoted: STEP_3 } })),
    ).toEqual({
      ignored: STEP_3,
    });
  });

  it('takes what the rest of the wait was from its own end, and for the window from the window’s', () => {
    expect(skippedSeconds(STEP_1)).toBe(220);
    expect(skippedSeconds(WINDOW, WINDOW_STATE.endsAt)).toBe(3300);
    expect(skippedSeconds(WINDOW)).toBeUndefined();
  });
});

describe('the caller identity a promote takes', () => {
  it('is any non-empty text up to 1,024 characters', () => {
    expect(promoterProblem('arn:aws:sts::123456789012:assumed-role/oncall/alice')).toBeUndefined();
    expect(promoterProblem('x'.repeat(1024))).toBeUndefined();
    expect(promoterProblem('')).toMatch(/non-empty/);
    expect(promoterProblem(42)).toMatch(/non-empty string/);
    expect(promoterProblem('x'.repeat(1025))).toMatch(/1025 characters, more than the 1024 allowed/);
  });
});

describe('the final notification', () => {
  it('names who promoted which wait when, and how much of it was left, for any outcome', () => {
    const promoted = state({
      check: { checkedAt: STEP_1.at, summary: 'ok', promotions: [STEP_1] },
      window: WINDOW_STATE,
    });
    for (const outcome of ['succeeded', 'rolled-back'] as const) {
      const { lines } = buildReport(promoted, outcome, new Date('2026-03-02T10:00:00.000Z'));
      expect(lines.filter((line) => line.startsWith('Promoted'))).toEqual([
        'Promoted traffic step 1 of 3 (10 %): the rest of its wait skipped by "arn:aws:iam::123456789012:user/bob" at 2026-03-02T09:31:00.000Z (3m40s of it left); its checks still ran.',
        'Promoted the termination window: the rest of its wait skipped by "arn:aws:sts::123456789012:assumed-role/oncall/alice" at 2026-03-02T09:50:00.000Z (55m00s of it left); its checks still ran.',
      ]);
    }
  });

  it('says nothing of promotes when there were none', () => {
    const { lines } = buildReport(state({}), 'succeeded', new Date('2026-03-02T10:00:00.000Z'));
    expect(lines.some((line) => line.includes('Promoted'))).toBe(false);
  });
});
