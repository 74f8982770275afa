import type { ArtifactFormat } from './artifact-key.ts';
import { imageTags } from './tags.ts';

/**
 * Names and documents for the Image Builder resources of a bake. One install component serves
 * every app (the artifact and command are parameters); each release gets its own recipe, named
 * after the artifact, so a recipe never changes once created.
 */

export const INSTALL_COMPONENT = { name: 'bluegreen-install-artifact', version: '1.0.0' } as const;

/** Region and account of an Image Builder ARN (the infrastructure configuration's, here). */
export function arnScope(arn: string): { partition: string; region: string; account: string } {
  const [, partition = 'aws', , region = '', account = ''] = arn.split(':');
  return { partition, region, account };
}

export function componentArn(scopeArn: string): string {
  const { partition, region, account } = arnScope(scopeArn);
  return `arn:${partition}:imagebuilder:${region}:${account}:component/${INSTALL_COMPONENT.name}/${INSTALL_COMPONENT.version}/1`;
}

export function recipeName(app: string, env: string, artifactId: string): string {
  return `bluegreen-${app}-${env}-${artifactId.slice(0, 12)}`;
}

export const RECIPE_VERSION = '1.0.0';

/** The image version a recipe's builds belong to (Image Builder names it after the recipe). */
export function imageVersionArn(scopeArn: string, name: string): string {
  const { partition, region, account } = arnScope(scopeArn);
  return `arn:${partition}:imagebuilder:${region}:${account}:image/${name.toLowerCase()}/${RECIPE_VERSION}`;
}

export function recipeArn(scopeArn: string, name: string): string {
  const { partition, region, account } = arnScope(scopeArn);
  return `arn:${partition}:imagebuilder:${region}:${account}:image-recipe/${name}/${RECIPE_VERSION}`;
}

export function installParameters(args: {
  bucket: string;
  key: string;
  format: ArtifactFormat;
  installDirectory: string;
  installCommand: string;
}): Record<string, string> {
  return {
    ArtifactS3Uri: `s3://${args.bucket}/${args.key}`,
    ArtifactFormat: args.format,
    InstallDirectory: args.installDirectory,
    InstallCommand: args.installCommand,
  };
}

/**
 * The AWSTOE document of the install component. Parameters are validated before they get here
 * (bucket and key charsets, an absolute install path without quotes); the install command is
 * the config author's own shell command, run as root on the build instance.
 */
export function installComponentDocument(name: string): string {
  return [
    `name: ${name}`,
    'description: Download a release artifact from S3, unpack it and run its install command.',
    'schemaVersion: 1.0',
    'parameters:',
    '  - ArtifactS3Uri:',
    '      type: string',
    '      description: s3://bucket/key of the release artifact.',
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
    '        action: S3Download',
    '        inputs:',
    "          - source: '{{ ArtifactS3Uri }}'",
    '            destination: /tmp/bluegreen-artifact/artifact',
    '      - name: InstallArtifact',
    '        action: ExecuteBash',
    '        inputs:',
    '          commands:',
    '            - set -euo pipefail',
    "            - mkdir -p '{{ InstallDirectory }}'",
    "            - if [ '{{ ArtifactFormat }}' = zip ]; then unzip -o -q /tmp/bluegreen-artifact/artifact -d '{{ InstallDirectory }}'; else tar -xzf /tmp/bluegreen-artifact/artifact -C '{{ InstallDirectory }}'; fi",
    "            - cd '{{ InstallDirectory }}' && {{ InstallCommand }}",
    '            - rm -rf /tmp/bluegreen-artifact',
    '',
  ].join('\n');
}

/** Tags for the recipe, the build and the AMI: the artifact id is how a later deploy finds the AMI. */
export function bakeTags(state: {
  app: string;
  env: string;
  version: string;
  artifact: { bucket: string; key: string };
  plan: { artifactId: string };
}): Record<string, string> {
  return imageTags({
    app: state.app,
    env: state.env,
    version: state.version,
    artifactId: state.plan.artifactId,
    artifactUri: `s3://${state.artifact.bucket}/${state.artifact.key}`,
  });
}
