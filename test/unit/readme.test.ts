import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTLE_AFTER_MS } from '#shared/domain/approval-outcome.ts';
import { validateConfig } from '#shared/domain/config.ts';
import { failedOnGreen, returnToBlue, VERDICTS_ON_GREEN } from '#shared/domain/return-to-blue.ts';
import { firingBeforeTraffic } from '#shared/domain/text.ts';
import { configFromOutputs } from '../../scripts/config-from-stack.ts';
import { readTemplate } from '../support/cfn-template.ts';

// What the README shows a new user must work as shown: its configs validate, the files it names
// exist, its commands name real scripts, templates and parameters, and the example templates lint
// clean.

const README = readFileSync('README.md', 'utf8');
const PACKAGE = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
const EXAMPLE_CONFIG = JSON.parse(readFileSync('examples/web-prod.config.json', 'utf8')) as Record<
  string,
  unknown
>;

interface CodeBlock {
  lang: string;
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The line before the fence, where a `<!-- ... -->` marker may say what the block is. */
  before: string;
}

function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]?.match(/^```(\S*)\s*$/);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end === -1) throw new Error(`README.md:${i + 1}: code block never closed`);
    blocks.push({
      lang: open[1] ?? '',
      text: lines.slice(i + 1, end).join('\n'),
      line: i + 1,
      before: lines[i - 1] ?? '',
    });
    i = end;
  }
  return blocks;
}

const blocks = codeBlocks(README);
const jsonBlocks = blocks.filter((b) => b.lang === 'json');

/** Shell commands of a text, each with its `\` continuations joined. */
function commands(text: string): string[] {
  return text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim());
}

const examplesYml = readdirSync('examples').filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));

describe('the README', () => {
  it('shows at least one whole deploy config', () => {
    expect(jsonBlocks.filter((b) => b.text.includes('"slots"')).length).toBeGreaterThan(0);
  });

  // A block with "slots" is a whole config; any other json block is a part of one (`"approval":
  // {...}`), checked inside the example config. A block marked `<!-- config-from-stack: FILE -->`
  // is what `npm run config:from-stack` prints for those outputs, exactly.
  it.each(jsonBlocks.map((b) => [b.line, b] as const))(
    'shows at line %i a config the service accepts',
    (_line, block) => {
      const marker = block.before.match(/^<!-- config-from-stack: (\S+) -->$/);
      if (marker?.[1]) {
        const result = configFromOutputs(JSON.parse(readFileSync(marker[1], 'utf8')));
        if (!result.ok) throw new Error(`${marker[1]}: ${result.problems.join('; ')}`);
        expect(block.text).toBe(JSON.stringify(result.config, null, 2));
      }
      const whole = block.text.includes('"slots"');
      const parsed = JSON.parse(whole ? block.text : `{${block.text}}`) as Record<string, unknown>;
      const checked = validateConfig(whole ? parsed : { ...EXAMPLE_CONFIG, ...parsed });
      expect(checked.ok ? [] : checked.problems).toEqual([]);
    },
  );

  it('names only example and fixture files that exist', () => {
    const named = [
      ...new Set(README.match(/\b(?:examples|test\/fixtures)\/[A-Za-z0-9._/-]+[A-Za-z0-9]/g) ?? []),
    ];
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((path) => !existsSync(path))).toEqual([]);
  });

  it('names every example template it deploys, and every one it deploys exists', () => {
    const deployed = [...README.matchAll(/--template-file (\S+)/g)].map((m) => m[1]);
    expect(deployed).toContain('examples/app-stack.cfn.yml');
    for (const path of deployed) expect(existsSync(path ?? ''), `${path}`).toBe(true);
  });

  it('runs only npm scripts that exist', () => {
    const run = [...README.matchAll(/npm run (?:--silent |-s )?([a-z][a-z:-]*)/g)].map((m) => m[1] ?? '');
    expect(run).toContain('config:from-stack');
    expect(run.filter((name) => !(name in PACKAGE.scripts))).toEqual([]);
  });
});

describe.each(
  [
    ...blocks.filter((b) => b.lang === 'sh').map((b) => ({ where: `README.md:${b.line}`, text: b.text })),
    ...examplesYml.map((f) => {
      // A template's header comment may show how it is deployed.
      const text = readFileSync(`examples/${f}`, 'utf8');
      const header = text
        .split('\n')
        .filter((l) => l.startsWith('#'))
        .map((l) => l.replace(/^# ?/, ''));
      return { where: `examples/${f} (header)`, text: header.join('\n') };
    }),
  ].flatMap(({ where, text }) =>
    commands(text)
      .filter((c) => c.startsWith('aws cloudformation deploy'))
      .map((command) => [where, command] as const),
  ),
)('the cloudformation deploy command in %s', (_where, command) => {
  const path = command.match(/--template-file (\S+)/)?.[1] ?? '';
  const template = readTemplate(path);
  const overrides = command.match(/--parameter-overrides (.*?)(?: --|$)/)?.[1]?.split(/\s+/) ?? [];
  const given = overrides.map((pair) => pair.split('=')[0] ?? '');

  it('gives only parameters the template has, and every one without a default', () => {
    expect(given.filter((name) => !(name in template.Parameters))).toEqual([]);
    const required = Object.entries(template.Parameters)
      .filter(([, p]) => p.Default === undefined)
      .map(([name]) => name);
    expect(required.filter((name) => !given.includes(name))).toEqual([]);
  });

  it('acknowledges the IAM resources the template creates', () => {
    const iam = Object.values(template.Resources).filter((r) => r.Type.startsWith('AWS::IAM::'));
    const named = iam.some((r) =>
      ['RoleName', 'InstanceProfileName', 'ManagedPolicyName', 'UserName', 'GroupName'].some(
        (key) => r.Properties && key in r.Properties,
      ),
    );
    const capabilities = command.match(/--capabilities (\S+)/)?.[1];
    if (iam.length === 0) expect(capabilities).toBeUndefined();
    else expect(capabilities).toBe(named ? 'CAPABILITY_NAMED_IAM' : 'CAPABILITY_IAM');
  });
});

// The Safety section's claims, tied to the code that keeps them: the words it quotes are the words
// the service writes, and the rules it states are the ones the code applies.
const SAFETY = (README.split('\n## Safety\n')[1]?.split('\n## ')[0] ?? '').replace(/\s+/g, ' ');
const source = (path: string) => readFileSync(path, 'utf8');

describe("the README's Safety section", () => {
  it('names only code files that exist', () => {
    const named = [...new Set(SAFETY.match(/\bshared\/[A-Za-z0-9._/-]+\.ts\b/g) ?? [])];
    expect(named).toContain('shared/domain/return-to-blue.ts');
    expect(named.filter((path) => !existsSync(path))).toEqual([]);
  });

  it('states the rollback rule as the code applies it: the verdicts on green, and the refusals quoted', () => {
    const verdicts = SAFETY.match(/the deployment failed on ((?:`\w+`(?:, | or )?)+)/)?.[1] ?? '';
    expect([...verdicts.matchAll(/`(\w+)`/g)].map((m) => m[1]).sort()).toEqual([...VERDICTS_ON_GREEN].sort());
    expect(SAFETY).toContain('or a person stopped the execution');
    expect(failedOnGreen({ status: 'ABORTED' })).toBe(true);
    const slots = { blue: 'a', green: 'b' } as const;
    // Blue with no healthy target; blue with one of three healthy when nothing says green failed.
    const refusals = [
      { blueHealthy: 0, greenFailed: true },
      { blueHealthy: 1, greenFailed: false },
    ].map(({ blueHealthy, greenFailed }) =>
      returnToBlue({
        slots,
        blue: { healthy: blueHealthy, registered: 3 },
        green: { healthy: 3, registered: 3 },
        minHealthyPercent: 100,
        greenFailed,
      }),
    );
    for (const refusal of refusals) {
      expect(refusal.toBlue).toBe(false);
      expect(SAFETY).toContain(`\`${refusal.why.split(' (')[0]}\``);
    }
    // The example the section gives: 2 of 3 healthy, and green's alarm fired.
    expect(SAFETY).toContain(
      'a blue with 2 of its 3 targets healthy takes the traffic back from a green whose alarm fired',
    );
    expect(
      returnToBlue({
        slots,
        blue: { healthy: 2, registered: 3 },
        green: { healthy: 3, registered: 3 },
        minHealthyPercent: 100,
        greenFailed: failedOnGreen({ error: 'AlarmTriggered' }),
      }).toBlue,
    ).toBe(true);
  });

  it('quotes the cause an alarm firing before traffic moved gives, and the moments it is checked', () => {
    expect(SAFETY).toContain(`\`${firingBeforeTraffic([]).replace(/: $/, '')}\``);
    expect(source('shared/tasks/launch-green.ts')).toContain("'before launching green'");
    expect(source('shared/tasks/shift-traffic.ts')).toContain("'right before the first traffic step'");
    expect(SAFETY).toContain('`checked before launching green`');
    expect(SAFETY).toContain('`checked right before the first traffic step`');
  });

  it('quotes the refusal of a release key written twice as Plan words it', () => {
    expect(SAFETY).toContain('release keys are immutable: upload this build under a new version');
    expect(source('shared/tasks/plan-deployment.ts')).toContain(
      'release keys are immutable: upload this build under a new version',
    );
  });

  it('says how an unknown approval outcome is shown and when an unanswered wait counts as open again', () => {
    expect(SETTLE_AFTER_MS).toBe(60_000);
    expect(SAFETY).toContain('A wait still open a minute after the answer means it never arrived');
    expect(SAFETY).toContain('the page answers 503 "Outcome not known yet" (`Retry-After: 60`)');
    const page = source('shared/tasks/approval-page.ts');
    expect(page).toContain("'Outcome not known yet'");
    expect(page).toContain("{ 'retry-after': '60' }");
    expect(SAFETY).toContain('the record goes from `PENDING` to `DECIDING`');
    // claimDecision: a conditional update from PENDING to DECIDING.
    const table = source('shared/aws/dynamodb.ts');
    expect(table).toContain("':deciding': 'DECIDING'");
    expect(table).toContain("':pending': 'PENDING'");
  });
});

describe('the commands the README shows', () => {
  it('writes with `npm run --silent config:from-stack` a file holding only the config', () => {
    const shown = commands(README).find((c) => c.startsWith('npm run --silent config:from-stack'));
    expect(shown).toBe('npm run --silent config:from-stack -- --outputs outputs.json > config.json');
    const run = spawnSync(
      'npm',
      ['run', '--silent', 'config:from-stack', '--', '--outputs', 'test/fixtures/app-stack-outputs.json'],
      { encoding: 'utf8' },
    );
    expect(run.status).toBe(0);
    // The whole of stdout is the config: npm's banner would break the JSON.
    expect(validateConfig(JSON.parse(run.stdout)).ok).toBe(true);
  });
});

describe('the example files', () => {
  it.each(readdirSync('examples').filter((f) => f.endsWith('.config.json')))(
    'examples/%s is a config the service accepts',
    (file) => {
      const checked = validateConfig(JSON.parse(readFileSync(`examples/${file}`, 'utf8')));
      expect(checked.ok ? [] : checked.problems).toEqual([]);
    },
  );

  it('examples/approver.policy.json is an identity policy that names only the decision route and the stack', () => {
    const policy = JSON.parse(readFileSync('examples/approver.policy.json', 'utf8')) as {
      Statement: { Effect: string; Action: string; Resource: string }[];
    };
    expect(policy.Statement.map((s) => [s.Effect, s.Action])).toEqual([
      ['Allow', 'execute-api:Invoke'],
      ['Allow', 'cloudformation:DescribeStacks'],
    ]);
    expect(policy.Statement.every((s) => !s.Resource.includes('*') || s.Resource.endsWith('-STAGE/*'))).toBe(
      true,
    );
  });

  it('examples/*.yml lint clean with cfn-lint: no error, warning or informational finding', (ctx) => {
    const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    const available = version.status === 0;
    if (!available && process.env.BLUEGREEN_REQUIRE_CFN_LINT) {
      throw new Error('cfn-lint is not on PATH and BLUEGREEN_REQUIRE_CFN_LINT is set');
    }
    ctx.skip(
      !available,
      'cfn-lint is not on PATH, so examples/*.yml were NOT linted: install cfn-lint 1.x (pip install cfn-lint)',
    );
    expect(examplesYml.length).toBeGreaterThan(0);
    const lint = spawnSync(
      'cfn-lint',
      ['--include-checks', 'I', '--', ...examplesYml.map((f) => `examples/${f}`)],
      { encoding: 'utf8' },
    );
    // cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational findings.
    expect(`${lint.stdout}${lint.stderr}`).toBe('');
    expect(lint.status).toBe(0);
  });
});
