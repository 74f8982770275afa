import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '#shared/domain/config.ts';
import {
  allowedStretches,
  deadlineOf,
  LONGEST_DRAIN_SECONDS,
  RETRY_MARGIN_SECONDS,
} from '#shared/domain/deadline.ts';
import { forwardAction, type ListenerAction, readForward } from '#shared/domain/listener.ts';
import { buildPlan } from '#shared/domain/plan.ts';
import type { PinnedDeployment } from '#shared/domain/workflow.ts';
import { UnsafeToDeploy } from '#shared/errors.ts';
import { unmanagedListener } from '#shared/tasks/plan-deployment.ts';
import { ALB_OUTPUT_FIELDS, configFromOutputs } from '../../scripts/config-from-stack.ts';
import { readTemplate } from '../support/cfn-template.ts';

// traffic.mode alb: the config's rules, the pure decisions about the listener's forward action
// (what it holds, what a step writes), and the plan a listener gives.

const example = JSON.parse(readFileSync('examples/web-prod-alb.config.json', 'utf8'));
const records = JSON.parse(readFileSync('examples/web-prod.config.json', 'utf8'));
const TG = {
  a: example.slots.a.targetGroupArn as string,
  b: example.slots.b.targetGroupArn as string,
};
const LISTENER = example.listener.listenerArn as string;
const RULE = `${LISTENER.replace(':listener/', ':listener-rule/')}/9683b2d02a6cabee`;

function problemsOf(config: unknown): string[] {
  const result = validateConfig(config);
  return result.ok ? [] : result.problems;
}

const forward = (
  a: number,
  b: number,
  stickiness?: { Enabled: boolean; DurationSeconds?: number },
): ListenerAction => ({
  Type: 'forward',
  ForwardConfig: {
    TargetGroups: [
      { TargetGroupArn: TG.a, Weight: a },
      { TargetGroupArn: TG.b, Weight: b },
    ],
    ...(stickiness ? { TargetGroupStickinessConfig: stickiness } : {}),
  },
});

describe('a traffic.mode alb config', () => {
  it('is accepted with a listener and no records or load balancers of its own', () => {
    expect(problemsOf(example)).toEqual([]);
  });

  it('may name a rule of its listener instead of the default action', () => {
    expect(problemsOf({ ...example, listener: { listenerArn: LISTENER, ruleArn: RULE } })).toEqual([]);
  });

  it('is refused naming a rule of another listener', () => {
    const other = RULE.replace('f2f7dc8efc522ab2', '0000000000000001');
    expect(problemsOf({ ...example, listener: { listenerArn: LISTENER, ruleArn: other } })).toEqual([
      'listener.ruleArn: must be a rule of listener.listenerArn',
    ]);
  });

  it('is refused without a listener, with records, or with a load balancer per slot', () => {
    const { listener: _listener, ...withoutListener } = example;
    expect(problemsOf(withoutListener)).toEqual(['listener: required with traffic.mode alb']);
    expect(problemsOf({ ...example, dns: records.dns })).toEqual([
      'dns: only for traffic.mode route53: in alb mode the listener splits the traffic; remove dns',
    ]);
    const slots = { ...example.slots, a: records.slots.a };
    expect(problemsOf({ ...example, slots })).toEqual([
      'slots.a.loadBalancer: only for traffic.mode route53: in alb mode both target groups sit behind the listener; remove it',
    ]);
  });

  it('is refused naming a Network Load Balancer listener or something that is no listener', () => {
    const net = LISTENER.replace('listener/app/', 'listener/net/');
    expect(problemsOf({ ...example, listener: { listenerArn: net } })[0]).toMatch(
      /^listener\.listenerArn: must be an Application Load Balancer listener ARN/,
    );
    expect(problemsOf({ ...example, listener: { listenerArn: TG.a } })).toHaveLength(1);
  });

  it('in route53 mode (the default) still needs its records and load balancers, and no listener', () => {
    expect(problemsOf(records)).toEqual([]);
    const { dns: _dns, ...withoutRecords } = records;
    expect(problemsOf(withoutRecords)).toEqual(['dns: required with traffic.mode route53 (the default)']);
    expect(problemsOf({ ...records, listener: example.listener })).toEqual([
      'listener: only for traffic.mode alb: set traffic.mode to alb, or remove listener',
    ]);
  });
});

describe("reading the listener's forward action", () => {
  it('reads both weights and the stickiness', () => {
    expect(readForward([forward(90, 10, { Enabled: true, DurationSeconds: 600 })], TG)).toMatchObject({
      ok: true,
      weights: { a: 90, b: 10 },
      stickinessSeconds: 600,
    });
    expect(readForward([forward(0, 100, { Enabled: false, DurationSeconds: 600 })], TG)).toMatchObject({
      weights: { a: 0, b: 100 },
      stickinessSeconds: 0,
    });
  });

  it('reads a forward to one target group as 100 % on it, the other slot absent', () => {
    expect(readForward([{ Type: 'forward', TargetGroupArn: TG.b }], TG)).toMatchObject({
      ok: true,
      weights: { a: null, b: 1 },
    });
  });

  it('reads a fixed response (before the first deploy) as no slot carrying traffic', () => {
    const reading = readForward([{ Type: 'fixed-response' }], TG);
    expect(reading).toEqual({
      ok: true,
      weights: { a: null, b: null },
      stickinessSeconds: 0,
      action: undefined,
    });
  });

  it('refuses a forward to a target group that is neither slot’s', () => {
    const foreign = TG.a.replace('web-prod-a', 'billing-a');
    const reading = readForward([{ Type: 'forward', TargetGroupArn: foreign }], TG);
    expect(reading).toEqual({
      ok: false,
      problem: `it forwards to target group ${foreign}, which is neither slot's`,
    });
  });

  it('refuses an action list it would have to rewrite whole: an authenticate action before the forward, a redirect', () => {
    const authenticated = readForward([{ Type: 'authenticate-oidc', Order: 1 }, forward(100, 0)], TG);
    expect(authenticated.ok ? '' : authenticated.problem).toMatch(
      /^its actions must be one forward action .*\(found: authenticate-oidc, forward\)/,
    );
    const redirect = readForward([{ Type: 'redirect' }], TG);
    expect(redirect.ok ? '' : redirect.problem).toMatch(/^its action is redirect, not forward/);
    expect(readForward([], TG).ok).toBe(false);
  });
});

describe('the forward action a step writes', () => {
  it('holds both target groups with their weights, keeping the stickiness and order it replaces', () => {
    const replaced = { ...forward(90, 10, { Enabled: true, DurationSeconds: 600 }), Order: 2 };
    expect(forwardAction({ a: 50, b: 50 }, TG, replaced)).toEqual({
      Type: 'forward',
      Order: 2,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: TG.a, Weight: 50 },
          { TargetGroupArn: TG.b, Weight: 50 },
        ],
        TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 600 },
      },
    });
  });

  it('replaces a fixed response with a plain weighted forward', () => {
    expect(forwardAction({ a: 100, b: 0 }, TG, undefined)).toEqual({
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: TG.a, Weight: 100 },
          { TargetGroupArn: TG.b, Weight: 0 },
        ],
      },
    });
  });

  it('is never all zero, and never outside ALB’s 0-999', () => {
    expect(() => forwardAction({ a: 0, b: 0 }, TG, undefined)).toThrow(/all-zero/);
    expect(() => forwardAction({ a: 1000, b: 0 }, TG, undefined)).toThrow(/0-999/);
    expect(() => forwardAction({ a: -1, b: 101 }, TG, undefined)).toThrow(/0-999/);
  });
});

describe('the plan of a traffic.mode alb deployment', () => {
  const parsed = validateConfig(example);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const deployment: PinnedDeployment = {
    deploymentId: 'web-prod-1_1_0-0123456789',
    app: 'web',
    env: 'prod',
    version: '1.1.0',
    format: 'zip',
    artifact: { bucket: 'releases-123', key: 'releases/web/prod/1.1.0.zip', versionId: 'v1' },
  };
  const plan = (stickinessSeconds: number, stepWaitSeconds = 300) =>
    buildPlan({
      deployment,
      config: { ...parsed.config, traffic: { ...parsed.config.traffic, stepWaitSeconds } },
      configVersionId: 'v-config',
      weights: { a: 100, b: 0 },
      blueTargetCount: 3,
      defaultTopicArn: 'arn:aws:sns:us-east-1:1:t',
      now: new Date('2026-03-02T09:00:00Z'),
      stickinessSeconds,
    });

  it('writes the listener, waits only each step’s own wait, and leaves a slot after the stickiness', () => {
    const p = plan(600, 30);
    expect(p.dns).toBeUndefined();
    expect(p.listener).toEqual({ listenerArn: LISTENER, stickinessSeconds: 600 });
    expect(p.leaveSeconds).toBe(600);
    // No record TTL to wait for: a 30 s step wait stays 30 s.
    expect(p.steps).toEqual([
      { percent: 10, settleSeconds: 30 },
      { percent: 50, settleSeconds: 30 },
      { percent: 100, settleSeconds: 30 },
    ]);
  });

  it('counts the window checks made while sticky clients leave blue, before the window begins', () => {
    const p = plan(600, 30);
    const { waitSeconds, checkIntervalSeconds, maxChecks } = p.termination;
    // Checked from the last step's settle on: the stickiness, then the window, and one late check.
    expect(maxChecks).toBeGreaterThanOrEqual(Math.ceil((600 - 30 + waitSeconds) / checkIntervalSeconds) + 1);
    expect(plan(0, 30).termination.maxChecks).toBe(Math.ceil(waitSeconds / checkIntervalSeconds) + 2);
  });

  it('leaves a slot at once without stickiness', () => {
    expect(plan(0).leaveSeconds).toBe(0);
  });

  it('refuses a stickiness longer than the service waits for clients to leave a slot', () => {
    expect(() => plan(7200)).toThrow(UnsafeToDeploy);
    expect(() => plan(7200)).toThrow(/keeps a client on its target group for 7200 s .* at most 3600 s/);
  });

  it('gives a deadline with no Route 53 wait: each step its settle time, the end the stickiness and a drain', () => {
    const p = plan(600);
    const stretches = allowedStretches(p);
    const step = stretches.find((s) => s.what.startsWith('traffic step 1'));
    expect(step?.seconds).toBe(300 + RETRY_MARGIN_SECONDS);
    expect(stretches.at(-1)?.seconds).toBe(600 + LONGEST_DRAIN_SECONDS + 300 + RETRY_MARGIN_SECONDS);
    expect(p.deadline).toBe(deadlineOf(p, new Date('2026-03-02T09:00:00Z')));
  });

  it('refuses a listener the stack parameter ListenerArns does not name', () => {
    expect(unmanagedListener({ listenerArn: LISTENER }, [LISTENER])).toBeUndefined();
    expect(unmanagedListener({ listenerArn: LISTENER, ruleArn: RULE }, [LISTENER])).toMatch(
      /^listener\.ruleArn: .* is not among the listeners and rules the service may change \(its stack parameter ListenerArns\)/,
    );
  });
});

describe('examples/alb-app-stack.cfn.yml', () => {
  const template = readTemplate('examples/alb-app-stack.cfn.yml');
  const resources = template.Resources;

  it('has one load balancer, both slots’ target groups tagged as the service’s, and no records', () => {
    const types = Object.values(resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toHaveLength(1);
    expect(types.filter((t) => t === 'AWS::Route53::RecordSet')).toHaveLength(0);
    for (const id of ['TargetGroupA', 'TargetGroupB']) {
      expect(resources[id]?.Properties?.Tags).toContainEqual({
        Key: 'bluegreen:managed-by',
        Value: 'bluegreen-ec2',
      });
    }
  });

  it('starts with a listener that answers with a fixed response, which the service reads as nothing live yet', () => {
    const actions = resources.HttpsListener?.Properties?.DefaultActions as ListenerAction[];
    expect(actions.map((a) => a.Type)).toEqual(['fixed-response']);
    expect(readForward(actions, TG)).toMatchObject({ ok: true, weights: { a: null, b: null } });
  });

  it('outputs one output per config field, each described by the field it is, and the load balancer’s name', () => {
    const outputs = template.Outputs as Record<string, { Description: string }>;
    const { LoadBalancerDnsName, ...fields } = outputs;
    expect(LoadBalancerDnsName?.Description).toMatch(/not a config field/);
    expect(Object.fromEntries(Object.entries(fields).map(([key, o]) => [key, o.Description]))).toEqual(
      ALB_OUTPUT_FIELDS,
    );
  });
});

describe('config-from-stack with the alb app stack’s outputs', () => {
  const outputs = JSON.parse(readFileSync('test/fixtures/alb-app-stack-outputs.json', 'utf8')) as {
    OutputKey: string;
    OutputValue: string;
  }[];
  const value = (key: string) => outputs.find((o) => o.OutputKey === key)?.OutputValue;

  it('has a fixture with exactly the outputs the template declares', () => {
    const template = readTemplate('examples/alb-app-stack.cfn.yml');
    expect(outputs.map((o) => o.OutputKey).sort()).toEqual(Object.keys(template.Outputs).sort());
  });

  it('writes a traffic.mode alb config the service accepts, each field from its output', () => {
    const result = configFromOutputs(outputs);
    if (!result.ok) throw new Error(result.problems.join('; '));
    expect(result.config).toEqual({
      slots: {
        a: { targetGroupArn: value('SlotATargetGroupArn') },
        b: { targetGroupArn: value('SlotBTargetGroupArn') },
      },
      traffic: { mode: 'alb' },
      listener: { listenerArn: value('ListenerArn') },
      launchTemplate: { id: value('LaunchTemplateId') },
      bake: {
        infrastructureConfigurationArn: value('BakeInfrastructureConfigurationArn'),
        parentImage: value('BakeParentImage'),
        installCommand: value('BakeInstallCommand'),
      },
    });
    expect(problemsOf(result.config)).toEqual([]);
  });

  it('over a route53 base config keeps its steps and alarms, not its records', () => {
    const result = configFromOutputs(outputs, records);
    if (!result.ok) throw new Error(result.problems.join('; '));
    expect(result.config).not.toHaveProperty('dns');
    expect(result.config).toMatchObject({
      traffic: { ...records.traffic, mode: 'alb' },
      alarms: records.alarms,
      termination: records.termination,
    });
  });

  it('names every output missing, and the template they come from', () => {
    const partial = outputs.filter((o) => o.OutputKey !== 'SlotBTargetGroupArn');
    expect(configFromOutputs(partial)).toEqual({
      ok: false,
      problems: [
        'outputs: missing SlotBTargetGroupArn (are these the outputs of a stack made from examples/alb-app-stack.cfn.yml?)',
      ],
    });
  });
});
