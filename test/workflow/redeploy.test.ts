import { describe, expect, it } from 'vitest';
import { TAG } from '#shared/domain/tags.ts';
import { redeployRequest } from '#shared/operations/redeploy.ts';
import type { UploadOptions } from '../../sim/aws/small.ts';
import { routeClientsTo } from '../../sim/router.ts';
import { findScenario, type Scenario } from '../../sim/scenarios.ts';
import { loadHandlers, simulate } from '../../sim/simulate.ts';
import { asSomeoneElse, World } from '../../sim/world.ts';
import {
  BUCKET,
  redeployRelease,
  releaseKey,
  type ScenarioContext,
  seedWorld,
  whenNoneRuns,
} from '../../sim/worlds.ts';
import { expectFailure } from '../support/failures.ts';

// Releases known by their content, and an earlier release deployed again: the real ASL and
// handlers against the simulated account, the redeploy started as the command line would (its
// request built by shared/operations/redeploy.ts, StartExecution made by the operator, not the
// service).

const SHA256: UploadOptions = { checksumAlgorithm: 'SHA256' };

/** Image Builder builds started (CreateImage; the service starts no pipelines). */
function builds(world: World): number {
  return world.calls.filter((c) => ['CreateImage', 'StartImagePipelineExecution'].includes(c.operation))
    .length;
}

function body(version: string): string {
  return `PK\u0003\u0004 web ${version}`;
}

function upload(ctx: ScenarioContext, version: string, bytes = body(version), options = SHA256): void {
  ctx.deliver([ctx.upload(releaseKey(version), bytes, options)]);
}

/** A scenario of its own for this file: `act` is the whole story, the rest as `happy`'s. */
function story(name: string, executions: number, expectLive: string, act: Scenario['act']): Scenario {
  return { name, summary: name, expect: 'SUCCEEDED', executions, expectLive, act } as Scenario;
}

describe('an earlier release deployed again', () => {
  it('the scenario redeploy-earlier-release (uploads without a checksum): the AMI of the object version, no build', async () => {
    const scenario = findScenario('redeploy-earlier-release');
    if (!scenario) throw new Error('no scenario redeploy-earlier-release');

    const { summary, world } = await simulate(scenario);

    expect(summary.problems).toEqual([]);
    expect(summary.liveVersion).toBe('1.1.0');
    const redeploy = [...world.sfn.executions.values()].find((e) => e.name.includes('-redeploy-'));
    expect(redeploy?.status).toBe('SUCCEEDED');
    const startedAt = redeploy?.startedAt ?? 0;
    expect(builds(world)).toBe(2);
    expect(world.calls.filter((c) => c.operation === 'CreateImage' && c.at >= startedAt)).toEqual([]);
  });

  it('1.1.0, then 1.2.0, then 1.1.0 again: succeeds, 1.1.0 live, no build started for it', async () => {
    let buildsBefore = -1;
    let redeployed: Promise<string> | undefined;
    const { summary, world } = await simulate(
      story('redeploy-earlier-release-with-checksum', 3, '1.1.0', (ctx) => {
        upload(ctx, '1.1.0');
        whenNoneRuns(ctx, () => {
          upload(ctx, '1.2.0');
          whenNoneRuns(ctx, () => {
            buildsBefore = builds(ctx.world);
            redeployed = redeployRelease(ctx, '1.1.0', 'undo-1');
          });
        });
      }),
    );

    expect(summary.problems).toEqual([]);
    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.liveVersion).toBe('1.1.0');
    expect(buildsBefore).toBe(2);
    expect(builds(world)).toBe(buildsBefore);
    const name = await redeployed;
    expect(name).toMatch(/^web-prod-1_1_0-redeploy-[0-9a-f]{10}$/);
    const execution = world.sfn.executions.get(name ?? '');
    expect(execution?.status).toBe('SUCCEEDED');
    // Not refused as older than 1.2.0: ordered by when it was asked for, not by its first upload.
    expect(execution?.error).toBeUndefined();
    const output = execution?.output;
    const state = (typeof output === 'string' ? JSON.parse(output) : output) as { bake?: unknown };
    expect(state.bake).toMatchObject({ reused: true });
    // The upload's own execution keeps its name; the redeploy has one of its own.
    const names = [...world.sfn.executions.keys()].filter((n) => n.startsWith('web-prod-1_1_0-'));
    expect(names).toHaveLength(2);
  });

  it('retried with the same request id starts one execution', async () => {
    const names: Promise<string>[] = [];
    const { summary, world } = await simulate(
      story('redeploy-retried', 2, '1.0.0', (ctx) => {
        ctx.world.s3.put(BUCKET, releaseKey('1.0.0'), body('1.0.0'), SHA256);
        names.push(redeployRelease(ctx, '1.0.0', 'ci-run-77'));
        ctx.after(30, () => {
          names.push(redeployRelease(ctx, '1.0.0', 'ci-run-77'));
        });
        whenNoneRuns(ctx, () => {
          names.push(redeployRelease(ctx, '1.0.0', 'ci-run-78'));
        });
      }),
    );

    const [first, retry, next] = await Promise.all(names);
    expect(retry).toBe(first);
    expect(next).not.toBe(first);
    expect(summary.problems).toEqual([]);
    expect([...world.sfn.executions.keys()].sort()).toEqual([first, next].sort());
  });
});

describe('the same content uploaded under another version', () => {
  it('with a SHA-256 checksum reuses the AMI baked from it: no build', async () => {
    let buildsBefore = -1;
    const { summary, world } = await simulate(
      story('same-content-with-checksum', 2, '1.1.1', (ctx) => {
        upload(ctx, '1.1.0');
        whenNoneRuns(ctx, () => {
          buildsBefore = builds(ctx.world);
          upload(ctx, '1.1.1', body('1.1.0'));
        });
      }),
    );

    expect(summary.problems).toEqual([]);
    expect(buildsBefore).toBe(1);
    expect(builds(world)).toBe(1);
    const ami = [...world.ec2.images.values()].find((i) => i.tags[TAG.version] === '1.1.0');
    expect(ami?.tags[TAG.contentDigest]).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('in the same parts of a multipart upload reuses it too (a composite checksum)', async () => {
    const multipart: UploadOptions = { checksumAlgorithm: 'SHA256', partSize: 5 };
    let buildsBefore = -1;
    const { summary, world } = await simulate(
      story('same-content-multipart', 2, '1.1.1', (ctx) => {
        upload(ctx, '1.1.0', body('1.1.0'), multipart);
        whenNoneRuns(ctx, () => {
          buildsBefore = builds(ctx.world);
          upload(ctx, '1.1.1', body('1.1.0'), multipart);
        });
      }),
    );

    expect(summary.problems).toEqual([]);
    expect(builds(world)).toBe(buildsBefore);
    const ami = [...world.ec2.images.values()].find((i) => i.tags[TAG.version] === '1.1.0');
    expect(ami?.tags[TAG.contentDigest]).toMatch(/^sha256:[0-9a-f]{64}-3$/);
  });

  it('without a SHA-256 checksum is baked again (only the object version identifies it)', async () => {
    const { summary, world } = await simulate(
      story('same-content-without-checksum', 2, '1.1.1', (ctx) => {
        upload(ctx, '1.1.0', body('1.1.0'), {});
        whenNoneRuns(ctx, () => upload(ctx, '1.1.1', body('1.1.0'), {}));
      }),
    );

    expect(summary.problems).toEqual([]);
    expect(builds(world)).toBe(2);
    const amis = [...world.ec2.images.values()].filter((i) => i.tags[TAG.managedBy]);
    expect(amis.every((i) => i.tags[TAG.contentDigest] === undefined)).toBe(true);
  });

  it('but with other bytes is baked again', async () => {
    const { summary, world } = await simulate(
      story('different-content', 2, '1.1.1', (ctx) => {
        upload(ctx, '1.1.0');
        whenNoneRuns(ctx, () => upload(ctx, '1.1.1', `${body('1.1.0')} changed`));
      }),
    );

    expect(summary.problems).toEqual([]);
    expect(builds(world)).toBe(2);
  });
});

describe('a redeploy request', () => {
  async function account() {
    await loadHandlers();
    const world = new World();
    routeClientsTo(world);
    seedWorld(world, { firstDeploy: false });
    return world;
  }
  const ask = (args: { key: string; versionId?: string }) =>
    asSomeoneElse(() => redeployRequest({ bucket: BUCKET, requestId: 'r-1', ...args }));

  it('names the object version under the key now, or the one asked for', async () => {
    const world = await account();
    const first = world.s3.put(BUCKET, releaseKey('1.1.0'), body('1.1.0'));

    const now = await ask({ key: releaseKey('1.1.0') });
    const asked = await ask({ key: releaseKey('1.1.0'), versionId: first.versionId });

    expect(now.input.artifact).toMatchObject({ key: releaseKey('1.1.0'), versionId: first.versionId });
    expect(asked).toEqual(now);
  });

  it('refuses a key or version S3 does not have, naming it', async () => {
    const world = await account();
    world.s3.put(BUCKET, releaseKey('1.1.0'), body('1.1.0'));

    await expect(ask({ key: releaseKey('9.9.9') })).rejects.toThrow(
      `s3://${BUCKET}/releases/web/prod/9.9.9.zip does not exist: nothing to deploy again`,
    );
    await expect(ask({ key: releaseKey('1.1.0'), versionId: 'gone' })).rejects.toThrow(
      `s3://${BUCKET}/releases/web/prod/1.1.0.zip (version "gone") does not exist`,
    );
  });

  it('refuses a key that is not a release before asking S3 anything', async () => {
    const world = await account();

    await expectFailure(
      ask({ key: 'releases/web/prod/1.1.0.exe' }),
      'InvalidConfig',
      'must end in .zip or .tar.gz',
    );
    expect(world.calls).toEqual([]);
  });
});
