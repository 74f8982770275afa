import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATE } from '#shared/domain/states.ts';
import { EXIT } from '../../cli/exit-codes.ts';
import type { SimExecution } from '../../sim/aws/sfn.ts';
import type { World } from '../../sim/world.ts';
import { type Account, ARTIFACT, bluegreen, inAccount } from '../support/cli.ts';

// approve, reject, promote and redeploy against a simulated account: the commands' SDK clients
// and signed requests routed into the world, the real ASL and handlers on the virtual clock; every
// call judged by the operator policy (the decision API evaluates execute-api:Invoke with it).
// Each test leaves no deployment running: the one a session stops when it ends has the same name
// as the next test's (the same release in a fresh world), and its recovery could still be under
// way when the next session's clients are routed.

/** Whom the simulated STS names the caller: a session of the operator role. */
const OPERATOR_ARN = 'arn:aws:sts::123456789012:assumed-role/operator/alice';

const deploy = (account: Account, version: string, ...more: string[]) =>
  account.bluegreen('deploy', ARTIFACT, '--app', 'web', '--env', 'prod', '--version', version, ...more);

/** Lets time pass, 10 s at a time, until `done` (at most `seconds`). */
async function passUntil(account: Account, done: () => boolean, seconds: number): Promise<void> {
  for (let s = 0; s < seconds && !done(); s += 10) await account.pass(10);
  if (!done()) {
    const executions = [...account.session.world.sfn.executions.values()].map(
      (e) =>
        `${e.name} ${e.status} at ${JSON.stringify(e.states.at(-1)?.name)} ${e.error ?? ''} ${e.cause ?? ''}`,
    );
    throw new Error(`not so within ${seconds} s; executions: ${executions.join(', ') || 'none'}`);
  }
}

/** The newest execution of the deploy state machine. */
function newest(world: World): SimExecution {
  const all = [...world.sfn.executions.values()];
  const last = all.at(-1);
  if (!last) throw new Error('no execution started');
  return last;
}

function entered(execution: SimExecution, state: string, nth = 0): number | undefined {
  return execution.states.filter((s) => s.name === state)[nth]?.at;
}

/** Whether the newest deployment has entered its first step's settle wait. */
const settling = (world: World) =>
  world.sfn.executions.size > 0 && entered(newest(world), STATE.settle) !== undefined;

const approvalAsked = (world: World) =>
  world.sns.messages.some(
    (m) => m.attributes.kind === 'approval-request' && m.attributes.approver === 'terminal',
  );

const imageBuilds = (world: World) => world.calls.filter((c) => c.operation === 'CreateImage').length;

describe('bluegreen approve and reject, from a terminal', () => {
  /** Deploys 2.0.0 in approval-terminal, and decides as the operator once the approval is asked. */
  const decide = (decision: 'approve' | 'reject') =>
    inAccount(async (account) => {
      expect((await deploy(account, '2.0.0')).code).toBe(EXIT.ok);
      await passUntil(account, () => approvalAsked(account.session.world), 3 * 3600);
      const ran = await account.bluegreen(
        decision,
        'web',
        'prod',
        '--comment',
        'Looks good\nApproved: all',
        '--json',
      );
      const waited = await account.bluegreen('wait', 'web', 'prod', '2.0.0', '--since', '6h', '--json');
      return { ran, waited, world: account.session.world };
    }, 'approval-terminal');

  it('approve decides as the caller, and the deployment goes on to SUCCEEDED', async () => {
    const { ran, waited } = await decide('approve');
    expect(ran.code).toBe(EXIT.ok);
    expect(ran.json()).toMatchObject({
      kind: 'decided',
      decision: 'approved',
      approver: OPERATOR_ARN,
      comment: 'Looks good\nApproved: all',
      exitCode: 0,
    });
    expect(waited.code).toBe(EXIT.ok);
    expect(waited.json()).toMatchObject({ outcome: 'succeeded' });
  });

  it('--version and --approval decide nothing unless that approval is the one waiting', () =>
    inAccount(async (account) => {
      expect((await deploy(account, '2.0.0')).code).toBe(EXIT.ok);
      await passUntil(account, () => approvalAsked(account.session.world), 3 * 3600);
      const stage = await account.bluegreen(
        'approve',
        'web',
        'prod',
        '--approval',
        'blue-termination',
        '--json',
      );
      expect(stage.code).toBe(EXIT.failed);
      expect(stage.json()).toMatchObject({
        kind: 'not-this-approval',
        deployment: { version: '2.0.0', stage: 'traffic-shift' },
      });
      const version = await account.bluegreen('approve', 'web', 'prod', '--version', '1.9.0', '--json');
      expect(version.json()).toMatchObject({ kind: 'not-this-approval', asked: { version: '1.9.0' } });
      const bad = await account.bluegreen('approve', 'web', 'prod', '--approval', 'later');
      expect(bad.code).toBe(EXIT.usage);
      // The approval still waits: the right answer decides it.
      const right = await account.bluegreen('approve', 'web', 'prod', '--version', '2.0.0', '--json');
      expect(right.json()).toMatchObject({ kind: 'decided', decision: 'approved' });
      await account.bluegreen('wait', 'web', 'prod', '2.0.0', '--since', '6h');
    }, 'approval-terminal'));

  it('reject decides as the caller, and the deployment rolls back', async () => {
    const { ran, waited, world } = await decide('reject');
    expect(ran.code).toBe(EXIT.ok);
    expect(ran.json()).toMatchObject({ kind: 'decided', decision: 'rejected', approver: OPERATOR_ARN });
    expect(waited.code).toBe(EXIT.rolledBack);
    // The comment, text from a person, is never a line of the notification.
    const final = world.sns.messages.find((m) => m.attributes.outcome !== undefined)?.message ?? '';
    expect(final).not.toMatch(/^Approved: all/m);
  });

  it('a second answer is refused, naming who decided', () =>
    inAccount(async (account) => {
      expect((await deploy(account, '2.0.0')).code).toBe(EXIT.ok);
      await passUntil(account, () => approvalAsked(account.session.world), 3 * 3600);
      expect((await account.bluegreen('approve', 'web', 'prod')).code).toBe(EXIT.ok);
      const again = await account.bluegreen('reject', 'web', 'prod');
      expect(again.code).toBe(EXIT.failed);
      expect(again.stdout).toContain(`already approved by "${OPERATOR_ARN}"`);
      // Followed to its end: nothing of this account runs on once the test is over.
      expect((await account.bluegreen('wait', 'web', 'prod', '2.0.0', '--since', '6h')).code).toBe(EXIT.ok);
    }, 'approval-terminal'));

  it('refuses a caller who is not an approver: nothing decided, exit 1', () =>
    inAccount(async (account) => {
      expect((await deploy(account, '2.0.0')).code).toBe(EXIT.ok);
      // approval-timeout names only e-mail approvers (who never answer).
      await passUntil(
        account,
        () => account.session.world.sns.messages.some((m) => m.attributes.kind === 'approval-request'),
        3 * 3600,
      );
      const ran = await account.bluegreen('approve', 'web', 'prod', '--json');
      expect(ran.code).toBe(EXIT.failed);
      expect(ran.json()).toMatchObject({ kind: 'not-an-approver', principal: OPERATOR_ARN, exitCode: 1 });
      expect(newest(account.session.world).status).toBe('RUNNING');
      expect(entered(newest(account.session.world), STATE.shift)).toBeUndefined();
      expect((await account.bluegreen('abort', 'web', 'prod')).code).toBe(EXIT.rolledBack);
    }, 'approval-timeout'));

  it('with nothing waiting, exit 1', () =>
    inAccount(async (account) => {
      const ran = await account.bluegreen('approve', 'web', 'prod', '--json');
      expect(ran.code).toBe(EXIT.failed);
      expect(ran.json()).toMatchObject({ kind: 'nothing-waiting', exitCode: 1 });
    }, 'approval-terminal'));
});

describe('bluegreen promote', () => {
  it("ends a step's settle wait: the next step comes sooner, and the notification names the promote", () =>
    inAccount(async (account) => {
      const { world } = account.session;
      expect((await deploy(account, '2.0.0')).code).toBe(EXIT.ok);
      await passUntil(account, () => settling(world), 3 * 3600);
      // Once resolvers have moved (INSYNC and the record's TTL): a promote before is not ready.
      await account.pass(90);
      const ran = await account.bluegreen('promote', 'web', 'prod', '--json');
      expect(ran.code).toBe(EXIT.ok);
      expect(ran.json()).toMatchObject({
        outcome: 'promoted',
        promotion: { by: OPERATOR_ARN, wait: { kind: 'step', step: 1 } },
      });
      const waited = await account.bluegreen('wait', 'web', 'prod', '2.0.0', '--since', '6h');
      expect(waited.code, waited.stdout + waited.stderr).toBe(EXIT.ok);
      const execution = newest(world);
      const settled = entered(execution, STATE.settle) ?? 0;
      // The settle wait is 300 s: the second step was written well before it would have ended.
      expect((entered(execution, STATE.shift, 1) ?? Number.POSITIVE_INFINITY) - settled).toBeLessThan(
        120_000,
      );
      const final = world.sns.messages.find((m) => m.attributes.outcome !== undefined)?.message ?? '';
      expect(final).toContain(
        `Promoted traffic step 1 of 3 (10 %): the rest of its wait skipped by "${OPERATOR_ARN}"`,
      );
    }));

  it('with --wait follows the deployment to its end', () =>
    inAccount(async (account) => {
      const { world } = account.session;
      expect((await deploy(account, '2.0.0')).code).toBe(EXIT.ok);
      await passUntil(account, () => settling(world), 3 * 3600);
      await account.pass(90);
      const ran = await account.bluegreen('promote', 'web', 'prod', '--wait', '--json');
      expect(ran.code, ran.stdout + ran.stderr).toBe(EXIT.ok);
      expect(ran.json()).toMatchObject({ outcome: 'succeeded', deployment: { status: 'SUCCEEDED' } });
    }));

  it('with nothing running, exit 1 and says so', () =>
    inAccount(async (account) => {
      const ran = await account.bluegreen('promote', 'web', 'prod');
      expect(ran.code).toBe(EXIT.failed);
      expect(ran.stdout).toContain('nothing to promote: no deployment of web/prod is running');
    }));
});

describe('bluegreen redeploy', () => {
  it('deploys an earlier release again without a build: SUCCEEDED, exit 0', () =>
    inAccount(async (account) => {
      const { world } = account.session;
      expect((await deploy(account, '2.0.0', '--wait')).code).toBe(EXIT.ok);
      // Another build (other bytes), baked on its own: the bake of 2.0.0 does not serve it.
      const other = join(await mkdtemp(join(tmpdir(), 'bluegreen-')), 'web-2.1.0.zip');
      await writeFile(other, `${await readFile(ARTIFACT, 'latin1')}2.1.0`, 'latin1');
      const second = await account.bluegreen(
        'deploy',
        other,
        '--app',
        'web',
        '--env',
        'prod',
        '--version',
        '2.1.0',
        '--wait',
      );
      await rm(dirname(other), { recursive: true });
      expect(second.code).toBe(EXIT.ok);
      const builds = imageBuilds(world);
      expect(builds).toBe(2);
      const ran = await account.bluegreen(
        'redeploy',
        'web',
        'prod',
        '2.0.0',
        '--request-id',
        'ci-run-42',
        '--wait',
        '--json',
      );
      expect(ran.code).toBe(EXIT.ok);
      expect(ran.json()).toMatchObject({
        outcome: 'succeeded',
        started: true,
        requestId: 'ci-run-42',
        key: expect.stringMatching(/releases\/web\/prod\/2\.0\.0\.zip$/),
        deployment: { status: 'SUCCEEDED' },
      });
      expect(imageBuilds(world)).toBe(builds);
      const live = [...world.ec2.instances.values()].filter((i) => i.terminateRequestedAt === undefined);
      expect(new Set(live.map((i) => i.tags['bluegreen:version']))).toEqual(new Set(['2.0.0']));
      // The same request id again is the same execution: not started twice.
      const executions = world.sfn.executions.size;
      const again = await account.bluegreen(
        'redeploy',
        'web',
        'prod',
        '2.0.0',
        '--request-id',
        'ci-run-42',
        '--json',
      );
      expect(again.code).toBe(EXIT.ok);
      expect(again.json()).toMatchObject({ started: false, execution: ran.json().execution });
      expect(world.sfn.executions.size).toBe(executions);
    }));

  it('refuses a version that does not exist: exit 1, nothing started', () =>
    inAccount(async (account) => {
      const ran = await account.bluegreen('redeploy', 'web', 'prod', '9.9.9');
      expect(ran.code).toBe(EXIT.failed);
      expect(ran.stderr).toContain('no release 9.9.9 of web/prod');
      expect(account.session.world.sfn.executions.size).toBe(0);
    }));

  it('refuses a bad --request-id before any call', async () => {
    const ran = await bluegreen('redeploy', 'web', 'prod', '2.0.0', '--request-id', 'a b', '--simulate');
    expect(ran.code).toBe(EXIT.usage);
    expect(ran.stderr).toContain('--request-id "a b"');
  });
});
