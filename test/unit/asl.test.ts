import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { STATE } from '#shared/domain/states.ts';
import { renderAsl } from '../../scripts/write-asl.ts';
import { ASL_PATH, loadFunctionHandlers, ROLLBACK_ASL_PATH, readYaml } from '../../sim/definition.ts';
import type { States } from '../../statemachines/asl.ts';
import { deployMachine, rollbackMachine, rollbackPhase } from '../../statemachines/deploy.ts';

interface Transitions {
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
  Catch?: { Next: string }[];
}

/** Every state a transition of `states` names that `states` does not hold. */
function outside(states: States): string[] {
  const targets = Object.values(states as Record<string, Transitions>).flatMap((s) => [
    s.Next,
    s.Default,
    ...(s.Choices ?? []).map((c) => c.Next),
    ...(s.Catch ?? []).map((c) => c.Next),
  ]);
  return [...new Set(targets)].filter((name): name is string => name !== undefined && !(name in states));
}

describe('the state machine, written from statemachines/deploy.ts (npm run asl)', () => {
  it('is checked in as the command writes it', () => {
    expect(readFileSync(ASL_PATH, 'utf8')).toBe(renderAsl());
  });

  it('reads back from the YAML as the definition it was written from', () => {
    expect(readYaml(ASL_PATH)).toStrictEqual(JSON.parse(JSON.stringify(deployMachine())));
  });

  it('leads only to states it has, and has every state named in STATE', () => {
    const { States } = deployMachine();
    expect(outside(States)).toEqual([]);
    for (const name of Object.values(STATE)) expect(Object.keys(States)).toContain(name);
  });

  it('has a rollback phase that can be a state machine of its own: it leads nowhere outside itself', () => {
    const { startAt, states } = rollbackPhase();
    expect(Object.keys(states)).toContain(startAt);
    expect(outside(states)).toEqual([]);
  });

  it('writes the rollback state machine from the same rollback states, checked in as the command writes it', () => {
    expect(readFileSync(ROLLBACK_ASL_PATH, 'utf8')).toBe(renderAsl(rollbackMachine()));
    const { States, StartAt } = rollbackMachine();
    expect(StartAt).toBe(STATE.returnTraffic);
    expect(States).toStrictEqual(
      Object.fromEntries(
        Object.keys(rollbackPhase().states).map((name) => [
          name,
          deployMachine().States[name as keyof typeof States],
        ]),
      ),
    );
  });

  it('is bundled into no Lambda: functions read the state names, never the builder', async () => {
    const modules = Object.values(loadFunctionHandlers()).map((h) => h.module);
    const { metafile } = await build({
      entryPoints: [...new Set(modules)],
      bundle: true,
      write: false,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      outdir: 'unused',
      metafile: true,
      logLevel: 'error',
    });
    const inputs = Object.keys(metafile.inputs);
    expect(inputs).toContain('shared/domain/states.ts');
    expect(inputs.filter((path) => path.startsWith('statemachines/'))).toEqual([]);
  });
});
