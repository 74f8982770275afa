import { describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/exit-codes.ts';
import type { Session } from '../../cli/simulated.ts';
import { ROLLBACK_STATE_MACHINE_ARN, STATE_MACHINE_ARN } from '../../sim/world.ts';
import { ARTIFACT, inAccount } from '../support/cli.ts';

const DEPLOY = ['deploy', ARTIFACT, '--app', 'web', '--env', 'prod', '--version', '2.0.0'];

describe('bluegreen status and history', () => {
  it('show the deployment running and its state during a deploy, and what is live after it', () =>
    inAccount(async ({ bluegreen, pass }) => {
      const before = await bluegreen('status', 'web', 'prod', '--json');
      expect(before.code).toBe(EXIT.ok);
      expect(before.json()).toMatchObject({
        appEnvs: [
          {
            app: 'web',
            env: 'prod',
            live: { slot: 'a', versions: ['1.0.0'] },
            slots: { a: { weight: 100, versions: ['1.0.0'] }, b: { weight: 0, versions: [] } },
            running: null,
          },
        ],
      });

      const name = (await bluegreen(...DEPLOY)).stdout.split('\n')[0];
      // Half an hour in: the bake (20 minutes) is done and green takes traffic.
      await pass(30 * 60);
      const during = await bluegreen('status', 'web', 'prod', '--json');
      const [status] = during.json().appEnvs as Record<string, unknown>[];
      expect(status).toMatchObject({
        running: { name, version: '2.0.0', state: expect.any(String) },
        lock: { owner: name, waiters: [] },
        live: { split: { a: 50, b: 50 } },
        slots: { b: { versions: ['2.0.0'], claimedBy: name } },
        recent: [{ name, version: '2.0.0', outcome: null, status: 'RUNNING' }],
      });
      const text = await bluegreen('status', 'web', 'prod');
      expect(text.stdout).toContain(`running: ${name} (2.0.0) in "`);
      expect(text.stdout).toContain(`lock: held by ${name}`);

      // Its upload was half an hour ago: --since reaches back to it.
      expect((await bluegreen('wait', 'web', 'prod', '2.0.0', '--since', '1h')).code).toBe(EXIT.ok);
      const after = await bluegreen('status', '--json');
      expect(after.json()).toMatchObject({
        appEnvs: [
          {
            app: 'web',
            env: 'prod',
            live: { slot: 'b', versions: ['2.0.0'] },
            slots: { a: { weight: 0, versions: [] }, b: { weight: 100 } },
            running: null,
            lock: { owner: null },
            recent: [{ name, outcome: 'succeeded', status: 'SUCCEEDED' }],
          },
        ],
      });
    }));

  it('history lists the deployments newest first with their outcomes, a stopped one beside its rollback', () =>
    inAccount(async ({ bluegreen, pass }) => {
      const first = (await bluegreen(...DEPLOY)).stdout.split('\n')[0];
      expect((await bluegreen('wait', String(first))).code).toBe(EXIT.ok);
      const second = (
        await bluegreen('deploy', ARTIFACT, '--app', 'web', '--env', 'prod', '--version', '2.1.0')
      ).stdout.split('\n')[0];
      await pass(30 * 60);
      expect((await bluegreen('abort', 'web', 'prod')).code).toBe(EXIT.rolledBack);

      const history = await bluegreen('history', 'web', 'prod', '--json');
      expect(history.code).toBe(EXIT.ok);
      expect(history.json()).toMatchObject({
        app: 'web',
        env: 'prod',
        deployments: [
          {
            name: second,
            version: '2.1.0',
            status: 'ABORTED',
            outcome: 'rolled-back',
            rollback: { name: `${second}-rollback`, status: 'FAILED' },
          },
          { name: first, version: '2.0.0', status: 'SUCCEEDED', outcome: 'succeeded', rollback: null },
        ],
      });
      const limited = await bluegreen('history', 'web', 'prod', '--limit', '1', '--json');
      expect((limited.json().deployments as unknown[]).length).toBe(1);
      const text = await bluegreen('history', 'web', 'prod');
      expect(text.stdout.split('\n')[1]).toContain(`rollback ${second}-rollback FAILED`);
    }));

  it('history refuses a bad --limit (exit 2)', () =>
    inAccount(async ({ bluegreen }) => {
      const ran = await bluegreen('history', 'web', 'prod', '--limit', '0');
      expect(ran.code).toBe(EXIT.usage);
      expect(ran.stderr).toContain('--limit "0" must be a whole number from 1 to 100');
    }));
});

describe('bluegreen abort', () => {
  it('stops the running deployment naming the caller and follows its rollback execution to its end', () =>
    inAccount(async ({ bluegreen, pass, session }) => {
      const name = String((await bluegreen(...DEPLOY)).stdout.split('\n')[0]);
      await pass(30 * 60);
      const aborted = await bluegreen('abort', 'web', 'prod', '--json');
      expect(aborted.code).toBe(EXIT.rolledBack);
      expect(aborted.json()).toMatchObject({
        abortedBy: 'arn:aws:sts::123456789012:assumed-role/operator/alice',
        outcome: 'rolled-back',
        deployment: { name, status: 'ABORTED', error: 'AbortedByOperator' },
        rollback: { name: `${name}-rollback`, status: 'FAILED', error: 'DeploymentRolledBack' },
      });
      expect(aborted.stderr).toContain('rollback: Return traffic to blue');
      const execution = session.world.sfn.executions.get(name);
      expect(execution?.cause).toBe(
        'aborted by arn:aws:sts::123456789012:assumed-role/operator/alice with bluegreen abort',
      );
      // Traffic is back on blue and green is gone.
      const status = await bluegreen('status', 'web', 'prod', '--json');
      expect(status.json()).toMatchObject({
        appEnvs: [
          { live: { slot: 'a', versions: ['1.0.0'] }, slots: { b: { versions: [] } }, running: null },
        ],
      });
    }));

  it('exits 1 for a deployment stopped while it bakes: nothing to roll back, its recovery only frees the lock', () =>
    inAccount(async ({ bluegreen, pass, session }) => {
      const name = String((await bluegreen(...DEPLOY)).stdout.split('\n')[0]);
      await pass(5 * 60);
      const aborted = await bluegreen('abort', 'web', 'prod', '--json');
      expect(aborted.code).toBe(EXIT.failed);
      expect(aborted.json()).toMatchObject({ outcome: 'stopped', deployment: { name, status: 'ABORTED' } });
      expect(aborted.json()).not.toHaveProperty('rollback');
      expect(session.world.sfn.rollbacks.size).toBe(0);
    }));

  it('says so and exits 1 when nothing is running', () =>
    inAccount(async ({ bluegreen }) => {
      const ran = await bluegreen('abort', 'web', 'prod');
      expect(ran.code).toBe(EXIT.failed);
      expect(ran.stderr).toContain('no deployment of web/prod is running: nothing to abort');
    }));
});

describe('bluegreen abort with a waiter behind the lock', () => {
  it('stops the owner, and asked again while its rollback runs, refuses rather than stop the waiter; status shows the rollback running and the waiter waiting', () =>
    inAccount(async ({ bluegreen, pass, session }) => {
      const first = String((await bluegreen(...DEPLOY)).stdout.split('\n')[0]);
      await pass(30 * 60);
      const waiter = String(
        (
          await bluegreen('deploy', ARTIFACT, '--app', 'web', '--env', 'prod', '--version', '2.1.0')
        ).stdout.split('\n')[0],
      );
      await pass(60);
      const timedOut = await bluegreen('abort', 'web', 'prod', '--timeout', '1m');
      expect(timedOut.code).toBe(EXIT.timedOut);
      expect(timedOut.stdout).toContain('the rollback goes on');
      expect(session.world.sfn.executions.get(first)?.status).toBe('ABORTED');
      const again = await bluegreen('abort', 'web', 'prod');
      expect(again.code).toBe(EXIT.failed);
      expect(again.stderr).toContain(`held by ${first}-rollback, the rollback of the stopped ${first}`);
      expect(session.world.sfn.executions.get(waiter)?.status).toBe('RUNNING');
      expect(session.world.calls.filter((c) => c.operation === 'StopExecution')).toHaveLength(1);

      // status shows the rollback as what runs, with its state, and the upload behind it waiting.
      const status = await bluegreen('status', 'web', 'prod', '--json');
      expect(status.json()).toMatchObject({
        appEnvs: [
          {
            running: {
              name: `${first}-rollback`,
              kind: 'rollback',
              of: first,
              version: '2.0.0',
              status: 'RUNNING',
              state: expect.any(String),
            },
            lock: { owner: first, waiters: [{ name: waiter }] },
          },
        ],
      });
      const text = (await bluegreen('status', 'web', 'prod')).stdout;
      expect(text).toContain(`running: rollback ${first}-rollback of ${first} (2.0.0) in "`);
      expect(text).toContain(`waiting for the lock: ${waiter} (uploaded `);
    }));
});

describe('bluegreen abort when the recovery leaves things for a person', () => {
  it('exits 7, not 1, when the recovery cannot start the rollback execution and frees the lock with leftovers', () =>
    inAccount(async ({ bluegreen, pass, session }) => {
      const name = String((await bluegreen(...DEPLOY)).stdout.split('\n')[0]);
      await pass(30 * 60);
      session.world.inject({
        service: 'sfn',
        operation: 'StartExecution',
        kind: 'permanent',
        times: 1_000_000,
        when: (input) =>
          (input as { stateMachineArn?: string }).stateMachineArn === ROLLBACK_STATE_MACHINE_ARN,
      });
      const aborted = await bluegreen('abort', 'web', 'prod', '--json');
      expect(aborted.json()).toMatchObject({ outcome: 'left-to-a-person', deployment: { name } });
      expect(aborted.code).toBe(EXIT.rollbackFailed);
      const history = await bluegreen('history', 'web', 'prod', '--json');
      expect(history.json()).toMatchObject({ deployments: [{ name, outcome: 'left-to-a-person' }] });
    }));
});

describe('history and status read as far back as it takes', () => {
  /** Ended executions of another app/env, newer than everything else, as the listing finds them. */
  const others = (session: Session, app: string, env: string, count: number) => {
    const start = session.world.now();
    for (let i = 0; i < count; i++) {
      const name = `${app}-${env}-9_0_${i}-${String(i).padStart(10, '0')}`;
      session.world.sfn.executions.set(name, {
        arn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`,
        stateMachineArn: STATE_MACHINE_ARN,
        name,
        input: JSON.stringify({ app, env, version: `9.0.${i}` }),
        status: 'SUCCEEDED',
        startedAt: start + 1000 + i,
        stoppedAt: start + 2000 + i,
        transitions: 0,
        states: [],
        retries: 0,
        history: [],
      });
    }
  };

  it('history finds the deployments of web/prod behind many newer ones of web/prod-eu (their names share its prefix)', () =>
    inAccount(async ({ bluegreen, session }) => {
      const name = String((await bluegreen(...DEPLOY)).stdout.split('\n')[0]);
      expect((await bluegreen('wait', name)).code).toBe(EXIT.ok);
      others(session, 'web', 'prod-eu', 30);
      const history = await bluegreen('history', 'web', 'prod', '--limit', '1', '--json');
      expect(history.json()).toMatchObject({ deployments: [{ name }], truncated: false });
    }));

  it('history says when the listing stopped at 1,000 executions before finding them all', () =>
    inAccount(async ({ bluegreen, session }) => {
      const name = String((await bluegreen(...DEPLOY)).stdout.split('\n')[0]);
      expect((await bluegreen('wait', name)).code).toBe(EXIT.ok);
      others(session, 'api', 'prod', 1000);
      const history = await bluegreen('history', 'web', 'prod', '--json');
      expect(history.json()).toMatchObject({ deployments: [], truncated: true });
      expect((await bluegreen('history', 'web', 'prod')).stdout).toContain(
        'only the newest 1,000 executions',
      );
    }));

  it('status of every app/env lists the executions once', () =>
    inAccount(async ({ bluegreen, session }) => {
      const name = String((await bluegreen(...DEPLOY)).stdout.split('\n')[0]);
      expect((await bluegreen('wait', name)).code).toBe(EXIT.ok);
      others(session, 'web', 'prod-eu', 150);
      const before = session.world.calls.filter((c) => c.operation === 'ListExecutions').length;
      const status = await bluegreen('status', '--json');
      expect(status.json()).toMatchObject({ appEnvs: [{ app: 'web', env: 'prod', recent: [{ name }] }] });
      // Two pages of 100, read once for every app/env shown.
      expect(session.world.calls.filter((c) => c.operation === 'ListExecutions').length - before).toBe(2);
    }));
});
