import { describe, expect, it } from 'vitest';
import { findScenario, type Scenario } from '../../sim/scenarios.ts';
import { simulate } from '../../sim/simulate.ts';
import type { World } from '../../sim/world.ts';
import { releaseKey } from '../../sim/worlds.ts';

// Told, not lost: uploads the starter ignores, through the whole simulated service (S3 deliveries
// retried as Lambda retries them, the real handlers, the state machine never started).

function ignoredMessages(world: World) {
  return world.sns.messages.filter((m) => m.attributes.outcome === 'ignored');
}

function scenario(name: string): Scenario {
  const found = findScenario(name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
}

describe('uploads the service ignores', () => {
  it('bad-key: each hostile key is told once, naming it, and nothing starts or changes', async () => {
    const { summary, world } = await simulate(scenario('bad-key'));

    expect(summary.problems).toEqual([]);
    expect(summary.status).toBe('IGNORED');
    expect(world.sfn.executions.size).toBe(0);
    const told = ignoredMessages(world);
    expect(told.map((m) => m.message.split('\n').find((line) => line.startsWith('Key: ')))).toEqual([
      'Key: "releases/Web App/prod/1.1.0.zip"',
      'Key: "releases/web/prod/../../config/web/prod.zip"',
      'Key: "releases/web/prod/1.1.0.zip.exe"',
      'Key: "releases/web/prod/%E0%A4%A.zip"',
    ]);
  });

  it('a bad key and a release of an unknown app/env, each delivered twice: two messages, nothing started', async () => {
    const { summary, world } = await simulate({
      ...scenario('bad-key'),
      name: 'ignored-delivered-twice',
      act: (ctx) => {
        const bad = ctx.upload('releases/web/prod/1.1.0 final.zip');
        const unknown = ctx.upload(releaseKey('1.1.0', 'zip', 'billing'), 'PK\u0003\u0004 billing 1.1.0');
        ctx.deliver([bad]);
        ctx.deliver([unknown]);
        // S3 delivers at least once: the same events again, 45 s later.
        ctx.deliver([structuredClone(bad)], 45);
        ctx.deliver([structuredClone(unknown)], 45);
      },
    });

    expect(summary.problems).toEqual([]);
    expect(world.sfn.executions.size).toBe(0);
    const told = ignoredMessages(world);
    expect(told.map((m) => [m.subject, m.attributes.reason])).toEqual([
      ['Upload ignored: not a release artifact key', 'key'],
      ['Upload ignored: no config for billing/prod', 'config'],
    ]);
    expect(told[0]?.message).toContain('Key: "releases/web/prod/1.1.0 final.zip"');
    expect(told[1]?.message).toContain('Key: "releases/billing/prod/1.1.0.zip"');
    expect(world.calls.filter((c) => ['RunInstances', 'CreateImage'].includes(c.operation))).toEqual([]);
  });
});
