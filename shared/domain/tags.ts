import type { Slot } from './traffic.ts';

/**
 * Tags the service puts on everything it creates. IAM policies condition on MANAGED_BY so the
 * service can only terminate, deregister or retag what it launched; the other tags let a task
 * that died halfway be cleaned up by a search instead of by remembered ids.
 */
export const TAG = {
  managedBy: 'bluegreen:managed-by',
  app: 'bluegreen:app',
  env: 'bluegreen:env',
  version: 'bluegreen:version',
  slot: 'bluegreen:slot',
  deploymentId: 'bluegreen:deployment-id',
  /** On a slot's target group: the execution that claimed it (see ownership.ts). */
  execution: 'bluegreen:execution',
  artifactId: 'bluegreen:artifact-id',
  /** On an AMI, its recipe and its build: the digest of the artifact's content (identity.ts contentDigest). */
  contentDigest: 'bluegreen:content-sha256',
  /** On an AMI, its recipe and its build: the content digest with every other input (bake.ts bakeKey). */
  bakeKey: 'bluegreen:bake-key',
  artifact: 'bluegreen:artifact',
} as const;

export const MANAGED_BY = 'bluegreen-ec2';

export type Tags = Record<string, string>;

interface Release {
  app: string;
  env: string;
  version: string;
}

/** What every resource the service creates carries: who made it, for which app/env and release. */
function releaseTags(release: Release): Tags {
  return {
    [TAG.managedBy]: MANAGED_BY,
    [TAG.app]: release.app,
    [TAG.env]: release.env,
    [TAG.version]: release.version,
  };
}

export function fleetTags(args: Release & { slot: Slot; deploymentId: string }): Tags {
  return {
    ...releaseTags(args),
    [TAG.slot]: args.slot,
    [TAG.deploymentId]: args.deploymentId,
    Name: `${args.app}-${args.env}-${args.slot}-${args.version}`.slice(0, 255),
  };
}

export function imageTags(
  args: Release & {
    artifactId: string;
    artifactUri: string;
    contentDigest?: string | undefined;
    bakeKey?: string | undefined;
  },
): Tags {
  return {
    ...releaseTags(args),
    [TAG.artifactId]: args.artifactId,
    ...(args.contentDigest ? { [TAG.contentDigest]: args.contentDigest } : {}),
    ...(args.bakeKey ? { [TAG.bakeKey]: args.bakeKey } : {}),
    // Tag values are at most 256 characters.
    [TAG.artifact]: args.artifactUri.slice(0, 256),
  };
}

export function toAwsTags(tags: Tags): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Whether an instance's tags say this service launched it and match every tag given. */
export function launchedByUs(instanceTags: Tags | undefined, tags: Tags): boolean {
  return (
    instanceTags !== undefined &&
    instanceTags[TAG.managedBy] === MANAGED_BY &&
    Object.entries(tags).every(([key, value]) => instanceTags[key] === value)
  );
}
