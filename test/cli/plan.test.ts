import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlanReport } from '../../cli/commands/plan.ts';
import { EXIT } from '../../cli/exit-codes.ts';
import { TAG } from '../../shared/domain/tags.ts';
import { evaluate } from '../../sim/iam/evaluate.ts';
import { OPERATOR_POLICY_TEMPLATE, operatorPolicies } from '../../sim/iam/operator.ts';
import { IamRecorder, roleArn } from '../../sim/iam/recorder.ts';
import { OPERATOR } from '../../sim/world.ts';
import { ALARM, buildProfile, defaultConfig, LAUNCH_TEMPLATE, TARGET_GROUPS } from '../../sim/worlds.ts';
import { readTemplate } from '../support/cfn-template.ts';
import { ARTIFACT, bluegreen, inAccount } from '../support/cli.ts';

const PLAN = ['plan', 'web', 'prod', '--json'];
const report = (ran: { json: () => Record<string, unknown> }) => ran.json() as unknown as PlanReport;

/** A config file beside the built-in one, changed by `change`. */
function configFile(change: (config: ReturnType<typeof defaultConfig>) => void): string {
  const config = defaultConfig();
  change(config);
  const file = join(mkdtempSync(join(tmpdir(), 'bluegreen-plan-')), 'web-prod.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

describe('bluegreen plan', () => {
  it('shows what is live and a deploy whose timeline follows the config, with no problem (exit 0)', () =>
    inAccount(async ({ bluegreen }) => {
      const ran = await bluegreen(...PLAN);
      expect(ran.code).toBe(EXIT.ok);
      const plan = report(ran);
      expect(plan).toMatchObject({
        app: 'web',
        env: 'prod',
        live: { slot: 'a', versions: ['1.0.0'] },
        slots: {
          a: { weight: 100, targets: { healthy: 3 }, versions: ['1.0.0'], owner: 'web/prod' },
          b: { weight: 0, targets: {}, versions: [] },
        },
        alarms: [{ name: ALARM, state: 'OK' }],
        launchTemplate: { id: 'lt-0123456789abcdef0', found: true },
        infrastructure: { instanceProfile: buildProfile().name, canReadReleases: 'yes' },
        deploy: { blue: 'a', green: 'b', instanceCount: 3 },
        problems: [],
      });
      // The built-in config's steps (10, 50, 100) each settle for its 5-minute step wait, then
      // the 1-hour window; the bake and health waits are at their limits (2 h, 15 min).
      const steps = plan.deploy?.timeline ?? [];
      expect(steps.map((s) => [s.atSeconds, s.waitSeconds, s.wait])).toEqual([
        [0, 7200, 'up-to'],
        [7200, 900, 'up-to'],
        [8100, 300, 'exact'],
        [8400, 300, 'exact'],
        [8700, 300, 'exact'],
        [9000, 3600, 'exact'],
        [12600, 0, 'up-to'],
      ]);
      expect(steps.slice(2, 5).map((s) => s.step)).toEqual(
        [10, 50, 100].map((p) => `shift ${p} % of traffic to slot b, then let it settle (alarms watched)`),
      );

      const text = await bluegreen('plan', 'web', 'prod');
      expect(text.code).toBe(EXIT.ok);
      expect(text.stdout).toContain('live: slot a, 1.0.0');
      expect(text.stdout).toContain('+2 h 15 min  shift 10 % of traffic to slot b');
      expect(text.stdout).toContain('no problem found');
    }));

  it('plans with --config FILE instead of the bucket config: its steps and approvals', () =>
    inAccount(async ({ bluegreen }) => {
      const file = configFile((config) => {
        config.traffic = { steps: [25, 100], stepWaitSeconds: 120 };
        config.approval = { before: ['traffic-shift'], approvers: ['alice@example.com'] };
      });
      const ran = await bluegreen(...PLAN, '--config', file);
      expect(ran.code).toBe(EXIT.ok);
      const plan = report(ran);
      expect(plan.config).toBe(file);
      expect(plan.deploy?.approvals).toMatchObject({ beforeShift: true, beforeTermination: false });
      expect(plan.deploy?.timeline.map((s) => s.step.split(',')[0])).toEqual([
        expect.stringContaining('bake'),
        expect.stringContaining('launch 3 instances'),
        'wait for approval to shift traffic',
        'shift 25 % of traffic to slot b',
        'shift 100 % of traffic to slot b',
        expect.stringContaining('termination window'),
        expect.stringContaining('terminate blue'),
      ]);
      expect(plan.deploy?.timeline[3]?.waitSeconds).toBe(120);
    }));

  it('names the rules a --config FILE breaks, with exit 1', () =>
    inAccount(async ({ bluegreen }) => {
      const file = configFile((config) => {
        config.traffic = { steps: [50, 25, 100] };
      });
      const ran = await bluegreen(...PLAN, '--config', file);
      expect(ran.code).toBe(EXIT.failed);
      expect(report(ran).problems).toEqual([
        expect.stringMatching(/^config\/web\/prod\.json: traffic\.steps: /),
      ]);
      expect(report(ran).deploy).toBeNull();
    }));

  it('names a missing alarm and an alarm in ALARM as problems, with exit 1', () =>
    inAccount(async ({ bluegreen, session }) => {
      const file = configFile((config) => {
        config.alarms = [ALARM, 'web-prod-latency'];
      });
      session.world.cloudwatch.setState(ALARM, 'ALARM', 'Threshold Crossed: 5xx above 1 %');
      const ran = await bluegreen(...PLAN, '--config', file);
      expect(ran.code).toBe(EXIT.failed);
      const plan = report(ran);
      expect(plan.alarms).toEqual([
        { name: ALARM, state: 'ALARM', reason: 'Threshold Crossed: 5xx above 1 %' },
        { name: 'web-prod-latency', state: 'missing' },
      ]);
      expect(plan.problems).toEqual([
        'config/web/prod.json: alarms: no CloudWatch alarm named "web-prod-latency"',
        expect.stringContaining(`"${ALARM}"`),
      ]);
    }));

  it('names a green slot that is not empty and a slot another app/env owns', () =>
    inAccount(async ({ bluegreen, session }) => {
      const { world } = session;
      const stray = world.ec2.seedInstance(
        { Name: 'by hand' },
        'ami-0abcdef1234567890',
        world.now() - 600_000,
      );
      world.elbv2.RegisterTargets({ TargetGroupArn: TARGET_GROUPS.b, Targets: [{ Id: stray.id }] });
      const b = world.elbv2.targetGroups.get(TARGET_GROUPS.b);
      if (b) Object.assign(b.tags, { [TAG.app]: 'shop', [TAG.env]: 'prod' });
      const ran = await bluegreen(...PLAN);
      expect(ran.code).toBe(EXIT.failed);
      const plan = report(ran);
      expect(plan.slots?.b).toMatchObject({ owner: 'shop/prod', targets: { initial: 1 } });
      expect(plan.problems).toEqual([
        expect.stringContaining('belongs to shop/prod'),
        expect.stringContaining(`green slot b's target group still has registered targets (${stray.id})`),
      ]);
    }));

  it('names the slots a running deployment holds', () =>
    inAccount(async ({ bluegreen, pass }) => {
      const name = (
        await bluegreen('deploy', ARTIFACT, '--app', 'web', '--env', 'prod', '--version', '2.0.0')
      ).stdout.split('\n')[0];
      // Half an hour in: the bake is done and green (slot b) takes traffic.
      await pass(30 * 60);
      const ran = await bluegreen(...PLAN);
      expect(ran.code).toBe(EXIT.failed);
      const plan = report(ran);
      expect(plan.slots?.b.claim).toMatchObject({ execution: name, version: '2.0.0' });
      expect(plan.problems).toContainEqual(
        expect.stringMatching(
          new RegExp(`^slot b's target group .* is claimed by .*${name}.*, which still runs`),
        ),
      );
    }));

  it('names a split it would not heal', () =>
    inAccount(async ({ bluegreen }) => {
      const ran = await bluegreen(...PLAN);
      expect(ran.code).toBe(EXIT.failed);
      const plan = report(ran);
      expect(plan.live).toEqual({ split: { a: 60, b: 40 } });
      expect(plan.deploy).toBeNull();
      expect(plan.problems).toEqual([expect.stringContaining('both slots carry traffic (a=60 b=40)')]);
    }, 'split-traffic-at-start'));

  it('plans a heal of a split the config lets it heal, before the bake', () =>
    inAccount(async ({ bluegreen }) => {
      const ran = await bluegreen(...PLAN);
      expect(ran.code).toBe(EXIT.ok);
      const steps = report(ran).deploy?.timeline.map((s) => s.step) ?? [];
      expect(steps[0]).toBe('heal the split (a=60 b=40): all traffic to slot a, slot b taken out of service');
      expect(steps[1]).toContain('bake');
    }, 'split-traffic-heal'));

  it('plans a first deploy: all traffic at once, nothing to terminate', () =>
    inAccount(async ({ bluegreen }) => {
      const ran = await bluegreen(...PLAN);
      expect(ran.code).toBe(EXIT.ok);
      const plan = report(ran);
      expect(plan.live).toBeNull();
      expect(plan.deploy).toMatchObject({ blue: null, green: 'a', instanceCount: 1 });
      expect(plan.deploy?.timeline.map((s) => s.step).slice(2)).toEqual([
        'shift 100 % of traffic to slot a, then let it settle (alarms watched)',
      ]);
    }, 'first-deploy'));

  it("plans a group fleet: green's group sized like blue's, and the operator policy allows plan's group reads", () =>
    inAccount(async ({ bluegreen, session }) => {
      // The asg world: the built-in app with fleet.kind autoScalingGroup, blue a group of 3.
      const [blue] = [...session.world.autoscaling.groups.values()];
      expect(blue).toMatchObject({ min: 2, max: 6, desired: 3 });
      const recorder = new IamRecorder().start();
      const ran = await bluegreen(...PLAN);
      recorder.stop();
      expect(ran.code).toBe(EXIT.ok);
      const plan = report(ran);
      expect(plan.problems).toEqual([]);
      expect(plan.deploy).toMatchObject({ blue: 'a', green: 'b', instanceCount: 3 });
      const group = plan.deploy?.group;
      expect(group).toEqual({
        name: expect.stringMatching(/^bluegreen-web-prod-b-/),
        desired: 3,
        min: 2,
        max: 6,
        subnets: LAUNCH_TEMPLATE.subnetId,
        gracePeriodSeconds: 300,
        blue: blue?.name,
      });

      const text = await bluegreen('plan', 'web', 'prod');
      expect(text.code).toBe(EXIT.ok);
      expect(text.stdout).toContain(
        `fleet: Auto Scaling group ${group?.name} (desired 3, min 2, max 6, grace 300 s, subnets ${LAUNCH_TEMPLATE.subnetId}); its minimum held at its size and blue's group ${blue?.name} at its own until the deploy ends`,
      );

      // Every call plan made as the operator, judged by the operator policy here as well as at the
      // end of the file: the group reads among them.
      const policies = operatorPolicies(
        readTemplate(OPERATOR_POLICY_TEMPLATE) as unknown as Record<string, unknown>,
      );
      const calls = recorder.recorded().filter((r) => r.fn === OPERATOR);
      expect(calls.map((r) => r.request.action)).toContain('autoscaling:DescribeAutoScalingGroups');
      for (const { request } of calls)
        expect([request.action, (await evaluate(roleArn(OPERATOR), policies, request)).decision]).toEqual([
          request.action,
          'Allowed',
        ]);
    }, 'asg-happy'));

  it("names an instance profile whose role cannot read the app/env's releases", () =>
    inAccount(async ({ bluegreen, session }) => {
      const profile = buildProfile();
      session.world.iam.rolePolicies.set(profile.roleArn, [
        {
          Statement: [
            { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::some-other-bucket/*' },
          ],
        },
      ]);
      const ran = await bluegreen(...PLAN);
      expect(ran.code).toBe(EXIT.failed);
      const plan = report(ran);
      expect(plan.infrastructure).toMatchObject({ canReadReleases: 'no' });
      expect(plan.problems).toEqual([
        expect.stringMatching(
          /^bake\.infrastructureConfigurationArn: instance profile web-prod-build's role .* may not s3:GetObject \(implicitDeny\), s3:GetObjectVersion \(implicitDeny\) on arn:aws:s3:::.*\/releases\/web\/prod\/\*: the bake could not download the release$/,
        ),
      ]);
      expect((await bluegreen('plan', 'web', 'prod')).stdout).toContain('can read the releases: no');
    }));

  it('says "could not check" when the operator may not ask IAM, and finds no problem in that', () =>
    inAccount(async ({ bluegreen, session }) => {
      session.world.inject({ service: 'iam', operation: 'GetInstanceProfile', kind: 'permanent', times: 1 });
      const ran = await bluegreen(...PLAN);
      expect(ran.code).toBe(EXIT.ok);
      expect(report(ran).infrastructure).toMatchObject({
        canReadReleases: 'could not check',
        detail: expect.stringContaining('AccessDenied'),
      });
    }));

  it('names a launch template and an infrastructure configuration that do not exist', () =>
    inAccount(async ({ bluegreen }) => {
      const file = configFile((config) => {
        config.launchTemplate = { name: 'web-prod-gone' };
        config.bake.infrastructureConfigurationArn =
          'arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/bluegreen-gone';
      });
      const ran = await bluegreen(...PLAN, '--config', file);
      expect(ran.code).toBe(EXIT.failed);
      expect(report(ran).launchTemplate).toMatchObject({ name: 'web-prod-gone', found: false });
      expect(report(ran).problems).toEqual([
        'launchTemplate: no launch template with name web-prod-gone: green could not be launched',
        'bake.infrastructureConfigurationArn: the infrastructure configuration does not exist: the bake could not run',
      ]);
    }));

  it('runs with --simulate against a fresh simulated account, and a --config it cannot read is a usage error', async () => {
    const ran = await bluegreen(...PLAN, '--simulate');
    expect(ran.code).toBe(EXIT.ok);
    expect(Object.keys(ran.json()).sort()).toEqual(
      [
        'alarms',
        'app',
        'config',
        'deploy',
        'env',
        'infrastructure',
        'launchTemplate',
        'live',
        'problems',
        'slots',
      ].sort(),
    );
    expect(report(ran).config).toMatch(
      /^s3:\/\/bluegreen-ec2-sim-releases-123456789012\/config\/web\/prod\.json/,
    );
    const missing = await bluegreen('plan', 'web', 'prod', '--simulate', '--config', '/nonexistent/x.json');
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain('--config /nonexistent/x.json: cannot read the file (ENOENT)');
  });
});
