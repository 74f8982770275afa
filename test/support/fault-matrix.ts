import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE } from '#shared/domain/states.ts';
import type { SimExecution } from '../../sim/aws/sfn.ts';
import { loadDefinition, ROLLBACK_ASL_PATH } from '../../sim/definition.ts';
import { findScenario, type Scenario, type Status } from '../../sim/scenarios.ts';
import { type Summary, simulate } from '../../sim/simulate.ts';
import { ambientFault } from '../../sim/world.ts';

/**
 * Every Task state of the ASL × every kind of fault, each run through the simulator on a base
 * scenario that reaches the state. Generated from the ASL: a new state is covered without editing
 * this file (and fails here if no base scenario reaches it). The rollback state machine's Task
 * states too, faulted only in the rollback execution the recovery starts after a Stop.
 */

const FAULTS = [
  'throttling',
  'transient',
  'permanent',
  'lambda-timeout',
  'lambda-crash',
  'delivered-twice',
] as const;
type Fault = (typeof FAULTS)[number];

/** Faults the retries must absorb: the run ends as the base scenario does. */
const ABSORBED: Fault[] = ['throttling', 'transient', 'lambda-timeout', 'lambda-crash', 'delivered-twice'];

/** Which scenarios a matrix runs its faults on. */
export interface MatrixBases {
  /** What the matrix is of, for its title. */
  title: string;
  /** Base scenarios, in order of preference; each Task state is tested on the first that reaches it. */
  bases: string[];
  /** Base scenarios for the rollback execution's states. */
  rollbackBases: string[];
  /**
   * The Task states the bases must reach: every one (undefined), or these (a matrix of one kind
   * of fleet, whose other states are the same code as the other matrix's).
   */
  mustReach?: string[];
}

const { definition, tasks } = loadDefinition();
const rollbackTasks = loadDefinition(ROLLBACK_ASL_PATH).tasks;
interface AslState {
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
}
const states = definition.States as Record<string, AslState>;
const taskStates = Object.keys(tasks);

/** What a permanent failure of the state must lead to, read from where its Catch goes. */
interface Expected {
  status: Status;
  /** Invariants the run may break, honestly: a rollback or cleanup that cannot finish. */
  breaks: boolean;
  /** Whether the cause can list what is left (not when the notifier itself is what failed). */
  listsLeftovers: boolean;
}

/**
 * The states between the heal's traffic write and the bake, read from the ASL: a deploy that fails
 * there has moved traffic but not yet cleared the other slot, and must say what is left.
 */
function healCleanupStates(): Set<string> {
  const found = new Set<string>();
  const walk = (name: string | undefined) => {
    if (!name || name === STATE.bake || found.has(name)) return;
    found.add(name);
    const state = states[name];
    walk(state?.Next);
    walk(state?.Default);
    for (const choice of state?.Choices ?? []) walk(choice.Next);
  };
  walk(states[STATE.heal]?.Next);
  return found;
}
const afterHeal = healCleanupStates();

function expectedOnPermanent(state: string, base: Summary): Expected {
  const next = states[state]?.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'))?.Next ?? '';
  if (next === STATE.returnTraffic) return { status: 'ROLLED_BACK', breaks: false, listsLeftovers: false };
  if (next === STATE.notifyFailed)
    return afterHeal.has(state)
      ? { status: 'FAILED', breaks: true, listsLeftovers: true }
      : { status: 'FAILED', breaks: false, listsLeftovers: false };
  if (next === STATE.notifyRollbackFailed) return { status: 'FAILED', breaks: true, listsLeftovers: true };
  if (next === STATE.notifyCleanupFailed) return { status: 'FAILED', breaks: true, listsLeftovers: true };
  // A notification that fails changes nothing but the message.
  return { status: base.status, breaks: base.violations.length > 0, listsLeftovers: false };
}

function inject(state: string, fault: Fault, inRollback = false) {
  let attempts = 0;
  return async (call: { state: string; execution: SimExecution }, invoke: () => Promise<unknown>) => {
    if (call.state !== state || (inRollback && call.execution.deployment === undefined)) return invoke();
    attempts += 1;
    const first = attempts === 1;
    switch (fault) {
      case 'throttling':
        return first ? ambientFault.run('throttle', invoke) : invoke();
      case 'transient':
        return first ? ambientFault.run('transient', invoke) : invoke();
      case 'permanent':
        return ambientFault.run('permanent', invoke);
      case 'lambda-timeout': {
        // The function did its work, then ran out of time before it could answer.
        const result = await invoke();
        if (!first) return result;
        throw Object.assign(new Error('Task timed out after 60.00 seconds'), { name: 'Sandbox.Timedout' });
      }
      case 'lambda-crash':
        if (first)
          throw Object.assign(new Error('Lambda was unable to start the function'), {
            name: 'Lambda.ServiceException',
          });
        return invoke();
      case 'delivered-twice':
        // At-least-once: the same invocation runs twice; every side effect must be idempotent.
        if (first) await invoke();
        return invoke();
    }
  };
}

/**
 * The matrix over `matrix`'s bases. A matrix with `mustReach` runs the states its bases reach
 * among those (the others are the other matrix's); without it, every Task state.
 */
export function faultMatrix(matrix: MatrixBases): void {
  /** The states this matrix faults: every one, or those it must reach. */
  const reached = (_inRollback: boolean) => (state: string) =>
    matrix.mustReach === undefined || matrix.mustReach.includes(state);
  const bases = new Map<string, { scenario: Scenario; summary: Summary; visited: Set<string> }>();
  const coverage = new Map<string, string>();
  const rollbackCoverage = new Map<string, string>();
  const outcomes: Record<string, number> = {};

  beforeAll(async () => {
    for (const name of [...matrix.bases, ...matrix.rollbackBases]) {
      const scenario = findScenario(name);
      if (!scenario) throw new Error(`no scenario ${name}`);
      const { summary, world } = await simulate(scenario);
      const machine = matrix.rollbackBases.includes(name) ? world.sfn.rollbacks : world.sfn.executions;
      const visited = new Set([...machine.values()].flatMap((e) => e.states.map((s) => s.name)));
      bases.set(name, { scenario, summary, visited });
    }
    for (const state of taskStates) {
      const base = matrix.bases.find((name) => bases.get(name)?.visited.has(state));
      if (base) coverage.set(state, base);
    }
    for (const state of Object.keys(rollbackTasks)) {
      const base = matrix.rollbackBases.find((name) => bases.get(name)?.visited.has(state));
      if (base) rollbackCoverage.set(state, base);
    }
  });

  afterAll(() => {
    const total = Object.values(outcomes).reduce((a, b) => a + b, 0);
    console.log(
      `fault matrix (${matrix.title}): (${taskStates.length} deploy + ${Object.keys(rollbackTasks).length} rollback task states) × ${FAULTS.length} faults = ${total} cases; outcomes ${JSON.stringify(outcomes)}`,
    );
  });

  describe(`the fault matrix (${matrix.title})`, () => {
    it('reaches every Task state of the ASL from some base scenario', () => {
      if (matrix.mustReach) {
        expect(
          matrix.mustReach.filter((state) => !coverage.has(state) && !rollbackCoverage.has(state)),
        ).toEqual([]);
        return;
      }
      expect([...afterHeal].filter((state) => taskStates.includes(state)).length).toBeGreaterThan(0);
      expect(taskStates.filter((state) => !coverage.has(state))).toEqual([]);
      expect(Object.keys(rollbackTasks).filter((state) => !rollbackCoverage.has(state))).toEqual([]);
      expect(taskStates.length * FAULTS.length).toBeGreaterThanOrEqual(100);
    });

    describe.each([
      ...taskStates.filter(reached(false)).map((state) => ({ state, inRollback: false, title: state })),
      ...Object.keys(rollbackTasks)
        .filter(reached(true))
        .map((state) => ({
          state,
          inRollback: true,
          title: `${state} (rollback execution)`,
        })),
    ])('$title', ({ state, inRollback }) => {
      it.each(FAULTS)('%s', async (fault) => {
        const baseName = (inRollback ? rollbackCoverage : coverage).get(state);
        const base = baseName ? bases.get(baseName) : undefined;
        if (!base) throw new Error(`no base scenario reaches "${state}"`);
        const baseBreaks = base.summary.violations.length > 0;
        const expected: Expected = ABSORBED.includes(fault)
          ? { status: base.summary.status, breaks: baseBreaks, listsLeftovers: baseBreaks }
          : expectedOnPermanent(state, base.summary);
        const { summary, world } = await simulate(
          {
            ...base.scenario,
            expect: expected.status,
            breaksInvariants: expected.breaks,
            // A deploy that fails puts no new version live.
            expectLive: ABSORBED.includes(fault) ? base.scenario.expectLive : undefined,
          },
          { intercept: inject(state, fault, inRollback) },
        );
        outcomes[summary.status] = (outcomes[summary.status] ?? 0) + 1;
        if (fault !== 'permanent' && fault !== 'delivered-twice') {
          // The fault was felt: the state machine retried the task.
          expect(summary.retries).toBeGreaterThan(base.summary.retries);
        }
        expect(summary.status, summary.cause ?? '').toBe(expected.status);
        if (expected.breaks) {
          if (expected.listsLeftovers) expect(summary.cause).toContain('Left for a person:');
        } else {
          expect(summary.violations).toEqual([]);
          expect(summary.running.other).toBe(0);
        }
        expect(summary.problems).toEqual([]);
        // One outcome, one message: whatever the fault, every execution's end is told exactly once
        // (a retry after a timeout, or the invocation delivered twice, tells nobody again), except
        // when publishing is what fails for good.
        const told = new Map<string, number>();
        for (const message of world.sns.messages.filter((m) => m.attributes.outcome)) {
          const name = message.attributes.deployment ?? '(unnamed)';
          told.set(name, (told.get(name) ?? 0) + 1);
        }
        for (const execution of world.sfn.executions.values()) {
          const ran = inRollback ? world.sfn.rollbackOf(execution.name) : execution;
          const silenced =
            fault === 'permanent' &&
            (inRollback ? rollbackTasks : tasks)[state] === 'notify' &&
            (ran?.states ?? []).some((entered) => entered.name === state);
          expect(told.get(execution.name) ?? 0, `final notifications of ${execution.name}`).toBe(
            silenced ? 0 : 1,
          );
        }
        expect([...told.keys()].filter((name) => !world.sfn.executions.has(name))).toEqual([]);
        if (ABSORBED.includes(fault) && base.summary.liveVersion)
          expect(summary.liveVersion).toBe(base.summary.liveVersion);
      });
    });
  });
}
