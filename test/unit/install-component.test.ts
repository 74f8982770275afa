import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { INSTALL_COMPONENT, installComponentDocument, installParameters } from '#shared/domain/bake.ts';

/**
 * The install component as Image Builder runs it. Components are immutable, so the document of a
 * published version must never change; its parameters reach bash, so quoting is tested by running
 * the rendered scripts with a stand-in `aws` that records its arguments.
 */

/**
 * sha256 of each published version's document. Changing the document without a new version would
 * leave accounts that already created INSTALL_COMPONENT.version on the old document (creating a
 * name/version again is refused, and the service takes that as "already there").
 */
const PUBLISHED: Record<string, string> = {
  // Downloaded with S3Download by key: a key written again during the build changed what was baked.
  '1.0.0': 'e9cbedd9ff666d0c32c397f44cb1d6ca2eeefcc4230c47dc78cd4f0906de4547',
  '2.0.0': 'd67801efdf1beb48cd43dc1814fd988bfa24f1a71e38256b8b969b3ce3ead67a',
};

const DOCUMENT = installComponentDocument(INSTALL_COMPONENT.name);

interface Step {
  name: string;
  action: string;
  inputs: { commands: string[] };
}
interface ComponentDocument {
  name: string;
  description: string;
  schemaVersion: number;
  parameters: Record<string, { type: string }>[];
  phases: { name: string; steps: Step[] }[];
}

function parsed(text = DOCUMENT): ComponentDocument {
  return parse(text) as ComponentDocument;
}

const ARGS = {
  bucket: 'bluegreen-ec2-prod-releases-123456789012',
  key: 'releases/billing-api/eu-prod/2026.03.01-rc_2.tar.gz',
  // Version ids are opaque base64-like strings: + / = must reach S3 as they are.
  versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vj/VBH40Nr=',
  bucketOwner: '123456789012',
  region: 'eu-west-1',
  format: 'tar.gz' as const,
  installDirectory: '/opt/app',
  installCommand: './install.sh --mode "prod" && echo installed: ok # done',
};

/** AWSTOE's `{{ Name }}` substitution of the recipe's parameter values. */
function substitute(text: string, parameters: Record<string, string>): string {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => {
    const value = parameters[name];
    if (value === undefined) throw new Error(`the document uses {{ ${name} }}, which is no parameter`);
    return value;
  });
}

function scripts(parameters: Record<string, string>): Record<string, string> {
  const [phase] = parsed().phases;
  return Object.fromEntries(
    (phase?.steps ?? []).map((step) => [
      step.name,
      step.inputs.commands.map((c) => substitute(c, parameters)).join('\n'),
    ]),
  );
}

describe('the install component document', () => {
  it('is the document published as this version (a changed document needs a new version)', () => {
    const hash = createHash('sha256').update(DOCUMENT).digest('hex');
    expect(
      hash,
      `installComponentDocument changed: bump INSTALL_COMPONENT.version (Image Builder components are immutable) and record ${hash} under it`,
    ).toBe(PUBLISHED[INSTALL_COMPONENT.version]);
  });

  it('declares exactly the parameters a recipe gives it, all strings without defaults', () => {
    const declared = parsed().parameters.map((p) => Object.keys(p)[0]);
    expect(declared.sort()).toEqual(Object.keys(installParameters(ARGS)).sort());
    for (const parameter of parsed().parameters) {
      expect(Object.values(parameter)[0]).toMatchObject({ type: 'string' });
      expect(Object.values(parameter)[0]).not.toHaveProperty('default');
    }
  });

  it('uses only parameters it declares', () => {
    const used = new Set([...DOCUMENT.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(Object.keys(installParameters(ARGS)).sort());
  });

  it('downloads with the AWS CLI by version id, not with S3Download (which takes no version)', () => {
    const steps = parsed().phases[0]?.steps ?? [];
    expect(steps.map((s) => [s.name, s.action])).toEqual([
      ['DownloadArtifact', 'ExecuteBash'],
      ['InstallArtifact', 'ExecuteBash'],
    ]);
    expect(DOCUMENT).not.toContain('S3Download');
    expect(parsed().description).toContain('AWS CLI');
  });

  it('parses the same whether AWSTOE substitutes parameters before or after reading the YAML', () => {
    const parameters = installParameters(ARGS);
    const before = parsed(substitute(DOCUMENT, parameters)).phases[0]?.steps.map((s) => s.inputs.commands);
    const after = parsed().phases[0]?.steps.map((s) =>
      s.inputs.commands.map((c) => substitute(c, parameters)),
    );
    expect(before).toEqual(after);
  });
});

describe('installParameters', () => {
  it('names the object version, the bucket owner and Region, and how to install', () => {
    expect(installParameters(ARGS)).toEqual({
      ArtifactBucket: ARGS.bucket,
      ArtifactKey: ARGS.key,
      ArtifactVersionId: ARGS.versionId,
      ArtifactBucketOwner: '123456789012',
      ArtifactRegion: 'eu-west-1',
      ArtifactFormat: 'tar.gz',
      InstallDirectory: '/opt/app',
      InstallCommand: ARGS.installCommand,
    });
  });

  it.each([
    ['key', { key: "releases/web/prod/1.0.zip'; reboot; '" }, 'ArtifactKey'],
    ['version id', { versionId: "v1' && reboot && '" }, 'ArtifactVersionId'],
    ['bucket', { bucket: 'Bad_Bucket' }, 'ArtifactBucket'],
    ['install directory', { installDirectory: "/opt/a'pp" }, 'InstallDirectory'],
    ['install command', { installCommand: './install.sh\nreboot' }, 'InstallCommand'],
    ['bucket owner', { bucketOwner: '' }, 'ArtifactBucketOwner'],
    ['Region', { region: "eu-west-1'" }, 'ArtifactRegion'],
  ])('refuses a %s that could break out of the quoting, naming the parameter', (_what, change, name) => {
    expect(() => installParameters({ ...ARGS, ...change })).toThrow(
      expect.objectContaining({ name: 'InvalidConfig', message: expect.stringContaining(`${name} `) }),
    );
  });
});

describe('the install component scripts, run by bash', () => {
  let work: string;
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  /**
   * A build instance in miniature: a stand-in `aws` that records its arguments one per line and
   * writes the artifact where it is told (its last argument), and an artifact whose install.sh
   * records its own arguments and working directory.
   */
  function buildInstance(format: 'zip' | 'tar.gz', awsExit = 0) {
    work = mkdtempSync(join(tmpdir(), 'bluegreen-install-'));
    const bin = join(work, 'bin');
    const source = join(work, 'source');
    mkdirSync(bin);
    mkdirSync(source);
    writeFileSync(join(source, 'install.sh'), '#!/bin/bash\nprintf "%s\\n" "$PWD" "$@" > installed.txt\n');
    chmodSync(join(source, 'install.sh'), 0o755);
    const artifact = join(work, `artifact.${format}`);
    if (format === 'zip') execFileSync('zip', ['-q', '-r', artifact, '.'], { cwd: source });
    else execFileSync('tar', ['-czf', artifact, '-C', source, '.']);
    writeFileSync(
      join(bin, 'aws'),
      `#!/bin/bash\nprintf "%s\\n" "$@" > '${work}/aws-args.txt'\n[ ${awsExit} -eq 0 ] || exit ${awsExit}\ncp '${artifact}' "\${@: -1}"\necho '{"VersionId": "recorded"}'\n`,
    );
    chmodSync(join(bin, 'aws'), 0o755);
    return { path: `${bin}:${process.env.PATH}`, installDirectory: join(work, 'opt', 'app') };
  }

  /** Runs a script with the stand-in on PATH; its fixed scratch directory moves into `work`, so
   * test runs side by side do not share /tmp/bluegreen-artifact. */
  function run(script: string, path: string) {
    const own = script.replaceAll('/tmp/bluegreen-artifact', join(work, 'scratch'));
    return spawnSync('bash', ['-c', own], { env: { ...process.env, PATH: path }, encoding: 'utf8' });
  }

  it.each(['tar.gz', 'zip'] as const)(
    'downloads exactly the version named, unpacks the %s and runs the install command in it',
    (format) => {
      const instance = buildInstance(format);
      const parameters = installParameters({ ...ARGS, format, installDirectory: instance.installDirectory });
      const { DownloadArtifact = '', InstallArtifact = '' } = scripts(parameters);

      const download = run(DownloadArtifact, instance.path);
      expect(download.stderr).toBe('');
      expect(download.status).toBe(0);
      // Each value arrives as one argument, as it is: nothing split, nothing expanded.
      expect(readFileSync(join(work, 'aws-args.txt'), 'utf8').split('\n').slice(0, -1)).toEqual([
        's3api',
        'get-object',
        '--region',
        'eu-west-1',
        '--bucket',
        ARGS.bucket,
        '--key',
        ARGS.key,
        '--version-id',
        ARGS.versionId,
        '--expected-bucket-owner',
        '123456789012',
        join(work, 'scratch', 'artifact'),
      ]);

      const install = run(InstallArtifact, instance.path);
      expect(install.stderr).toBe('');
      expect(install.status).toBe(0);
      // The install command ran in the install directory with its own quoting intact.
      expect(readFileSync(join(instance.installDirectory, 'installed.txt'), 'utf8')).toBe(
        `${instance.installDirectory}\n--mode\nprod\n`,
      );
      expect(install.stdout).toBe('installed: ok\n');
    },
  );

  it('fails the download step when the CLI fails (a missing version, access denied)', () => {
    const instance = buildInstance('zip', 254);
    const { DownloadArtifact = '' } = scripts(
      installParameters({ ...ARGS, installDirectory: instance.installDirectory }),
    );
    expect(run(DownloadArtifact, instance.path).status).toBe(254);
  });
});
