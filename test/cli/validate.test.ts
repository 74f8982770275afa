import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '#shared/domain/config.ts';
import { EXIT } from '../../cli/exit-codes.ts';
import { SCHEMA_PATH } from '../../scripts/write-schema.ts';
import { bluegreen } from '../support/cli.ts';
import { ROOT } from '../support/simulation.ts';

// `bluegreen validate FILE`: the rules the service applies to a config before it reads the account,
// offline, each problem named with its field.

const EXAMPLE = join(ROOT, 'examples/web-prod.config.json');
const example = () => JSON.parse(readFileSync(EXAMPLE, 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'bluegreen-validate-'));

/** Writes `text` (a config, or not JSON at all) to a file and returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A file holding the example config changed by `change`. */
function changed(name: string, change: (config: ReturnType<typeof example>) => void): string {
  const config = example();
  change(config);
  return file(name, JSON.stringify(config));
}

async function validate(path: string, ...flags: string[]) {
  const run = await bluegreen('validate', path, '--json', ...flags);
  return { ...run, result: JSON.parse(run.stdout) as { file: string; valid: boolean; problems: unknown[] } };
}

describe('bluegreen validate', () => {
  it('accepts the example config with exit code 0', async () => {
    const run = await bluegreen('validate', EXAMPLE);
    expect(run).toMatchObject({ code: EXIT.ok, stdout: `${EXAMPLE}: valid\n` });
    expect((await validate(EXAMPLE)).result).toEqual({ file: EXAMPLE, valid: true, problems: [] });
  });

  it('refuses decreasing steps, naming traffic.steps', async () => {
    const path = changed('decreasing.json', (c) => {
      c.traffic.steps = [50, 25];
    });
    const { code, result } = await validate(path);
    expect(code).toBe(EXIT.failed);
    expect(result).toEqual({
      file: path,
      valid: false,
      problems: [
        { field: 'traffic.steps', message: 'steps must increase' },
        { field: 'traffic.steps', message: 'the last step must be 100' },
      ],
    });
  });

  it('names the file that is not JSON, with exit code 1', async () => {
    const path = file('broken.json', '{ "slots": ');
    const run = await bluegreen('validate', path);
    expect(run.code).toBe(EXIT.failed);
    expect(run.stdout).toMatch(new RegExp(`^${path}: 1 problem\\n  \\(file\\): not valid JSON: `));
  });

  it('tells a file that cannot be read from a config with problems (exit code 2)', async () => {
    const missing = await validate(join(dir, 'nowhere.json'));
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.result.problems).toEqual([
      { field: '(file)', message: 'cannot read the file: no such file' },
    ]);
    const directory = await validate(dir);
    expect(directory.code).toBe(EXIT.usage);
    expect(directory.result.problems).toEqual([
      { field: '(file)', message: 'cannot read the file: is a directory, not a file' },
    ]);
  });

  it('refuses an unknown key, as the service does', async () => {
    const path = changed('unknown.json', (c) => {
      c.traffic.stepWait = 60;
    });
    const { code, result } = await validate(path);
    expect(code).toBe(EXIT.failed);
    expect(result.problems).toEqual([
      { field: 'traffic', message: 'unknown field "stepWait" (the published JSON Schema lists every field)' },
    ]);
  });

  it('applies the rules across fields: one target group for both slots, id and name of the launch template', async () => {
    const path = changed('same-group.json', (c) => {
      c.slots.b.targetGroupArn = c.slots.a.targetGroupArn;
      c.launchTemplate.id = 'lt-0123456789abcdef0';
    });
    expect((await validate(path)).result.problems).toEqual([
      { field: 'launchTemplate', message: 'give exactly one of id or name' },
      { field: 'slots.b.targetGroupArn', message: 'slots a and b must use different target groups' },
    ]);
  });

  it("applies Plan's rule for the notification topic: in the slots' account and Region, named as the stack allows", async () => {
    const other = changed('other-topic.json', (c) => {
      c.notifications = { topicArn: 'arn:aws:sns:us-east-1:123456789012:team-alerts' };
    });
    expect((await validate(other)).result.problems).toEqual([
      {
        field: 'notifications.topicArn',
        message:
          'the service may publish only to topics named like "bluegreen-*" (stack parameter NotificationTopicNames), not "team-alerts"',
      },
    ]);
    expect((await validate(other, '--topic-names', 'team-*')).code).toBe(EXIT.ok);
    const elsewhere = changed('foreign-topic.json', (c) => {
      c.notifications = { topicArn: 'arn:aws:sns:us-east-1:999999999999:bluegreen-alerts' };
    });
    expect((await validate(elsewhere)).result.problems).toEqual([
      expect.objectContaining({
        field: 'notifications.topicArn',
        message: expect.stringContaining('not in this account (123456789012)'),
      }),
    ]);
    const ownTopic = changed('own-topic.json', (c) => {
      c.notifications = { topicArn: 'arn:aws:sns:eu-west-1:123456789012:bluegreen-ec2-staging-deployments' };
    });
    expect((await validate(ownTopic, '--stage', 'staging', '--region', 'eu-west-1')).code).toBe(EXIT.ok);
  });

  it('refuses waits beyond the bounds the lock is sized by (LIMITS, longestHoldSeconds)', async () => {
    const path = changed('too-long.json', (c) => {
      c.termination.waitSeconds = LIMITS.terminationWaitSeconds + 1;
      c.approval = {
        before: ['traffic-shift', 'blue-termination', 'traffic-shift'],
        approvers: ['a@example.com'],
        timeoutSeconds: LIMITS.approvalTimeoutSeconds + 1,
      };
    });
    const fields = (await validate(path)).result.problems.map((p) => (p as { field: string }).field);
    expect(fields.sort()).toEqual([
      'approval.before',
      'approval.before',
      'approval.timeoutSeconds',
      'termination.waitSeconds',
    ]);
  });

  it('keeps every problem on its line when the config holds newlines and bidi controls', async () => {
    const path = changed('hostile.json', (c) => {
      c['evil\nProblem: none\u202e'] = 1;
      c.dns.recordType = 'A\r\nvalid';
    });
    const run = await bluegreen('validate', path);
    expect(run.code).toBe(EXIT.failed);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      `${path}: 2 problems`,
      '  (root): unknown field "evil\\nProblem: none\\u202e" (the published JSON Schema lists every field)',
      expect.stringMatching(/^ {2}dns\.recordType: .*"A\\u000d\\u000avalid"$/),
    ]);
    expect(run.stdout).not.toMatch(/[\r\u202e]/);
  });

  it('runs as npx bluegreen, with its help and exit codes', () => {
    const npx = (...args: string[]) =>
      spawnSync('npx', ['bluegreen', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    const help = npx('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^ {2}validate \[options\] <file>/m);
    expect(help.stdout).toMatch(/^ {2}simulate \[options\]/m);
    expect(npx('validate', EXAMPLE).status).toBe(EXIT.ok);
    const path = changed('decreasing-npx.json', (c) => {
      c.traffic.steps = [50, 25];
    });
    const decreasing = npx('validate', path);
    expect(decreasing.status).toBe(EXIT.failed);
    expect(decreasing.stdout).toContain('traffic.steps: steps must increase');
    expect(npx('validate').status).toBe(EXIT.usage);
  });
});

describe('the published JSON Schema', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  const check = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')));
  const accepts = (change: (config: ReturnType<typeof example>) => void) => {
    const config = example();
    change(config);
    return check(config);
  };

  it('accepts the example config', () => {
    expect(accepts(() => undefined)).toBe(true);
  });

  it('states the rules across fields JSON Schema can: steps distinct and ending at 100, id or name, stages once, no ..', () => {
    expect(accepts((c) => (c.traffic.steps = [50, 25]))).toBe(false);
    expect(accepts((c) => (c.traffic.steps = [50, 50, 100]))).toBe(false);
    expect(accepts((c) => (c.traffic.steps = [100]))).toBe(true);
    expect(accepts((c) => (c.launchTemplate.id = 'lt-0123456789abcdef0'))).toBe(false);
    expect(accepts((c) => delete c.launchTemplate.name)).toBe(false);
    expect(
      accepts(
        (c) => (c.approval = { before: ['traffic-shift', 'traffic-shift'], approvers: ['a@example.com'] }),
      ),
    ).toBe(false);
    expect(accepts((c) => (c.bake.installDirectory = '/opt/../etc'))).toBe(false);
    expect(accepts((c) => (c.bake.installDirectory = '/opt/app..v2'))).toBe(true);
  });

  it('says which rules it cannot express, and that bluegreen validate applies them', () => {
    const { $comment } = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as { $comment: string };
    expect($comment).toContain('`bluegreen validate FILE` applies all of them');
    expect($comment).toContain('traffic.steps must increase');
    expect($comment).toContain('different target groups');
    expect($comment).toContain('notifications.topicArn');
    // What it cannot say, it lets through: only validate refuses these.
    expect(accepts((c) => (c.traffic.steps = [50, 25, 100]))).toBe(true);
    expect(accepts((c) => (c.slots.b.targetGroupArn = c.slots.a.targetGroupArn))).toBe(true);
  });
});
