import {
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  type Filter,
  type Image,
  type Instance,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { DeployConfig } from '../domain/config.ts';
import { MANAGED_BY, TAG, type Tags, toAwsTags } from '../domain/tags.ts';
import { isNotFound } from './errors.ts';
import { everyPage } from './paging.ts';

export const ec2 = new EC2Client({});

export interface InstanceSummary {
  id: string;
  state: string;
  stateReason?: string;
  /** When EC2 launched it (ISO 8601). */
  launchedAt?: string;
  tags: Tags;
}

function summarize(instance: Instance): InstanceSummary {
  return {
    id: instance.InstanceId ?? '',
    state: instance.State?.Name ?? 'unknown',
    ...(instance.StateReason?.Message ? { stateReason: instance.StateReason.Message } : {}),
    ...(instance.LaunchTime ? { launchedAt: new Date(instance.LaunchTime).toISOString() } : {}),
    tags: Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
  };
}

/**
 * Launches up to `count` instances from the launch template with the baked AMI, tagged at launch.
 * MinCount 1 lets EC2 launch what capacity allows, so the caller sees a shortfall instead of an
 * all-or-nothing failure. The client token makes a retried call return the same instances.
 */
export async function launchInstances(args: {
  launchTemplate: DeployConfig['launchTemplate'];
  amiId: string;
  count: number;
  clientToken: string;
  tags: Tags;
}): Promise<string[]> {
  const { id, name, version } = args.launchTemplate;
  // One call for the whole fleet: RunInstances has no per-call maximum beyond the account's
  // quotas, and EC2's RunInstances resource bucket holds 1,000 instances (the config's most).
  const out = await ec2.send(
    new RunInstancesCommand({
      LaunchTemplate: { ...(id ? { LaunchTemplateId: id } : { LaunchTemplateName: name }), Version: version },
      ImageId: args.amiId,
      MinCount: 1,
      MaxCount: args.count,
      ClientToken: args.clientToken,
      TagSpecifications: [
        { ResourceType: 'instance', Tags: toAwsTags(args.tags) },
        { ResourceType: 'volume', Tags: toAwsTags(args.tags) },
      ],
    }),
  );
  return (out.Instances ?? []).map((i) => i.InstanceId ?? '').filter(Boolean);
}

/**
 * Pages of 1,000 read at most from one answer: 20,000 instances (or images) match no question the
 * service asks (a fleet is at most 1,000 a slot); more is EC2 misbehaving, not a longer list.
 */
const MAX_PAGES = 20;

/**
 * Every page of a DescribeInstances answer. By filter it asks for pages of 1,000 (MaxResults'
 * most), which also draws on EC2's larger request bucket (unfiltered, unpaginated calls have a
 * smaller one); MaxResults cannot be given with InstanceIds.
 */
async function describe(filters: Filter[], instanceIds?: string[]): Promise<InstanceSummary[]> {
  const found: InstanceSummary[] = [];
  const pages = everyPage('DescribeInstances', MAX_PAGES, (NextToken) =>
    ec2.send(
      new DescribeInstancesCommand({
        ...(instanceIds ? { InstanceIds: instanceIds } : { Filters: filters, MaxResults: 1000 }),
        NextToken,
      }),
    ),
  );
  for await (const out of pages) {
    for (const reservation of out.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) found.push(summarize(instance));
    }
  }
  return found;
}

export function describeInstances(instanceIds: string[]): Promise<InstanceSummary[]> {
  return instanceIds.length === 0 ? Promise.resolve([]) : describe([], instanceIds);
}

const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

/** Instances this service launched that match every tag given and are not (being) terminated. */
export function findManagedInstances(tags: Tags): Promise<InstanceSummary[]> {
  return describe([
    { Name: `tag:${TAG.managedBy}`, Values: [MANAGED_BY] },
    ...Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
    { Name: 'instance-state-name', Values: LIVE_STATES },
  ]);
}

/**
 * Instances this service launched that match every tag given, in any state: one terminated a
 * moment ago (by us, or by dying) is still listed for about an hour, and may still be registered.
 */
export function findLaunchedInstances(tags: Tags): Promise<InstanceSummary[]> {
  return describe([
    { Name: `tag:${TAG.managedBy}`, Values: [MANAGED_BY] },
    ...Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
  ]);
}

/**
 * The instances of these ids EC2 still knows, in any state. By filter, not InstanceIds: an id EC2
 * no longer knows is left out instead of failing the whole call.
 */
export async function instancesById(instanceIds: string[]): Promise<InstanceSummary[]> {
  const found: InstanceSummary[] = [];
  // "Up to 200 values per filter in a single request" (Amazon EC2 User Guide, Filtering resources).
  for (let i = 0; i < instanceIds.length; i += 200) {
    found.push(...(await describe([{ Name: 'instance-id', Values: instanceIds.slice(i, i + 200) }])));
  }
  return found;
}

/** TerminateInstances takes "up to 1000 instance IDs" a call (EC2 API reference, TerminateInstances). */
const TERMINATE_IDS_PER_CALL = 1000;

export async function terminateInstances(instanceIds: string[]): Promise<void> {
  // TerminateInstances is idempotent: terminating a terminated instance succeeds.
  for (let i = 0; i < instanceIds.length; i += TERMINATE_IDS_PER_CALL) {
    const InstanceIds = instanceIds.slice(i, i + TERMINATE_IDS_PER_CALL);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds }));
  }
}

/** The newest available AMI of ours baked from this artifact, if one exists. */
export function findAmiByArtifact(artifactId: string): Promise<string | undefined> {
  return newestAvailableImage({ [TAG.artifactId]: artifactId });
}

/**
 * The newest available AMI the service baked for this app/env from an artifact with this bake key
 * (the content digest with every other bake input: any key, any version), if one exists. Another
 * app/env's AMI is never taken.
 */
export function findAmiByContent(app: string, env: string, key: string): Promise<string | undefined> {
  return newestAvailableImage({
    [TAG.managedBy]: MANAGED_BY,
    [TAG.app]: app,
    [TAG.env]: env,
    [TAG.bakeKey]: key,
  });
}

async function newestAvailableImage(tags: Tags): Promise<string | undefined> {
  const found: Image[] = [];
  // Every page, 1,000 images a page (MaxResults' most): the newest may be on any of them.
  const pages = everyPage('DescribeImages', MAX_PAGES, (NextToken) =>
    ec2.send(
      new DescribeImagesCommand({
        Owners: ['self'],
        Filters: [
          ...Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
          { Name: 'state', Values: ['available'] },
        ],
        MaxResults: 1000,
        NextToken,
      }),
    ),
  );
  for await (const out of pages) found.push(...(out.Images ?? []));
  const images = found.sort((x, y) => (y.CreationDate ?? '').localeCompare(x.CreationDate ?? ''));
  return images[0]?.ImageId;
}

/** CreateTags takes "up to 1000 resource IDs" a call (EC2 API reference, CreateTags). */
const TAG_RESOURCES_PER_CALL = 1000;

export async function tagResources(resourceIds: string[], tags: Tags): Promise<void> {
  for (let i = 0; i < resourceIds.length; i += TAG_RESOURCES_PER_CALL) {
    const Resources = resourceIds.slice(i, i + TAG_RESOURCES_PER_CALL);
    await ec2.send(new CreateTagsCommand({ Resources, Tags: toAwsTags(tags) }));
  }
}

/** A launch template as EC2 lists it. */
export interface LaunchTemplateSummary {
  id: string;
  name: string;
  defaultVersion: number | undefined;
  latestVersion: number | undefined;
}

/** The launch template a config names (by id or name); undefined when EC2 has none. */
export async function findLaunchTemplate(
  template: DeployConfig['launchTemplate'],
): Promise<LaunchTemplateSummary | undefined> {
  try {
    const out = await ec2.send(
      new DescribeLaunchTemplatesCommand(
        template.id ? { LaunchTemplateIds: [template.id] } : { LaunchTemplateNames: [template.name ?? ''] },
      ),
    );
    const [found] = out.LaunchTemplates ?? [];
    return found
      ? {
          id: found.LaunchTemplateId ?? '',
          name: found.LaunchTemplateName ?? '',
          defaultVersion: found.DefaultVersionNumber,
          latestVersion: found.LatestVersionNumber,
        }
      : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** One version of the launch template: its description and image; undefined when it is gone. */
async function templateVersion(
  templateId: string,
  version: number,
): Promise<{ description?: string; imageId?: string } | undefined> {
  try {
    const out = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        LaunchTemplateId: templateId,
        Versions: [String(version)],
      }),
    );
    const [found] = out.LaunchTemplateVersions ?? [];
    if (!found) return undefined;
    return {
      ...(found.VersionDescription !== undefined ? { description: found.VersionDescription } : {}),
      ...(found.LaunchTemplateData?.ImageId !== undefined
        ? { imageId: found.LaunchTemplateData.ImageId }
        : {}),
    };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * A new version of the launch template holding the baked AMI, based on the version the config
 * names (resolved to its number: SourceVersion takes a number). The client token makes a retried
 * call return the version the first one made. Returns the version's number.
 *
 * $Latest resolves to another number once the first call has made its version: a retry sending
 * that number with the same token would be refused (IdempotentParameterMismatch). So a latest
 * version that is the one this call makes (same description, same image) is returned as it is.
 */
export async function templateVersionWithImage(
  template: LaunchTemplateSummary,
  sourceVersion: string,
  amiId: string,
  clientToken: string,
  description: string,
): Promise<number> {
  const text = description.slice(0, 255);
  if (sourceVersion === '$Latest' && template.latestVersion !== undefined) {
    const latest = await templateVersion(template.id, template.latestVersion);
    if (latest?.description === text && latest.imageId === amiId) return template.latestVersion;
  }
  const source =
    sourceVersion === '$Default'
      ? template.defaultVersion
      : sourceVersion === '$Latest'
        ? template.latestVersion
        : Number(sourceVersion);
  const out = await ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: template.id,
      ...(source !== undefined ? { SourceVersion: String(source) } : {}),
      LaunchTemplateData: { ImageId: amiId },
      VersionDescription: text,
      ClientToken: clientToken,
    }),
  );
  const number = out.LaunchTemplateVersion?.VersionNumber;
  if (number === undefined) throw new TypeError('CreateLaunchTemplateVersion returned no version number');
  return number;
}

/**
 * Deletes versions of a launch template the service made; a version already gone is fine, any
 * other refusal (the template's default version, say) is reported, not thrown: the version is
 * left, and nothing runs from it once its group is gone.
 */
export async function deleteTemplateVersions(templateId: string, versions: number[]): Promise<string[]> {
  if (versions.length === 0) return [];
  const out = await ec2.send(
    new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: versions.map(String) }),
  );
  return (out.UnsuccessfullyDeletedLaunchTemplateVersions ?? [])
    .filter((v) => v.ResponseError?.Code !== 'launchTemplateVersionDoesNotExist')
    .map((v) =>
      `version ${v.VersionNumber}: ${v.ResponseError?.Code} ${v.ResponseError?.Message ?? ''}`.trim(),
    );
}
