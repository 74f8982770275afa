import { execFileSync, spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { targetOf } from '../../cli/commands/wait.ts';
import { parseDuration } from '../../cli/duration.ts';
import { EXIT } from '../../cli/exit-codes.ts';
import { deploymentEnd, EXIT_OF_OUTCOME, rollbackEnd } from '../../cli/outcome.ts';
import { makeOutput, type Streams } from '../../cli/output.ts';
import { executionName, executionNamePrefix, redeployExecutionName } from '../../shared/domain/identity.ts';
import { WORKFLOW_END_ERRORS } from '../../shared/domain/workflow.ts';
import { bluegreen } from '../support/cli.ts';
import { nameArbitrary, versionArbitrary } from '../support/names.ts';
import { ROOT } from '../support/simulation.ts';

const COMMANDS = ['deploy', 'wait', 'status', 'history', 'abort'];

describe('the bluegreen command line', () => {
  it('npx bluegreen --help lists the commands and the exit codes', () => {
    const help = execFileSync('npx', ['--no-install', 'bluegreen', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    for (const command of COMMANDS) expect(help).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    expect(help).toContain(' 3  rolled back');
  });

  it.each(COMMANDS)('%s --help names its global flags and exits 0', async (command) => {
    const ran = await bluegreen(command, '--help');
    expect(ran.code).toBe(EXIT.ok);
    for (const flag of ['--region', '--profile', '--stage', '--json', '--simulate', '--scenario'])
      expect(ran.stdout).toContain(flag);
  });

  it('an unknown command is a usage error', async () => {
    expect((await bluegreen('deploy-now')).code).toBe(EXIT.usage);
  });

  it('--simulate runs any command against a fresh simulated account: wait follows the built-in upload', async () => {
    const ran = await bluegreen('wait', 'web', 'prod', '1.1.0', '--simulate', '--json');
    expect(ran.code).toBe(EXIT.ok);
    expect(ran.json()).toMatchObject({ outcome: 'succeeded' });
    const status = await bluegreen('status', '--simulate', '--json');
    expect(status.json()).toMatchObject({
      appEnvs: [{ app: 'web', env: 'prod', running: { version: '1.1.0' } }],
    });
  });

  it('--scenario without --simulate, and an unknown scenario, are usage errors', async () => {
    expect((await bluegreen('status', '--scenario', 'happy', '--region', 'us-east-1')).code).toBe(EXIT.usage);
    const unknown = await bluegreen('status', '--simulate', '--scenario', 'no-such');
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toContain('no scenario "no-such"; one of: happy,');
  });
});

describe('what the command line decides', () => {
  it('every end of the state machines has its own outcome, and each outcome its exit code', () => {
    const outcomes = WORKFLOW_END_ERRORS.map((error) => deploymentEnd('FAILED', error));
    expect(new Set(outcomes).size).toBe(WORKFLOW_END_ERRORS.length);
    expect(deploymentEnd('SUCCEEDED', undefined)).toBe('succeeded');
    expect(deploymentEnd('RUNNING', undefined)).toBe('running');
    for (const [status, error] of [
      ['ABORTED', 'AbortedByOperator'],
      ['TIMED_OUT', undefined],
      ['FAILED', 'States.DataLimitExceeded'],
    ] as const)
      expect(deploymentEnd(status, error)).toBe('recovering');
    expect(rollbackEnd('FAILED', 'DeploymentRolledBack')).toBe('rolled-back');
    expect(rollbackEnd('FAILED', 'RollbackFailed')).toBe('rollback-failed');
    expect(rollbackEnd('ABORTED', undefined)).toBe('rollback-failed');
    expect(EXIT_OF_OUTCOME['rolled-back']).toBe(EXIT.rolledBack);
  });

  it.each([
    ['90m', 90 * 60_000],
    ['2h', 7_200_000],
    ['3600s', 3_600_000],
    ['1h30m', 5_400_000],
  ])('--timeout %s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '0s', '90', '5x', '1.5h', '30m1h', '721h'])('--timeout %j is refused', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration/);
  });

  it('wait takes an execution, or an app, env and version', () => {
    expect(targetOf(['web-prod-2_0_0-0123456789'])).toEqual({ execution: 'web-prod-2_0_0-0123456789' });
    expect(targetOf(['web', 'prod', '2.0.0'])).toEqual({ app: 'web', env: 'prod', version: '2.0.0' });
    expect(() => targetOf(['web', 'prod'])).toThrow(/EXECUTION .* or APP ENV VERSION/);
  });
});

describe('execution names the command line searches by', () => {
  it('an upload and its redeploys share the prefix of their release, however long the version', () => {
    const ref = { bucket: 'b', key: 'releases/a/b/c.zip', versionId: 'v1' };
    fc.assert(
      fc.property(nameArbitrary, nameArbitrary, versionArbitrary, (app, env, version) => {
        const prefix = executionNamePrefix(app, env, version);
        expect(executionName(app, env, version, ref).startsWith(prefix)).toBe(true);
        expect(redeployExecutionName(app, env, version, ref, 'request').startsWith(prefix)).toBe(true);
      }),
    );
    const long = 'v'.repeat(64);
    expect(
      redeployExecutionName('web', 'prod', long, ref, 'r').startsWith(
        executionNamePrefix('web', 'prod', long),
      ),
    ).toBe(true);
  });
});

describe('where the command line writes', () => {
  it('colours progress by whether stderr is a terminal, not stdout', () => {
    const terminal = Object.assign(new PassThrough(), {
      isTTY: true,
      getColorDepth: () => 8,
      hasColors: () => true,
    });
    const file = new PassThrough();
    const env = { ...process.env };
    delete process.env.FORCE_COLOR;
    delete process.env.NO_COLOR;
    try {
      const toFile = makeOutput(false, { stdout: terminal, stderr: file } as unknown as Streams);
      expect(toFile.style('red', 'x')).toBe('x');
      const toTerminal = makeOutput(false, { stdout: file, stderr: terminal } as unknown as Streams);
      expect(toTerminal.style('red', 'x')).not.toBe('x');
    } finally {
      process.env = env;
    }
  });

  it('ends quietly with 0 when the reader closes the pipe early (| head)', async () => {
    const child = spawn('node', ['bin/bluegreen.mjs', '--help'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});

it('simulate --help names the exit codes it uses', async () => {
  const help = (await bluegreen('simulate', '--help')).stdout.replace(/\s+/g, ' ');
  expect(help).toContain('exit 0 succeeded, 3 rolled back, 1 any other end');
  expect(help).toContain('2 unknown scenario');
});
