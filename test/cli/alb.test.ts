import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlanReport } from '../../cli/commands/plan.ts';
import { EXIT } from '../../cli/exit-codes.ts';
import { ALB_STICKINESS_SECONDS, appNames } from '../../sim/worlds.ts';
import { bluegreen, inAccount } from '../support/cli.ts';
import { ROOT } from '../support/simulation.ts';

// `bluegreen validate` and `bluegreen plan` in traffic.mode alb: the same rules and the same read
// of the account as the service's, the listener's forward action in place of the records.

const EXAMPLE = join(ROOT, 'examples/web-prod-alb.config.json');
const RECORDS_EXAMPLE = join(ROOT, 'examples/web-prod.config.json');
const dir = mkdtempSync(join(tmpdir(), 'bluegreen-alb-'));
const report = (ran: { json: () => Record<string, unknown> }) => ran.json() as unknown as PlanReport;

function file(name: string, config: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

describe('bluegreen validate, traffic.mode alb', () => {
  it('accepts the alb example with exit code 0', async () => {
    const run = await bluegreen('validate', EXAMPLE);
    expect(run).toMatchObject({ code: EXIT.ok, stdout: `${EXAMPLE}: valid\n` });
  });

  it('refuses weighted records beside the listener, and a listener without traffic.mode alb, naming each field', async () => {
    const alb = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
    const records = JSON.parse(readFileSync(RECORDS_EXAMPLE, 'utf8'));
    const both = file('both.json', { ...alb, dns: records.dns });
    const ran = await bluegreen('validate', both, '--json');
    expect(ran.code).toBe(EXIT.failed);
    expect(ran.json()).toEqual({
      file: both,
      valid: false,
      problems: [
        {
          field: 'dns',
          message: 'only for traffic.mode route53: in alb mode the listener splits the traffic; remove dns',
        },
      ],
    });
    const modeless = file('modeless.json', { ...records, listener: alb.listener });
    const refused = await bluegreen('validate', modeless, '--json');
    expect(refused.code).toBe(EXIT.failed);
    expect(refused.json()).toMatchObject({
      problems: [
        {
          field: 'listener',
          message: 'only for traffic.mode alb: set traffic.mode to alb, or remove listener',
        },
      ],
    });
  });
});

describe('bluegreen plan, traffic.mode alb', () => {
  it('reads the weights off the listener and shows the stickiness waited out before the window', () =>
    inAccount(async ({ bluegreen }) => {
      const ran = await bluegreen('plan', 'web', 'prod', '--json');
      expect(ran.code).toBe(EXIT.ok);
      const plan = report(ran);
      expect(plan).toMatchObject({
        live: { slot: 'a', versions: ['1.0.0'] },
        slots: { a: { weight: 100 }, b: { weight: 0 } },
        deploy: {
          blue: 'a',
          green: 'b',
          instanceCount: 3,
          traffic: {
            mode: 'alb',
            source: `listener ${appNames().listenerArn}`,
            leaveSeconds: ALB_STICKINESS_SECONDS,
          },
        },
        problems: [],
      });
      // Each step settles its own 5 minutes (no record TTL); sticky clients then need 5 more
      // minutes (600 s from the last write) before the one-hour window begins.
      const steps = plan.deploy?.timeline ?? [];
      expect(steps.slice(2).map((s) => [s.waitSeconds, s.step.split(' (')[0]])).toEqual([
        [300, 'shift 10 % of traffic to slot b, then let it settle'],
        [300, 'shift 50 % of traffic to slot b, then let it settle'],
        [300, 'shift 100 % of traffic to slot b, then let it settle'],
        [300, 'let clients stuck to slot a'],
        [3600, 'termination window: slot a'],
        [0, 'deregister and terminate blue'],
      ]);
      const text = await bluegreen('plan', 'web', 'prod');
      expect(text.stdout).toContain('traffic: alb, the forward action of listener ');
    }, 'alb-happy'));

  it('sees a first deploy in a listener that answers with a fixed response', () =>
    inAccount(async ({ bluegreen }) => {
      const plan = report(await bluegreen('plan', 'web', 'prod', '--json'));
      expect(plan).toMatchObject({
        live: null,
        slots: { a: { weight: null }, b: { weight: null } },
        deploy: { blue: null, green: 'a', instanceCount: 1 },
        problems: [],
      });
    }, 'alb-first-deploy'));
});
