import { describe, expect, it } from 'vitest';
import { simulate } from '../../sim/simulate.ts';
import type { World } from '../../sim/world.ts';
import { BUCKET, releaseKey } from '../../sim/worlds.ts';
import { testScenario } from '../support/scenarios.ts';

// The bake downloads the artifact by the S3 version id the upload event named. The simulated
// Image Builder downloads early in the build (two minutes into a 20-minute build) exactly the
// version the recipe's parameters name, as `aws s3api get-object --version-id` does.

const KEY = releaseKey('1.1.0');

/** What each running green instance's AMI holds. */
function bakedIntoGreen(world: World) {
  return [...world.ec2.instances.values()]
    .filter((i) => world.ec2.state(i) === 'running' && i.tags['bluegreen:slot'] === 'b')
    .map((i) => world.imagebuilder.baked.get(i.imageId));
}

describe('the bake downloads the object version of the upload', () => {
  it('bakes the uploaded object even when the key is written again before the build downloads it', async () => {
    let uploadedVersion = '';
    const scenario = testScenario('key-written-again-during-bake', 'SUCCEEDED', {
      summary: '1.1.0 is uploaded, then written again one minute into the build',
      act(ctx) {
        const record = ctx.upload(KEY, 'PK\u0003\u0004 web 1.1.0');
        uploadedVersion = record.s3.object.versionId ?? '';
        ctx.deliver([record]);
        // Plan has checked the key by now; the build has not downloaded yet. No event is
        // delivered for the second write, so only the first upload's execution runs.
        ctx.after(60, () => ctx.world.s3.put(BUCKET, KEY, 'PK\u0003\u0004 something else'));
      },
    });

    const { summary, world } = await simulate(scenario);

    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.violations).toEqual([]);
    const baked = bakedIntoGreen(world);
    expect(baked).toHaveLength(3);
    for (const artifact of baked) {
      expect(artifact).toEqual({
        bucket: BUCKET,
        key: KEY,
        versionId: uploadedVersion,
        body: 'PK\u0003\u0004 web 1.1.0',
      });
    }
  });

  it('fails the bake, launching nothing, when the version is gone before the build downloads it', async () => {
    const scenario = testScenario('version-deleted-during-bake', 'FAILED', {
      summary: '1.1.0 is uploaded, then its version is deleted one minute into the build',
      act(ctx) {
        const record = ctx.upload(KEY, 'PK\u0003\u0004 web 1.1.0');
        ctx.deliver([record]);
        ctx.after(60, () => ctx.world.s3.buckets.get(BUCKET)?.delete(KEY));
      },
    });

    const { summary, world } = await simulate(scenario);

    expect(summary.status).toBe('FAILED');
    expect(summary.cause).toContain('failed at step DownloadArtifact');
    expect(summary.cause).toContain('NoSuchVersion');
    expect(world.calls.filter((c) => c.operation === 'RunInstances')).toHaveLength(0);
  });
});
