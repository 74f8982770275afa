import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/exit-codes.ts';
import { configFromOutputs } from '../../scripts/config-from-stack.ts';
import { loadOwnApp, ownScenario } from '../../sim/own-config.ts';
import { findScenario, type Scenario } from '../../sim/scenarios.ts';
import { runScenario, type Summary, simulate } from '../../sim/simulate.ts';
import type { SimApp } from '../../sim/worlds.ts';
import { bluegreen } from '../support/cli.ts';
import { ROOT } from '../support/simulation.ts';

// A user's own config in the simulator: the simulated account is built from it, any valid config
// runs, and one the service would refuse is refused before anything runs, as Plan refuses it.
//
// Every call made in this process is evaluated against the service's roles as the simulated stack
// is deployed: for hosted zone Z0123456789ABCDEFGHIJ and record web.example.com (sim/iam/stack.ts).
// So the configs run here keep that zone and record and differ in everything else; shop/staging,
// with a zone and record of its own (a stack deployed for them), runs in child processes.

const ORDERS = join(ROOT, 'test/fixtures/configs/orders-qa.json');
const API = join(ROOT, 'test/fixtures/configs/api-canary-approved.json');
const SHOP = join(ROOT, 'test/fixtures/configs/shop-staging.json');

function scenario(name: string): Scenario {
  const found = findScenario(name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
}

async function own(file: string, app: string, env: string): Promise<SimApp> {
  const loaded = await loadOwnApp(file, app, env);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.own;
}

async function simulateCli(...args: string[]) {
  const run = await bluegreen('simulate', '--json', ...args);
  return { ...run, summary: JSON.parse(run.stdout) as Summary };
}

describe('bluegreen simulate --config', () => {
  it("deploys orders/qa with its own slots, launch template, fleet size, steps, waits, alarms and topic: SUCCEEDED, with npm run simulate's summary keys", async () => {
    const { code, summary } = await simulateCli('--config', ORDERS, '--app', 'orders', '--env', 'qa');
    const builtIn = await runScenario(scenario('happy'));
    expect(code).toBe(EXIT.ok);
    expect(Object.keys(summary)).toEqual(Object.keys(builtIn));
    expect(summary).toMatchObject({
      scenario: 'happy',
      status: 'SUCCEEDED',
      liveSlot: 'b',
      liveVersion: '1.1.0',
      weights: { a: 0, b: 100 },
      // instanceCount: 2, where the built-in world's blue has 3.
      running: { a: 0, b: 2, other: 0 },
      violations: [],
      problems: [],
    });
    expect(summary.notifications.map((n) => n.subject)).toEqual(['Deployed orders/qa 1.1.0']);
  });

  it('builds the account from the config: its record takes its steps, green launches from its template into its target group', async () => {
    const { summary, world } = await simulate(scenario('happy'), { own: await own(ORDERS, 'orders', 'qa') });
    expect(summary.status).toBe('SUCCEEDED');
    const green = world.route53.weightLog
      .filter((w) => w.name === 'web.example.com.' && w.setIdentifier === 'b')
      .map((w) => w.weight);
    expect(green).toEqual([0, 20, 40, 100]);
    const launched = [...world.ec2.instances.values()].filter((i) => i.launchTemplate !== 'seed');
    expect(launched.map((i) => i.launchTemplate)).toEqual(['orders-qa-fleet', 'orders-qa-fleet']);
    const groupB = world.elbv2.targetGroups.get(
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/orders-qa-two/4444444444444444',
    );
    expect([...(groupB?.registrations.keys() ?? [])].sort()).toEqual(launched.map((i) => i.id).sort());
    const toTopic = world.sns.messages.filter(
      (m) => m.topicArn === 'arn:aws:sns:us-east-1:123456789012:bluegreen-orders-alerts',
    );
    expect(toTopic.map((m) => m.subject)).toEqual(['Deployed orders/qa 1.1.0']);
  });

  it('deploys api/canary (AAAA records, four steps, approval at both stages, no alarms): approved, SUCCEEDED', async () => {
    const { code, summary } = await simulateCli('--config', API, '--app', 'api', '--env', 'canary');
    expect(code).toBe(EXIT.ok);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', liveSlot: 'b', weights: { a: 0, b: 100 } });
    expect(summary.approvals).toEqual([
      { stage: 'traffic-shift', decision: 'approved', approver: 'release-manager@example.net' },
      { stage: 'blue-termination', decision: 'approved', approver: 'release-manager@example.net' },
    ]);
    const api = await own(API, 'api', 'canary');
    const chosen = ownScenario('happy', api);
    if (!chosen.ok) throw new Error(chosen.reason);
    const { world } = await simulate(chosen.scenario, { own: api });
    expect(world.route53.weights('Z0123456789ABCDEFGHIJ', 'web.example.com', 'AAAA')).toEqual({
      a: 0,
      b: 100,
    });
    const green = world.route53.weightLog.filter((w) => w.setIdentifier === 'b').map((w) => w.weight);
    expect(green).toEqual([0, 5, 20, 60, 100]);
  });

  it('rolls back with any config: green-unhealthy exits with the rolled-back code', async () => {
    const { code, summary } = await simulateCli(
      '--config',
      ORDERS,
      '--app',
      'orders',
      '--env',
      'qa',
      '--scenario',
      'green-unhealthy',
    );
    expect(code).toBe(EXIT.rolledBack);
    expect(summary).toMatchObject({
      status: 'ROLLED_BACK',
      liveSlot: 'a',
      running: { a: 3, b: 0, other: 0 },
      violations: [],
    });
  });

  it('refuses a config the service would refuse before anything runs, with the problems Plan names', async () => {
    const config = JSON.parse(readFileSync(ORDERS, 'utf8'));
    config.traffic.steps = [50, 25];
    const path = join(mkdtempSync(join(tmpdir(), 'bluegreen-simulate-')), 'decreasing.json');
    writeFileSync(path, JSON.stringify(config));
    const run = await bluegreen('simulate', '--config', path, '--app', 'orders', '--env', 'qa', '--json');
    expect(run.code).toBe(EXIT.failed);
    const refused = JSON.parse(run.stdout) as {
      valid: boolean;
      problems: { field: string; message: string }[];
    };
    expect(refused.valid).toBe(false);
    expect(refused.problems.map((p) => p.field)).toEqual(['traffic.steps', 'traffic.steps']);
    // The service, given the same config, fails in Plan naming the same problems.
    const planned = await runScenario({
      ...scenario('happy'),
      name: 'refused-config',
      expect: 'FAILED',
      prepare: (ctx) => {
        ctx.config = config;
      },
    });
    expect(planned.status).toBe('FAILED');
    expect(planned.cause).toContain(
      `config/web/prod.json: ${refused.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
    );
  });

  it('refuses a scenario written for the built-in world, and app/env names the service would not take', async () => {
    const builtInOnly = await bluegreen('simulate', '--config', ORDERS, '--scenario', 'alarm-during-shift');
    expect(builtInOnly.code).toBe(EXIT.usage);
    expect(builtInOnly.stderr).toContain(
      'scenario "alarm-during-shift" is written for the built-in web/prod world',
    );
    const missing = await bluegreen('simulate', '--config', join(ROOT, 'nowhere.json'));
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stdout).toContain('(file): cannot read the file: no such file');
    const badName = await bluegreen('simulate', '--config', ORDERS, '--app', 'Orders App', '--json');
    expect(badName.code).toBe(EXIT.usage);
    expect(JSON.parse(badName.stdout).problems).toEqual([expect.objectContaining({ field: '--app/--env' })]);
  });

  it('deploys shop/staging, with a zone and record of its own, through npx bluegreen and npm run simulate', () => {
    const expected = {
      scenario: 'happy',
      status: 'SUCCEEDED',
      liveSlot: 'b',
      running: { a: 0, b: 2, other: 0 },
      notifications: [expect.objectContaining({ subject: 'Deployed shop/staging 1.1.0' })],
      metrics: [
        expect.objectContaining({
          dimensions: { service: 'bluegreen-ec2', app: 'shop', env: 'staging' },
          values: expect.arrayContaining([{ name: 'DeploymentSucceeded', unit: 'Count', value: 1 }]),
        }),
      ],
    };
    const names = ['--config', SHOP, '--app', 'shop', '--env', 'staging', '--json'];
    // Metrics enabled as in Lambda: the simulator records them, and stdout stays the report alone.
    const env = { ...process.env, POWERTOOLS_METRICS_DISABLED: 'false' };
    const run = (command: string, args: string[]) =>
      spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env });
    const bluegreen = run('npx', ['bluegreen', 'simulate', ...names]);
    expect(bluegreen.status).toBe(EXIT.ok);
    expect(JSON.parse(bluegreen.stdout)).toMatchObject(expected);
    const simulator = run(process.execPath, ['--import', 'tsx', 'sim/cli.ts', ...names]);
    expect(simulator.status).toBe(0);
    expect(simulator.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(simulator.stdout)).toMatchObject(expected);
  });

  it("deploys a config of another Region and account (the README's config from the app stack) in a child process", () => {
    const made = configFromOutputs(
      JSON.parse(readFileSync(join(ROOT, 'test/fixtures/app-stack-outputs.json'), 'utf8')),
    );
    if (!made.ok) throw new Error(made.problems.join('; '));
    const path = join(mkdtempSync(join(tmpdir(), 'bluegreen-simulate-')), 'eu-west-1.json');
    writeFileSync(path, JSON.stringify(made.config));
    const child = spawnSync('npx', ['bluegreen', 'simulate', '--config', path, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.status).toBe(EXIT.ok);
    expect(JSON.parse(child.stdout)).toMatchObject({ status: 'SUCCEEDED', liveSlot: 'b', violations: [] });
  });

  it("deploys the config from the group app stack's outputs in a child process: green's group behind its listener", () => {
    const made = configFromOutputs(
      JSON.parse(readFileSync(join(ROOT, 'test/fixtures/asg-app-stack-outputs.json'), 'utf8')),
    );
    if (!made.ok) throw new Error(made.problems.join('; '));
    const path = join(mkdtempSync(join(tmpdir(), 'bluegreen-simulate-')), 'asg.json');
    writeFileSync(path, JSON.stringify(made.config));
    // npm run simulate names the config's listener in the simulated stack's ListenerArns.
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', '--config', path, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.status).toBe(0);
    const summary = JSON.parse(child.stdout);
    expect(summary).toMatchObject({ status: 'SUCCEEDED', liveSlot: 'b', violations: [] });
    // Green's group made and blue's (seeded as an earlier deployment's) deleted.
    expect(summary.apiCalls).toMatchObject({
      'autoscaling:CreateAutoScalingGroup': 1,
      'autoscaling:DeleteAutoScalingGroup': 1,
    });
  });
});
