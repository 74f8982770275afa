import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../cli/exit-codes.ts';
import type { Session } from '../../cli/simulated.ts';
import { configKey } from '../../shared/domain/artifact-key.ts';
import { DEFAULT_TOPIC_ARN, OPERATOR, STATE_MACHINE_ARN } from '../../sim/world.ts';
import { BUCKET } from '../../sim/worlds.ts';
import { ARTIFACT, bluegreen, inAccount } from '../support/cli.ts';

const RELEASE_KEY = 'releases/web/prod/2.0.0.zip';

const DEPLOY = ['deploy', ARTIFACT, '--app', 'web', '--env', 'prod', '--version', '2.0.0'];

/** A deploy --wait in a fresh simulated account of the scenario, as JSON. */
async function deployAndWait(scenario: string, ...more: string[]) {
  const ran = await bluegreen(...DEPLOY, '--simulate', '--wait', '--json', '--scenario', scenario, ...more);
  return { ...ran, document: ran.json() };
}

describe('bluegreen deploy --wait, against a simulated account', () => {
  it('exits 0 when the deployment succeeds, having followed it step by step with the weights', async () => {
    const { code, document, stderr } = await deployAndWait('happy');
    expect(code).toBe(EXIT.ok);
    expect(document).toMatchObject({
      outcome: 'succeeded',
      exitCode: 0,
      execution: expect.stringMatching(/^web-prod-2_0_0-[0-9a-f]{10}$/),
      key: expect.stringMatching(/releases\/web\/prod\/2\.0\.0\.zip$/),
      deployment: { status: 'SUCCEEDED' },
    });
    expect(document.consoleUrl).toContain(String(document.executionArn));
    expect(stderr).toContain('Launch the green fleet');
    expect(stderr).toMatch(/Let the traffic step settle {2}\(weights a=90 b=10\)/);
    expect(stderr).toContain('Deployment succeeded');
  });

  it('exits 3 when the deployment rolls back (an alarm while green takes 50 %)', async () => {
    const { code, document } = await deployAndWait('alarm-during-shift');
    expect(code).toBe(EXIT.rolledBack);
    expect(document).toMatchObject({ outcome: 'rolled-back', deployment: { error: 'DeploymentRolledBack' } });
  });

  it('exits 1 when the deployment fails before any traffic moved (the bake fails)', async () => {
    const { code, document } = await deployAndWait('bake-fails');
    expect(code).toBe(EXIT.failed);
    expect(document).toMatchObject({ outcome: 'failed', deployment: { error: 'DeploymentFailed' } });
  });

  it('exits 7 when the rollback itself fails (Route 53 refuses every change)', async () => {
    const { code, document } = await deployAndWait('rollback-fails');
    expect(code).toBe(EXIT.rollbackFailed);
    expect(document).toMatchObject({ outcome: 'rollback-failed', deployment: { error: 'RollbackFailed' } });
  });

  it('exits 6 when green is live but blue cannot be terminated', async () => {
    const { code, document } = await deployAndWait('blue-termination-fails');
    expect(code).toBe(EXIT.blueNotTerminated);
    expect(document).toMatchObject({
      outcome: 'blue-not-terminated',
      deployment: { error: 'BlueNotTerminated' },
    });
  });

  it('exits 5 when the wait times out, the deployment going on', async () => {
    const { code, document } = await deployAndWait('happy', '--timeout', '30m');
    expect(code).toBe(EXIT.timedOut);
    expect(document).toMatchObject({ outcome: 'timed-out', deployment: { status: 'RUNNING' } });
  });

  it('exits 4 for an upload superseded by a newer one while it waited for the lock', () =>
    inAccount(async ({ bluegreen, pass }) => {
      const deploy = (version: string) =>
        bluegreen('deploy', ARTIFACT, '--app', 'web', '--env', 'prod', '--version', version);
      expect((await deploy('2.0.0')).code).toBe(EXIT.ok);
      await pass(20);
      expect((await deploy('2.1.0')).code).toBe(EXIT.ok);
      await pass(20);
      expect((await deploy('2.2.0')).code).toBe(EXIT.ok);
      const waited = await bluegreen('wait', 'web', 'prod', '2.1.0', '--json');
      expect(waited.code).toBe(EXIT.superseded);
      expect(waited.json()).toMatchObject({
        outcome: 'superseded',
        deployment: { error: 'DeploymentSuperseded' },
      });
    }));

  it('prints the execution name and its console link without --wait, and the service starts it', () =>
    inAccount(async ({ bluegreen, session }) => {
      const ran = await bluegreen(...DEPLOY);
      expect(ran.code).toBe(EXIT.ok);
      const [name, link] = ran.stdout.trim().split('\n');
      expect(link).toBe(
        `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-sim-deploy:${name}`,
      );
      const waited = await bluegreen('wait', String(name), '--timeout', '10m');
      expect(waited.code).toBe(EXIT.timedOut);
      expect(session.world.sfn.executions.get(String(name))?.status).toBe('RUNNING');
      // The upload carried its SHA-256 checksum, which S3 keeps with the object version.
      const head = session.world.s3.HeadObject({
        Bucket: 'bluegreen-ec2-sim-releases-123456789012',
        Key: 'releases/web/prod/2.0.0.zip',
        ChecksumMode: 'ENABLED',
      });
      expect(head).toMatchObject({
        ChecksumType: 'FULL_OBJECT',
        ChecksumSHA256: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
      });
    }));
});

describe('bluegreen deploy refuses, uploading nothing', () => {
  /** Runs the deploy in a simulated account and says whether anything was written to S3. */
  const refused = (scenario: string | undefined, ...argv: string[]) =>
    inAccount(async ({ bluegreen, session }) => {
      const ran = await bluegreen(...argv);
      const uploads = session.world.calls.filter((c) => c.operation === 'PutObject').length;
      return { ...ran, uploads, executions: session.world.sfn.executions.size };
    }, scenario);

  it.each([
    ['an app the service would ignore', ['--app', 'Web', '--env', 'prod', '--version', '2.0.0'], /app "Web"/],
    ['a version with a slash', ['--app', 'web', '--env', 'prod', '--version', '2.0/0'], /segments/],
    ['a version with two dots', ['--app', 'web', '--env', 'prod', '--version', '2..0'], /version "2\.\.0"/],
    [
      'a bad --timeout',
      ['--app', 'web', '--env', 'prod', '--version', '2.0.0', '--timeout', '5x'],
      /--timeout "5x"/,
    ],
  ])('%s: exit 2, the reason named', async (_what, flags, reason) => {
    const ran = await refused(undefined, 'deploy', ARTIFACT, ...flags);
    expect(ran.code).toBe(EXIT.usage);
    expect(ran.stderr).toMatch(reason);
    expect(ran.uploads).toBe(0);
  });

  it('a file that is not .zip or .tar.gz: exit 2', async () => {
    const ran = await refused(
      undefined,
      'deploy',
      'release.rar',
      '--app',
      'web',
      '--env',
      'prod',
      '--version',
      '2.0.0',
    );
    expect(ran.code).toBe(EXIT.usage);
    expect(ran.stderr).toContain('must be a .zip or a .tar.gz');
    expect(ran.uploads).toBe(0);
  });

  it.each([
    ['an unknown flag', [...DEPLOY, '--bogus']],
    ['a missing --version', ['deploy', ARTIFACT, '--app', 'web', '--env', 'prod']],
  ])('%s: exit 2', async (_what, argv) => {
    const ran = await refused(undefined, ...argv);
    expect(ran.code).toBe(EXIT.usage);
    expect(ran.uploads).toBe(0);
  });

  it('an app/env whose config in the bucket is invalid: exit 1, its problems named', async () => {
    const ran = await refused('bad-config', ...DEPLOY);
    expect(ran.code).toBe(EXIT.failed);
    expect(ran.stderr).toContain('config/web/prod.json is invalid');
    expect(ran.uploads).toBe(0);
  });

  it('an app/env with no config: exit 1', async () => {
    const ran = await refused(
      undefined,
      'deploy',
      ARTIFACT,
      '--app',
      'api',
      '--env',
      'prod',
      '--version',
      '2.0.0',
    );
    expect(ran.code).toBe(EXIT.failed);
    expect(ran.stderr).toContain('config/api/prod.json not found');
    expect(ran.uploads).toBe(0);
  });

  it('a release key written before: exit 1, as the service would refuse it', () =>
    inAccount(async ({ bluegreen, session }) => {
      expect((await bluegreen(...DEPLOY)).code).toBe(EXIT.ok);
      const again = await bluegreen(...DEPLOY);
      expect(again.code).toBe(EXIT.failed);
      expect(again.stderr).toContain('release keys are immutable');
      expect(session.world.calls.filter((c) => c.operation === 'PutObject')).toHaveLength(1);
    }));

  it('a stage with no service stack: exit 1, naming the stack', () =>
    inAccount(async ({ bluegreen, session }) => {
      session.world.cloudformation.stacks.delete('bluegreen-ec2-sim');
      const ran = await bluegreen(...DEPLOY);
      expect(ran.code).toBe(EXIT.failed);
      expect(ran.stderr).toContain('no stack bluegreen-ec2-sim in us-east-1');
      expect(session.world.calls.filter((c) => c.operation === 'PutObject')).toHaveLength(0);
    }));
});

describe('bluegreen deploy checks the key and the config as Plan does', () => {
  const KEY = 'releases/web/prod/2.0.0.zip';
  const puts = (session: Session) => session.world.calls.filter((c) => c.operation === 'PutObject');

  it('a config naming a topic the service may not publish to: exit 1, nothing uploaded', () =>
    inAccount(async ({ bluegreen, session }) => {
      const config = {
        ...session.ctx.config,
        notifications: { topicArn: `${DEFAULT_TOPIC_ARN}-x`.replace('bluegreen-', 'other-') },
      };
      session.world.s3.put(BUCKET, configKey('web', 'prod'), JSON.stringify(config));
      const ran = await bluegreen(...DEPLOY);
      expect(ran.code).toBe(EXIT.failed);
      expect(ran.stderr).toContain('notifications.topicArn');
      expect(puts(session)).toHaveLength(0);
    }));

  it('a key whose object was deleted (a delete marker is its newest version): exit 1, nothing uploaded', () =>
    inAccount(async ({ bluegreen, session }) => {
      session.world.s3.put(BUCKET, KEY, 'an earlier build');
      session.world.s3.DeleteObject({ Bucket: BUCKET, Key: KEY });
      const ran = await bluegreen(...DEPLOY);
      expect(ran.code).toBe(EXIT.failed);
      expect(ran.stderr).toContain('release keys are immutable');
      expect(puts(session)).toHaveLength(0);
    }));

  it('another job uploading the key between the check and the upload: S3 refuses the second (412), exit 1', () =>
    inAccount(async ({ bluegreen, session }) => {
      const s3 = session.world.s3;
      const list = s3.ListObjectVersions.bind(s3);
      s3.ListObjectVersions = (input) => {
        const answer = list(input);
        s3.put(BUCKET, KEY, 'the other job’s build');
        return answer;
      };
      const ran = await bluegreen(...DEPLOY);
      expect(ran.code).toBe(EXIT.failed);
      expect(ran.stderr).toContain('exists already (written by another upload just now)');
      expect(puts(session)).toMatchObject([{ error: 'PreconditionFailed' }]);
      expect(
        s3.buckets
          .get(BUCKET)
          ?.get(KEY)
          ?.map((o) => o.body),
      ).toEqual(['the other job’s build']);
    }));
});

describe('bluegreen wait through AWS errors', () => {
  const deployed = async (bluegreen: (...argv: string[]) => Promise<{ stdout: string }>) => {
    const name = String((await bluegreen(...DEPLOY)).stdout.split('\n')[0]);
    return { name, arn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}` };
  };

  it('keeps looking through throttling and 5xx answers and follows the deployment to its end', () =>
    inAccount(async ({ bluegreen, session }) => {
      const { name, arn } = await deployed(bluegreen);
      const about = (input: unknown) => (input as { executionArn?: string }).executionArn === arn;
      session.world.inject({
        service: 'sfn',
        operation: 'DescribeExecution',
        kind: 'throttle',
        times: 6,
        when: about,
      });
      session.world.inject({
        service: 'sfn',
        operation: 'GetExecutionHistory',
        kind: 'transient',
        times: 6,
        when: about,
      });
      const waited = await bluegreen('wait', name, '--json');
      expect(waited.code).toBe(EXIT.ok);
      expect(waited.json()).toMatchObject({ outcome: 'succeeded' });
      const failed = session.world.calls.filter(
        (c) => c.service === 'sfn' && ['ThrottlingException', 'InternalError'].includes(c.error ?? ''),
      );
      expect(failed).toHaveLength(12);
      expect(waited.stderr).toContain('trying again in');
    }));

  it('ends with exit 8 on an error not worth trying again, the document naming the execution to resume', () =>
    inAccount(async ({ bluegreen, session }) => {
      const { name, arn } = await deployed(bluegreen);
      session.world.inject({ service: 'sfn', operation: 'GetExecutionHistory', kind: 'permanent', times: 1 });
      const waited = await bluegreen('wait', name, '--json');
      expect(waited.code).toBe(EXIT.aws);
      expect(waited.json()).toMatchObject({
        exitCode: EXIT.aws,
        execution: name,
        executionArn: arn,
        error: expect.stringContaining(`bluegreen wait ${name}`),
      });
    }));
});

describe('bluegreen wait APP ENV VERSION picks the execution by when it started and its object version', () => {
  it('passes over an old execution of the version, unless --since reaches back to it; --version-id picks by object version', () =>
    inAccount(async ({ bluegreen, pass }) => {
      const deployed = (await bluegreen(...DEPLOY, '--json')).json();
      expect((await bluegreen('wait', String(deployed.execution))).code).toBe(EXIT.ok);
      await pass(10 * 60);
      const old = await bluegreen('wait', 'web', 'prod', '2.0.0', '--timeout', '1m');
      expect(old.code).toBe(EXIT.failed);
      expect(old.stderr).toContain('no execution of web/prod 2.0.0 started since');
      const back = await bluegreen('wait', 'web', 'prod', '2.0.0', '--since', '2h', '--json');
      expect(back.code).toBe(EXIT.ok);
      expect(back.json()).toMatchObject({ deployment: { name: deployed.execution } });
      const other = await bluegreen(
        'wait',
        'web',
        'prod',
        '2.0.0',
        '--since',
        '2h',
        '--version-id',
        'v-other',
        '--timeout',
        '1m',
      );
      expect(other.code).toBe(EXIT.failed);
      const same = await bluegreen(
        'wait',
        'web',
        'prod',
        '2.0.0',
        '--since',
        '1970-01-01T00:00:00Z',
        '--version-id',
        String(deployed.versionId),
      );
      expect(same.code).toBe(EXIT.ok);
    }));

  it('refuses --since with an execution, and a --since that is neither a time nor a duration (exit 2)', async () => {
    expect((await bluegreen('wait', 'web-prod-2_0_0-0123456789', '--since', '1h', '--simulate')).code).toBe(
      EXIT.usage,
    );
    const bad = await bluegreen('wait', 'web', 'prod', '2.0.0', '--since', 'yesterday', '--simulate');
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain('--since "yesterday" is not a duration');
  });
});

describe('what following a deployment costs', () => {
  it('reads a short page of new events per look, and looks less often while the deployment waits', () =>
    inAccount(async ({ bluegreen, session }) => {
      const ran = await bluegreen(...DEPLOY, '--wait');
      expect(ran.code).toBe(EXIT.ok);
      const mine = session.world.calls.filter((c) => c.fn === OPERATOR && c.service === 'sfn');
      const histories = mine.filter((c) => c.operation === 'GetExecutionHistory');
      const looks = mine.filter((c) => c.operation === 'DescribeExecution').length;
      // Every 10 s throughout, the built-in deployment took 571 looks; it waits in its bake, its
      // traffic steps and its window most of the time, where a look comes every 30 s.
      expect(looks).toBeLessThan(300);
      // One page of history per look (the last look's status needs none): a few new events each time.
      expect(histories.length).toBeLessThanOrEqual(looks);
    }));
});

describe('bluegreen deploy --commit and --changes: the provenance approvers are shown', () => {
  const COMMIT = '3f2a9c0d1e4b5a6978877665544332211a0b9c8d';
  // Exactly the bound Plan keeps (500), with the characters a page and an email must quote.
  const CHANGES = `Fixes the "<b>checkout</b>" race & adds \\retry; ${'x'.repeat(460)}`.slice(0, 500);
  const metadataOf = (session: Session) =>
    session.world.s3.HeadObject({ Bucket: BUCKET, Key: RELEASE_KEY }).Metadata;

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('sends them as the artifact’s x-amz-meta-commit and x-amz-meta-changes, and the approval request shows them as sent', () =>
    inAccount(async ({ bluegreen, session }) => {
      vi.stubEnv('GITHUB_SHA', '');
      vi.stubEnv('CI_COMMIT_SHA', '');
      expect(CHANGES).toHaveLength(500);
      const ran = await bluegreen(...DEPLOY, '--commit', COMMIT, '--changes', `  ${CHANGES}  `, '--json');
      expect(ran.code).toBe(EXIT.ok);
      expect(ran.json()).toMatchObject({ commit: COMMIT, changes: CHANGES });
      expect(metadataOf(session)).toEqual({ commit: COMMIT, changes: CHANGES });
      // Plan reads the metadata, and the approval request (before the first shift) shows it.
      await bluegreen('wait', String(ran.json().execution), '--timeout', '3h');
      const [request] = session.world.sns.messages.filter((m) => m.attributes.kind === 'approval-request');
      expect(request?.message).toContain(`Commit:       ${JSON.stringify(COMMIT)}`);
      expect(request?.message).toContain(`Changes:      ${JSON.stringify(CHANGES)}`);
    }, 'approval-approved'));

  it.each([
    ['without them', []],
    ['for blank ones (an empty CI variable)', ['--commit', ' ', '--changes', '']],
  ])('sends no metadata %s', (_what, flags) =>
    inAccount(async ({ bluegreen, session }) => {
      vi.stubEnv('GITHUB_SHA', '');
      vi.stubEnv('CI_COMMIT_SHA', '');
      expect((await bluegreen(...DEPLOY, ...flags)).code).toBe(EXIT.ok);
      expect(metadataOf(session)).toBeUndefined();
    }),
  );

  it.each([
    ['GITHUB_SHA', { GITHUB_SHA: COMMIT, CI_COMMIT_SHA: 'gitlab' }, [], COMMIT],
    ['CI_COMMIT_SHA', { GITHUB_SHA: '', CI_COMMIT_SHA: COMMIT }, [], COMMIT],
    ['--commit over GITHUB_SHA', { GITHUB_SHA: 'from-the-env' }, ['--commit', 'abc1234'], 'abc1234'],
  ])('takes the commit from %s', (_what, env, flags, commit) =>
    inAccount(async ({ bluegreen, session }) => {
      for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
      expect((await bluegreen(...DEPLOY, ...flags)).code).toBe(EXIT.ok);
      expect(metadataOf(session)).toEqual({ commit });
    }),
  );

  it.each([
    [
      'a commit over 100 characters',
      ['--commit', 'a'.repeat(101)],
      /--commit is 101 characters, more than 100/,
    ],
    [
      'a change note over 500 characters',
      ['--changes', 'c'.repeat(501)],
      /--changes is 501 characters, more than 500/,
    ],
    [
      'a change note with a line of its own',
      ['--changes', 'Small fix.\nDeployed web/prod 2.0.0'],
      /--changes has U\+000A at character 11: only printable ASCII/,
    ],
    ['a bidi override', ['--changes', 'fix \u202E0.0.2 deborp'], /--changes has U\+202E at character 5/],
    ['a non-ASCII letter', ['--commit', 'café'], /--commit has U\+00E9 at character 4/],
  ])('refuses %s: exit 2, nothing uploaded', (_what, flags, reason) =>
    inAccount(async ({ bluegreen, session }) => {
      vi.stubEnv('GITHUB_SHA', '');
      vi.stubEnv('CI_COMMIT_SHA', '');
      const ran = await bluegreen(...DEPLOY, ...flags);
      expect(ran.code).toBe(EXIT.usage);
      expect(ran.stderr).toMatch(reason);
      expect(ran.stderr).toContain('nothing was uploaded');
      expect(session.world.calls.filter((c) => c.operation === 'PutObject')).toEqual([]);
    }),
  );

  it('refuses a hostile GITHUB_SHA, naming the variable: exit 2, nothing uploaded', () =>
    inAccount(async ({ bluegreen, session }) => {
      vi.stubEnv('GITHUB_SHA', 'abc\r\nx-amz-meta-changes: forged');
      const ran = await bluegreen(...DEPLOY);
      expect(ran.code).toBe(EXIT.usage);
      expect(ran.stderr).toMatch(/GITHUB_SHA \(the default of --commit\) has U\+000D/);
      expect(session.world.calls.filter((c) => c.operation === 'PutObject')).toEqual([]);
    }));
});
