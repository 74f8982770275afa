import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKFLOW_END_ERRORS } from '#shared/domain/workflow.ts';
import { CALLBACK_ERRORS, deploymentErrors } from '#shared/errors.ts';
import { loadDefinition, ROOT } from '../../sim/definition.ts';

interface Retrier {
  ErrorEquals: string[];
  MaxAttempts?: number;
}
interface State {
  Type: string;
  Retry?: Retrier[];
  Catch?: { ErrorEquals: string[] }[];
}

const { definition, tasks: functionOf } = loadDefinition();
const states = Object.entries(definition.States as Record<string, State>);
const tasks = states.filter(([, s]) => s.Type === 'Task');
const builtIn = (name: string) => /^(States|Lambda|Sandbox)\./.test(name);

function sources(dir: string): string {
  return readdirSync(dir)
    .map((entry) => join(dir, entry))
    .map((path) =>
      statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? readFileSync(path, 'utf8') : '',
    )
    .join('\n');
}
const code = sources(join(ROOT, 'shared')) + sources(join(ROOT, 'functions'));
const classes = new Map(deploymentErrors.map((E) => [new E('x').name, new E('x')]));

describe('error names shared by the code and the ASL', () => {
  it('every error class sets its name to its own class name, literally', () => {
    for (const E of deploymentErrors) {
      expect(new E('x').name).toBe(E.name);
      expect(code).toContain(`this.name = '${E.name}'`);
    }
  });

  it("the ends the code knows as the state machine's own are exactly its Fail states' errors", () => {
    const fails = states.filter(([, s]) => s.Type === 'Fail').map(([, s]) => (s as { Error?: string }).Error);
    expect(new Set(fails)).toEqual(new Set(WORKFLOW_END_ERRORS));
  });

  it('every name in a Retry or Catch is thrown somewhere in the code', () => {
    const named = new Set(
      states.flatMap(([, s]) => [...(s.Retry ?? []), ...(s.Catch ?? [])].flatMap((r) => r.ErrorEquals)),
    );
    const callbacks = Object.entries(CALLBACK_ERRORS);
    for (const name of [...named].filter((n) => !builtIn(n))) {
      const callback = callbacks.find(([, value]) => value === name);
      if (callback) {
        // Sent with SendTaskFailure to a parked execution, not thrown.
        expect(code).toMatch(new RegExp(`CALLBACK_ERRORS\\.${callback[0]}\\b`));
        continue;
      }
      expect(classes.has(name), `${name} is in the ASL but no error class has that name`).toBe(true);
      expect(code, `${name} is in the ASL but never thrown`).toMatch(new RegExp(`new ${name}\\(`));
    }
  });

  it('every retryable error is retried by every task that can throw it', () => {
    const retryable = [...classes.values()].filter((e) => e.retryable);
    expect(retryable.length).toBeGreaterThan(0);
    for (const [name, state] of tasks) {
      const retried = (state.Retry ?? [])
        .filter((r) => (r.MaxAttempts ?? 3) > 0)
        .flatMap((r) => r.ErrorEquals);
      const thrownHere = retryable
        .filter((e) => e.onlyIn === undefined || e.onlyIn === name)
        .filter((e) => e.onlyInFunction === undefined || e.onlyInFunction === functionOf[name])
        .map((e) => e.name);
      for (const error of thrownHere) {
        expect(
          retried.includes(error) || retried.includes('States.ALL'),
          `"${name}" does not retry ${error}`,
        ).toBe(true);
      }
    }
  });

  it('an error thrown by one state only names a state that exists', () => {
    for (const error of [...classes.values()].filter((e) => e.onlyIn)) {
      expect(states.map(([name]) => name)).toContain(error.onlyIn);
    }
  });

  it('an error thrown by one function only names a function some task state runs', () => {
    for (const error of [...classes.values()].filter((e) => e.onlyInFunction)) {
      expect(Object.values(functionOf)).toContain(error.onlyInFunction);
    }
  });

  it('no non-retryable error is retried', () => {
    const permanent = [...classes.values()].filter((e) => !e.retryable).map((e) => e.name);
    for (const [name, state] of tasks) {
      for (const retrier of state.Retry ?? []) {
        if ((retrier.MaxAttempts ?? 3) === 0) continue;
        for (const error of retrier.ErrorEquals) {
          expect(permanent.includes(error), `"${name}" retries ${error}, which cannot succeed on retry`).toBe(
            false,
          );
        }
      }
    }
  });

  it('every task catches everything, so no failure ends an execution without a notification', () => {
    for (const [name, state] of tasks) {
      expect(
        (state.Catch ?? []).some((c) => c.ErrorEquals.includes('States.ALL')),
        `"${name}" has no Catch for States.ALL`,
      ).toBe(true);
    }
  });
});
