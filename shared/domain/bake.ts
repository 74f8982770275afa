import { createHash } from 'node:crypto';
import { InvalidConfig } from '../errors.ts';
import { type ArtifactFormat, S3_VERSION_ID_PATTERN } from './artifact-key.ts';
import { imageTags } from './tags.ts';
import { quoted } from './text.ts';

/**
 * Names and documents for the Image Builder resources of a bake. One install component serves
 * every app (the artifact and command are parameters); each release gets its own recipe, named
 * after the artifact, so a recipe never changes once created.
 */

/**
 * The install component every app shares. Image Builder components are immutable: a changed
 * document needs a new version (a new name/version is created next to the old one, which
 * recipes baked earlier keep naming). 2.0.0 downloads the artifact by its S3 version id.
 */
export const INSTALL_COMPONENT = { name: 'bluegreen-install-artifact', version: '2.0.0' } as const;

/**
 * Image Builder's states of a build (ImageState.status in the Image Builder API reference): those
 * of a build that has not ended, and those of one that ended without an AMI. AVAILABLE is the
 * third kind: it ended with one.
 */
const IMAGE_RUNNING = new Set(['PENDING', 'CREATING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING']);
const IMAGE_FAILED = new Set(['FAILED', 'CANCELLED', 'DEPRECATED', 'DELETED', 'DISABLED']);

/** The build has not ended: it may still make an AMI nobody uses. */
export function buildRunning(status: string): boolean {
  return IMAGE_RUNNING.has(status);
}

/** The build ended without an AMI. */
export function buildFailed(status: string): boolean {
  return IMAGE_FAILED.has(status);
}

/** The build ended, one way or the other: a state it does not leave. */
export function buildEnded(status: string): boolean {
  return status === 'AVAILABLE' || buildFailed(status);
}

/** Region and account of an Image Builder ARN (the infrastructure configuration's, here). */
export function arnScope(arn: string): { partition: string; region: string; account: string } {
  const [, partition = 'aws', , region = '', account = ''] = arn.split(':');
  return { partition, region, account };
}

export function componentArn(scopeArn: string): string {
  const { partition, region, account } = arnScope(scopeArn);
  return `arn:${partition}:imagebuilder:${region}:${account}:component/${INSTALL_COMPONENT.name}/${INSTALL_COMPONENT.version}/1`;
}

export function recipeName(app: string, env: string, recipeId: string): string {
  return `bluegreen-${app}-${env}-${recipeId.slice(0, 12)}`;
}

/**
 * What names a deployment's image recipe (recipeName, its client token): the bake key when there
 * is one, so the same object version baked with other inputs (a patched parent image, a fixed
 * install command) gets a recipe of its own instead of meeting the old one; else the object
 * version's artifact id.
 */
export function recipeId(plan: { artifactId: string; bakeKey?: string | undefined }): string {
  return plan.bakeKey ?? plan.artifactId;
}

export const RECIPE_VERSION = '1.0.0';

/**
 * An image build as a person reads it: the image (the recipe's name) and the build's number. The
 * build ARN's middle part is the recipe's version, always RECIPE_VERSION: shown, it reads like the
 * release's version, which it is not.
 */
export function imageBuildName(imageBuildVersionArn: string): string {
  const [, name, , build] = imageBuildVersionArn.split('/');
  return name && build ? `image ${name}, build ${build}` : imageBuildVersionArn;
}

/** What an AMI is made of besides the artifact's bytes. */
export interface BakeInputs {
  /** The release bucket: the service's stack (two stages of the service never share an AMI). */
  bucket: string;
  format: ArtifactFormat;
  parentImage: string;
  installCommand: string;
  installDirectory: string;
  infrastructureConfigurationArn: string;
}

/**
 * The key an AMI baked from this content is found again by: the content digest together with
 * every other input of the bake (the parent image, the install command and directory, the format,
 * the infrastructure configuration, the service's bucket, the install component's and the
 * recipe's versions). The same bytes with a patched parent image or a fixed install command are
 * baked again; only a bake of the very same inputs is reused.
 */
export function bakeKey(contentDigest: string, inputs: BakeInputs): string {
  const parts = [
    contentDigest,
    inputs.bucket,
    inputs.format,
    inputs.parentImage,
    inputs.installCommand,
    inputs.installDirectory,
    inputs.infrastructureConfigurationArn,
    INSTALL_COMPONENT.version,
    RECIPE_VERSION,
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** The image version a recipe's builds belong to (Image Builder names it after the recipe). */
export function imageVersionArn(scopeArn: string, name: string): string {
  const { partition, region, account } = arnScope(scopeArn);
  return `arn:${partition}:imagebuilder:${region}:${account}:image/${name.toLowerCase()}/${RECIPE_VERSION}`;
}

export function recipeArn(scopeArn: string, name: string): string {
  const { partition, region, account } = arnScope(scopeArn);
  return `arn:${partition}:imagebuilder:${region}:${account}:image-recipe/${name}/${RECIPE_VERSION}`;
}

/**
 * What each parameter of the install component may hold. The document puts them into a bash
 * script inside single quotes, so none may hold a quote, a newline or a control character; each
 * is also held to what AWS allows for it. (The install command is the config author's own shell
 * command and goes in unquoted: the config schema keeps it to one printable line.)
 */
const PARAMETER_RULES: Record<string, { pattern: RegExp; means: string }> = {
  ArtifactBucket: { pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, means: 'an S3 bucket name' },
  ArtifactKey: {
    pattern: /^[A-Za-z0-9._/-]{1,1024}$/,
    means: 'an object key of letters, digits and . _ - /',
  },
  ArtifactVersionId: {
    pattern: S3_VERSION_ID_PATTERN,
    means: 'an S3 version id (letters, digits and . _ - + / =)',
  },
  ArtifactBucketOwner: { pattern: /^\d{12}$/, means: 'a 12-digit AWS account id' },
  ArtifactRegion: { pattern: /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, means: 'an AWS Region such as eu-west-1' },
  ArtifactFormat: { pattern: /^(zip|tar\.gz)$/, means: 'zip or tar.gz' },
  InstallDirectory: {
    pattern: /^\/[A-Za-z0-9._/-]{0,255}$/,
    means: 'an absolute path of letters, digits and . _ - /',
  },
  InstallCommand: { pattern: /^[^\p{Cc}]{1,4096}$/u, means: 'one line of printable characters' },
};

/**
 * The install component's parameters for one release: the exact object version to download
 * (bucket, key, version id; owner and Region of the bucket) and how to install it. Throws
 * InvalidConfig naming the parameter when a value could break out of the document's quoting:
 * the schemas have refused such values already, so this only guards against a new caller.
 */
export function installParameters(args: {
  bucket: string;
  key: string;
  versionId: string;
  bucketOwner: string;
  region: string;
  format: ArtifactFormat;
  installDirectory: string;
  installCommand: string;
}): Record<string, string> {
  const parameters: Record<string, string> = {
    ArtifactBucket: args.bucket,
    ArtifactKey: args.key,
    ArtifactVersionId: args.versionId,
    ArtifactBucketOwner: args.bucketOwner,
    ArtifactRegion: args.region,
    ArtifactFormat: args.format,
    InstallDirectory: args.installDirectory,
    InstallCommand: args.installCommand,
  };
  const problems = Object.entries(parameters)
    .filter(([name, value]) => !PARAMETER_RULES[name]?.pattern.test(value))
    .map(([name, value]) => `${name} ${quoted(value.slice(0, 80))} must be ${PARAMETER_RULES[name]?.means}`);
  if (problems.length > 0) throw new InvalidConfig(`install component parameters: ${problems.join('; ')}`);
  return parameters;
}

/** Where the download step leaves the artifact for the install step. */
const ARTIFACT_DIR = '/tmp/bluegreen-artifact';
const ARTIFACT_PATH = `${ARTIFACT_DIR}/artifact`;

/**
 * The AWSTOE document of the install component (schema 1.0). AWSTOE's S3Download action takes a
 * source URI, a destination, expectedBucketOwner and overwrite, and no object version (its input
 * table in the Image Builder user guide, "Action modules supported by AWSTOE component manager"),
 * so the download is `aws s3api get-object --version-id` in bash: the AMI holds exactly the object
 * the S3 event named, even if the key is written again while the build runs. The parent image
 * needs the AWS CLI (Amazon Linux 2023 and 2 have it), and the build instance profile needs
 * s3:GetObject and s3:GetObjectVersion on the release keys. Each script is a YAML block scalar,
 * so a parameter value never changes how the YAML parses, and every value but the install
 * command sits inside single quotes (installParameters keeps quotes out of them).
 */
export function installComponentDocument(name: string): string {
  return [
    `name: ${name}`,
    'description: >-',
    '  Downloads one S3 object version of a release artifact with the AWS CLI (the parent image',
    '  needs it; Amazon Linux has it), unpacks it and runs its install command.',
    'schemaVersion: 1.0',
    'parameters:',
    '  - ArtifactBucket:',
    '      type: string',
    '      description: The release bucket.',
    '  - ArtifactKey:',
    '      type: string',
    '      description: The release artifact key, releases/<app>/<env>/<version>.<zip|tar.gz>.',
    '  - ArtifactVersionId:',
    '      type: string',
    '      description: The S3 version id of the object to bake.',
    '  - ArtifactBucketOwner:',
    '      type: string',
    '      description: The account id that must own the bucket.',
    '  - ArtifactRegion:',
    '      type: string',
    "      description: The bucket's Region.",
    '  - ArtifactFormat:',
    '      type: string',
    '      description: zip or tar.gz.',
    '  - InstallDirectory:',
    '      type: string',
    '      description: Absolute path the artifact is unpacked into.',
    '  - InstallCommand:',
    '      type: string',
    '      description: Shell command run in the install directory.',
    'phases:',
    '  - name: build',
    '    steps:',
    '      - name: DownloadArtifact',
    '        action: ExecuteBash',
    '        maxAttempts: 3',
    '        inputs:',
    '          commands:',
    '            - |',
    '              set -euo pipefail',
    `              mkdir -p ${ARTIFACT_DIR}`,
    "              aws s3api get-object --region '{{ ArtifactRegion }}' --bucket '{{ ArtifactBucket }}' --key '{{ ArtifactKey }}' --version-id '{{ ArtifactVersionId }}' --expected-bucket-owner '{{ ArtifactBucketOwner }}' " +
      ARTIFACT_PATH,
    '      - name: InstallArtifact',
    '        action: ExecuteBash',
    '        inputs:',
    '          commands:',
    '            - |',
    '              set -euo pipefail',
    "              mkdir -p '{{ InstallDirectory }}'",
    `              if [ '{{ ArtifactFormat }}' = zip ]; then unzip -o -q ${ARTIFACT_PATH} -d '{{ InstallDirectory }}'; else tar -xzf ${ARTIFACT_PATH} -C '{{ InstallDirectory }}'; fi`,
    `              rm -rf ${ARTIFACT_DIR}`,
    "              cd '{{ InstallDirectory }}'",
    '              {{ InstallCommand }}',
    '',
  ].join('\n');
}

/**
 * Tags for the recipe, the build and the AMI: the content digest (when S3 has one) and the
 * artifact id are how a later deploy finds the AMI.
 */
export function bakeTags(state: {
  app: string;
  env: string;
  version: string;
  artifact: { bucket: string; key: string };
  plan: { artifactId: string; contentDigest?: string | undefined; bakeKey?: string | undefined };
}): Record<string, string> {
  return imageTags({
    app: state.app,
    env: state.env,
    version: state.version,
    artifactId: state.plan.artifactId,
    contentDigest: state.plan.contentDigest,
    bakeKey: state.plan.bakeKey,
    artifactUri: `s3://${state.artifact.bucket}/${state.artifact.key}`,
  });
}
