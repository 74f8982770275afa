import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText, validateConfig } from '#shared/domain/config.ts';
import { renderSchema, SCHEMA_PATH } from '../../scripts/write-schema.ts';

const example = JSON.parse(
  readFileSync(new URL('../../examples/web-prod.config.json', import.meta.url), 'utf8'),
);

function problemsOf(config: unknown): string[] {
  const result = validateConfig(config);
  return result.ok ? [] : result.problems;
}

function without(path: string): unknown {
  const copy = structuredClone(example);
  const keys = path.split('.');
  const last = keys.pop() as string;
  const parent = keys.reduce((node, key) => node[key], copy);
  delete parent[last];
  return copy;
}

function withValue(path: string, value: unknown): unknown {
  const copy = structuredClone(example);
  const keys = path.split('.');
  const last = keys.pop() as string;
  const parent = keys.reduce((node, key) => node[key], copy);
  parent[last] = value;
  return copy;
}

describe('deployment config', () => {
  it('accepts the example and fills every default', () => {
    const result = validateConfig(example);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.dns).toMatchObject({ recordType: 'A', ttlSeconds: 60, evaluateTargetHealth: true });
    expect(result.config.bake).toMatchObject({
      installDirectory: '/opt/app',
      timeoutMinutes: 120,
      pollSeconds: 600,
    });
    expect(result.config.health.pollSeconds).toBe(15);
    expect(result.config.notifications).toEqual({});
  });

  it('defaults traffic to 10/50/100 with 5-minute steps and a one-hour termination window', () => {
    const result = validateConfig(without('traffic'));
    const config = result.ok ? result.config : undefined;
    expect(config?.traffic).toEqual({ steps: [10, 50, 100], stepWaitSeconds: 300, healSplit: false });
    expect(validateConfig(without('termination'))).toMatchObject({
      ok: true,
      config: { termination: { waitSeconds: 3600 } },
    });
  });

  it.each([
    ['no slot b', without('slots.b'), 'slots.b: is required'],
    ['slot b set to nothing', withValue('slots.b', undefined), 'slots.b: Invalid type: Expected Object'],
    [
      'a malformed target group ARN',
      withValue('slots.a.targetGroupArn', 'tg-web'),
      'slots.a.targetGroupArn: must be a target group ARN',
    ],
    [
      'the same target group in both slots',
      withValue('slots.b.targetGroupArn', example.slots.a.targetGroupArn),
      'slots.b.targetGroupArn: slots a and b must use different target groups',
    ],
    ['a hosted zone id in lower case', withValue('dns.hostedZoneId', 'z123'), 'dns.hostedZoneId'],
    [
      'both a launch template id and name',
      withValue('launchTemplate', { id: 'lt-0123456789abcdef0', name: 'web' }),
      'launchTemplate: give exactly one of id or name',
    ],
    [
      'steps that do not end at 100',
      withValue('traffic.steps', [10, 50]),
      'traffic.steps: the last step must be 100',
    ],
    ['steps that go down', withValue('traffic.steps', [50, 10, 100]), 'traffic.steps: steps must increase'],
    [
      'a termination wait over 48 hours',
      withValue('termination.waitSeconds', 172801),
      'termination.waitSeconds',
    ],
    ['an unknown field', withValue('trafic', {}), '(root): unknown field "trafic"'],
    ['an unknown nested field', withValue('dns.ttl', 30), 'dns: unknown field "ttl"'],
    ['a number where text goes', withValue('dns.recordName', 42), 'dns.recordName: Invalid type'],
    [
      'an install directory with ..',
      withValue('bake.installDirectory', '/opt/../etc'),
      'bake.installDirectory: must not contain ..',
    ],
    [
      'an install directory with a quote',
      withValue('bake.installDirectory', "/opt/app'; rm -rf /"),
      'bake.installDirectory',
    ],
    [
      'an alarm name with a control character',
      withValue('alarms', ['web\u0007']),
      'alarms.[0]: must not contain control characters',
    ],
    ['zero instances', withValue('instanceCount', 0), 'instanceCount'],
    ['a section given as an array', withValue('traffic', []), 'traffic: must be an object, not an array'],
    [
      'notifications as an array',
      withValue('notifications', []),
      'notifications: must be an object, not an array',
    ],
    ['a launch template as an array', withValue('launchTemplate', []), 'launchTemplate: must be an object'],
  ])('names the field when a config has %s', (_what, config, expected) => {
    expect(problemsOf(config).join('\n')).toContain(expected);
  });

  it('keeps each problem short when a field holds a huge value', () => {
    const [problem] = problemsOf(withValue('dns.recordType', 'X'.repeat(100_000)));
    expect(problem).toMatch(/^dns\.recordType: Invalid type: Expected \("A" \| "AAAA"\) but received "XXX/);
    expect(problem?.length).toBeLessThanOrEqual(300);
  });

  it('takes approvers whose address has an apostrophe or a plus', () => {
    const approval = {
      before: ['traffic-shift'],
      approvers: ["o'brien@example.com", 'ops+deploys@example.com'],
    };
    expect(validateConfig(withValue('approval', approval))).toMatchObject({ ok: true });
    expect(problemsOf(withValue('approval', { ...approval, approvers: ['not an address'] }))).toEqual([
      'approval.approvers.[0]: must be an email address, or the ARN of an IAM role (arn:aws:iam::ACCOUNT:role/NAME) or user (arn:aws:iam::ACCOUNT:user/NAME); for an assumed-role session, name its role',
    ]);
  });

  it('takes IAM role and user ARNs as approvers beside email addresses, as written', () => {
    const approvers = [
      'alice@example.com',
      'arn:aws:iam::123456789012:role/approvers/DeployApprover',
      'arn:aws:iam::123456789012:user/ops/bob',
    ];
    const result = validateConfig(withValue('approval', { before: ['traffic-shift'], approvers }));
    expect(result).toMatchObject({ ok: true, config: { approval: { approvers } } });
  });

  it.each([
    ['an assumed-role session', 'arn:aws:sts::123456789012:assumed-role/DeployApprover/alice'],
    ['the account root', 'arn:aws:iam::123456789012:root'],
    ['a wildcard', 'arn:aws:iam::123456789012:role/*'],
    ['an account of 11 digits', 'arn:aws:iam::12345678901:role/DeployApprover'],
    ['a group', 'arn:aws:iam::123456789012:group/approvers'],
    ['a role name of 65 characters', `arn:aws:iam::123456789012:role/${'r'.repeat(65)}`],
  ])('refuses %s as an approver, naming the field and what it must be', (_what, approver) => {
    const problems = problemsOf(
      withValue('approval', { before: ['traffic-shift'], approvers: ['alice@example.com', approver] }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^approval\.approvers\.\[1\]: must be an email address, or the ARN of an IAM role/,
    );
  });

  it('lists at most 20 problems and counts the rest', () => {
    const problems = problemsOf(
      withValue(
        'alarms',
        Array.from({ length: 50 }, () => 7),
      ),
    );
    expect(problems).toHaveLength(21);
    expect(problems.at(-1)).toBe('(more): 30 further problems not listed');
  });

  it('lists every problem at once', () => {
    const broken = withValue('traffic.steps', [10, 50]) as typeof example;
    broken.slots.a.targetGroupArn = 'nope';
    expect(problemsOf(broken)).toHaveLength(2);
  });

  it('refuses a config that is an array with one problem, not one per missing field', () => {
    expect(problemsOf([])).toEqual(['(root): must be an object, not an array']);
  });

  it('reports a file that is not JSON', () => {
    expect(parseConfigText('{ "slots": ')).toEqual({
      ok: false,
      problems: [expect.stringContaining('not valid JSON')],
    });
  });

  it('publishes a JSON Schema generated from the same schema (npm run schema)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(renderSchema());
  });
});
