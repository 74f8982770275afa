import type { WorldContext } from './context.ts';
import { awsError, faultError } from './errors.ts';
import type { Ec2RateLimits } from './throttling.ts';

type Tags = Record<string, string>;

export interface SimInstance {
  id: string;
  imageId: string;
  /** The launch template it was launched from (its id or name, as the launch named it), or 'seed'. */
  launchTemplate: string;
  /** The launch template version it was launched from, when the launch named the template's version. */
  launchTemplateVersion?: number;
  launchedAt: number;
  bootSeconds: number;
  tags: Tags;
  /** Set when TerminateInstances was called. */
  terminateRequestedAt?: number;
  /** Set when the instance dies on its own (a boot failure). */
  diedAt?: number;
  stateReason?: string;
}

export interface SimImage {
  id: string;
  name: string;
  createdAt: number;
  tags: Tags;
}

/** One version of a launch template: what the simulator keeps of its launch data. */
export interface SimLaunchTemplateVersion {
  /** The AMI the version launches (undefined: the launch must name one, as RunInstances' ImageId). */
  imageId?: string;
  description?: string;
  createdAt: number;
}

/** What a launch template holds that IAM authorizes a launch from it on, and its versions. */
export interface SimLaunchTemplate {
  id: string;
  name: string;
  tags: Tags;
  /** The role of the template's instance profile (passed to EC2 on launch). */
  instanceProfile: { arn: string; roleArn: string };
  subnetId: string;
  vpcId: string;
  securityGroupIds: string[];
  keyName?: string;
  /** Its versions by number; version 1 is the template as it was added. */
  versions: Map<number, SimLaunchTemplateVersion>;
  defaultVersion: number;
  latestVersion: number;
}

/** A launch template as the starting world adds it: its versions are made for it (version 1). */
export type NewLaunchTemplate = Omit<SimLaunchTemplate, 'versions' | 'defaultVersion' | 'latestVersion'>;

const SHUTDOWN_SECONDS = 30;

/**
 * What one request may hold, from the EC2 API reference and user guide (read 2026-12):
 * TerminateInstances "Constraints: Up to 1000 instance IDs", CreateTags "Constraints: Up to 1000
 * resource IDs"; DescribeInstances MaxResults "Valid range: 5-1000" and "You cannot specify this
 * parameter and the instance IDs parameter in the same request"; filtering: "up to 50 filters and up
 * to 200 values per filter in a single request" (Amazon EC2 User Guide, Filtering resources).
 */
export const EC2_LIMITS = {
  terminateIds: 1000,
  tagResources: 1000,
  maxResults: [5, 1000],
  filters: 50,
  filterValues: 200,
  /**
   * DeleteLaunchTemplateVersions: "You can delete up to 200 launch template versions in a single
   * request" (EC2 API reference); VersionDescription: "Constraints: Maximum 255 characters"
   * (CreateLaunchTemplateVersion); ClientToken: "Constraint: Maximum 128 ASCII characters."
   */
  deleteVersions: 200,
  versionDescription: 255,
  clientToken: 128,
} as const;

function tooMany(what: string, limit: number, got: number) {
  return awsError('InvalidParameterValue', `${what}: at most ${limit} in one request, got ${got}`);
}
/**
 * How long EC2 keeps listing an instance once it is terminated: "Recently terminated instances
 * might appear in the returned results. This interval is usually less than one hour."
 * (DescribeInstances, EC2 API reference). After it, the instance is gone from every answer.
 */
const LISTED_AFTER_TERMINATION_SECONDS = 3600;

function tagList(tags: Tags) {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function fromTagSpecs(
  specs: { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[] | undefined,
): Tags {
  const spec = (specs ?? []).find((s) => s.ResourceType === 'instance');
  return Object.fromEntries((spec?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

/**
 * EC2: instances boot (pending → running), can die while booting, shut down when terminated;
 * RunInstances honours ClientToken and may launch fewer than asked when capacity is short;
 * AMIs carry tags and can be searched by them.
 */
export class Ec2Model {
  readonly instances = new Map<string, SimInstance>();
  readonly images = new Map<string, SimImage>();
  /** Launch templates by id and by name. */
  readonly launchTemplates = new Map<string, SimLaunchTemplate>();
  private readonly tokens = new Map<string, string[]>();
  /** CreateLaunchTemplateVersion's client tokens: the template and the version each one made. */
  private readonly versionTokens = new Map<string, { templateId: string; version: number; asked: string }>();
  /** How many more instances EC2 will launch (undefined: unlimited). */
  capacity: number | undefined;
  bootSeconds = 60;
  /** Instances launched from these AMIs die while booting. */
  readonly dyingImages = new Set<string>();
  /** The account's EC2 request and resource buckets; no limits when undefined. */
  rateLimits: Ec2RateLimits | undefined;
  /** Pages of DescribeInstances answers not yet read, by their NextToken. */
  private readonly pages = new Map<string, SimInstance[]>();
  private pageCount = 0;

  constructor(private readonly world: WorldContext) {}

  state(instance: SimInstance, now = this.world.now()): string {
    if (instance.terminateRequestedAt !== undefined) {
      return now >= instance.terminateRequestedAt + SHUTDOWN_SECONDS * 1000 ? 'terminated' : 'shutting-down';
    }
    if (instance.diedAt !== undefined && now >= instance.diedAt) return 'terminated';
    return now >= instance.launchedAt + instance.bootSeconds * 1000 ? 'running' : 'pending';
  }

  /** When the instance reached `terminated` (undefined while it has not), as state() says. */
  terminatedAt(instance: SimInstance): number | undefined {
    const at =
      instance.terminateRequestedAt !== undefined
        ? instance.terminateRequestedAt + SHUTDOWN_SECONDS * 1000
        : instance.diedAt;
    return at !== undefined && this.world.now() >= at ? at : undefined;
  }

  /**
   * Whether EC2 still knows the instance. The simulator keeps every instance (the safety monitor
   * and the tests look at all of them), but about an hour after termination EC2 forgets one: it is
   * left out of filtered answers, and naming its id fails with InvalidInstanceID.NotFound.
   */
  listed(instance: SimInstance): boolean {
    const at = this.terminatedAt(instance);
    return at === undefined || this.world.now() < at + LISTED_AFTER_TERMINATION_SECONDS * 1000;
  }

  /** The ids EC2 does not know (never launched, or forgotten since termination). */
  private unknownIds(ids: readonly string[]): string[] {
    return ids.filter((id) => {
      const instance = this.instances.get(id);
      return !instance || !this.listed(instance);
    });
  }

  private notFound(missing: readonly string[]) {
    return missing.length === 1
      ? awsError('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`)
      : awsError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
  }

  /** When the instance reached running (undefined while pending or if it never will). */
  runningSince(instance: SimInstance): number | undefined {
    const at = instance.launchedAt + instance.bootSeconds * 1000;
    if (instance.diedAt !== undefined && instance.diedAt <= at) return undefined;
    return this.world.now() >= at ? at : undefined;
  }

  /** Adds an instance as if launched earlier (for the starting world). */
  seedInstance(tags: Tags, imageId: string, launchedAt: number): SimInstance {
    const instance: SimInstance = {
      id: this.world.id('i-', 17),
      imageId,
      launchTemplate: 'seed',
      launchedAt,
      bootSeconds: this.bootSeconds,
      tags,
    };
    this.instances.set(instance.id, instance);
    return instance;
  }

  /** Adds a launch template as made earlier: version 1 (its default and latest) is the template as given. */
  addLaunchTemplate(template: NewLaunchTemplate): SimLaunchTemplate {
    const added: SimLaunchTemplate = {
      ...template,
      versions: new Map([[1, { createdAt: this.world.now() }]]),
      defaultVersion: 1,
      latestVersion: 1,
    };
    this.launchTemplates.set(added.id, added);
    this.launchTemplates.set(added.name, added);
    return added;
  }

  /**
   * The template of that id or name, as EC2 finds it: one that does not exist fails the call with
   * InvalidLaunchTemplateId.NotFound (by id) or InvalidLaunchTemplateName.NotFoundException.
   */
  launchTemplate(key: { id?: string | undefined; name?: string | undefined }): SimLaunchTemplate {
    const byId = key.id !== undefined;
    const asked = key.id ?? key.name ?? '';
    const template = this.launchTemplates.get(asked);
    if (!template || (byId ? template.id : template.name) !== asked)
      throw byId
        ? awsError(
            'InvalidLaunchTemplateId.NotFound',
            `The specified launch template, with template ID ${asked}, does not exist.`,
          )
        : awsError(
            'InvalidLaunchTemplateName.NotFoundException',
            `The specified launch template, with template name ${asked}, does not exist.`,
          );
    return template;
  }

  /**
   * The version number a launch names: a number, `$Latest` or `$Default` (the default when none is
   * named), as the LaunchTemplateSpecification's Version reads. A version the template does not have
   * fails with InvalidLaunchTemplateId.VersionNotFound.
   */
  templateVersion(template: SimLaunchTemplate, version: string | undefined): number {
    const number =
      version === undefined || version === '$Default'
        ? template.defaultVersion
        : version === '$Latest'
          ? template.latestVersion
          : Number(version);
    if (!Number.isInteger(number) || !template.versions.has(number))
      throw awsError(
        'InvalidLaunchTemplateId.VersionNotFound',
        `Could not find launch template version ${version} for launch template ${template.id}.`,
      );
    return number;
  }

  /** The templates asked for, by id or by name; one that does not exist fails the call. */
  DescribeLaunchTemplates(input: { LaunchTemplateIds?: string[]; LaunchTemplateNames?: string[] }) {
    const found = input.LaunchTemplateIds
      ? input.LaunchTemplateIds.map((id) => this.launchTemplate({ id }))
      : (input.LaunchTemplateNames ?? []).map((name) => this.launchTemplate({ name }));
    return {
      LaunchTemplates: found.map((t) => ({
        LaunchTemplateId: t.id,
        LaunchTemplateName: t.name,
        DefaultVersionNumber: t.defaultVersion,
        LatestVersionNumber: t.latestVersion,
        Tags: tagList(t.tags),
      })),
    };
  }

  private describeVersion(template: SimLaunchTemplate, number: number) {
    const version = template.versions.get(number) as SimLaunchTemplateVersion;
    return {
      LaunchTemplateId: template.id,
      LaunchTemplateName: template.name,
      VersionNumber: number,
      ...(version.description !== undefined ? { VersionDescription: version.description } : {}),
      CreateTime: new Date(version.createdAt),
      DefaultVersion: number === template.defaultVersion,
      LaunchTemplateData: version.imageId !== undefined ? { ImageId: version.imageId } : {},
    };
  }

  /**
   * A new version of the template: the source version's launch data (SourceVersion; none: only the
   * data given) with LaunchTemplateData over it. It becomes the latest, not the default. A ClientToken
   * seen before answers with the version that call made and makes none ("Ensuring idempotency", EC2
   * API reference).
   */
  CreateLaunchTemplateVersion(input: {
    LaunchTemplateId?: string;
    LaunchTemplateName?: string;
    SourceVersion?: string;
    LaunchTemplateData?: { ImageId?: string };
    VersionDescription?: string;
    ClientToken?: string;
  }) {
    const token = input.ClientToken;
    if (token !== undefined && token.length > EC2_LIMITS.clientToken)
      throw awsError('InvalidParameterValue', `ClientToken: at most ${EC2_LIMITS.clientToken} characters`);
    const made = token !== undefined ? this.versionTokens.get(token) : undefined;
    const asked = JSON.stringify([
      input.LaunchTemplateId ?? input.LaunchTemplateName,
      input.SourceVersion,
      input.LaunchTemplateData,
      input.VersionDescription,
    ]);
    if (made) {
      // A client token names one request: the same token with other parameters is refused
      // (EC2 API reference, "Ensuring idempotency": IdempotentParameterMismatch).
      if (made.asked !== asked)
        throw awsError(
          'IdempotentParameterMismatch',
          'The client token you have provided is associated with a resource that is already deleted or has different parameters.',
        );
      const template = this.launchTemplate({ id: made.templateId });
      return { LaunchTemplateVersion: this.describeVersion(template, made.version) };
    }
    const template = this.launchTemplate({ id: input.LaunchTemplateId, name: input.LaunchTemplateName });
    const description = input.VersionDescription;
    if (description !== undefined && description.length > EC2_LIMITS.versionDescription)
      throw awsError(
        'InvalidParameterValue',
        `VersionDescription: at most ${EC2_LIMITS.versionDescription} characters`,
      );
    const source =
      input.SourceVersion !== undefined
        ? template.versions.get(this.templateVersion(template, input.SourceVersion))
        : undefined;
    const imageId = input.LaunchTemplateData?.ImageId ?? source?.imageId;
    if (imageId !== undefined && !this.images.has(imageId))
      throw awsError('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    const number = template.latestVersion + 1;
    template.versions.set(number, {
      ...(imageId !== undefined ? { imageId } : {}),
      ...(description !== undefined ? { description } : {}),
      createdAt: this.world.now(),
    });
    template.latestVersion = number;
    if (token !== undefined)
      this.versionTokens.set(token, { templateId: template.id, version: number, asked });
    return { LaunchTemplateVersion: this.describeVersion(template, number) };
  }

  /** The template's versions asked for (numbers, $Latest, $Default), or all of them. */
  DescribeLaunchTemplateVersions(input: {
    LaunchTemplateId?: string;
    LaunchTemplateName?: string;
    Versions?: string[];
  }) {
    const template = this.launchTemplate({ id: input.LaunchTemplateId, name: input.LaunchTemplateName });
    const numbers = input.Versions?.length
      ? input.Versions.map((v) => this.templateVersion(template, v))
      : [...template.versions.keys()].sort((a, b) => a - b);
    return { LaunchTemplateVersions: numbers.map((n) => this.describeVersion(template, n)) };
  }

  /**
   * Deletes versions of the template, each on its own: the answer lists those deleted and those
   * not, each with a ResponseError (launchTemplateVersionDoesNotExist for a version it does not
   * have). "You can't delete the default version of a launch template" (DeleteLaunchTemplateVersions);
   * ResponseError's Code has no value of its own for that (its valid values: launchTemplateIdDoesNotExist,
   * launchTemplateIdMalformed, launchTemplateNameDoesNotExist, launchTemplateNameMalformed,
   * launchTemplateVersionDoesNotExist, unexpectedError), so the default answers unexpectedError
   * with a message saying why.
   */
  DeleteLaunchTemplateVersions(input: {
    LaunchTemplateId?: string;
    LaunchTemplateName?: string;
    Versions?: string[];
  }) {
    const template = this.launchTemplate({ id: input.LaunchTemplateId, name: input.LaunchTemplateName });
    const versions = input.Versions ?? [];
    if (versions.length === 0)
      throw awsError('MissingParameter', 'The request must contain the parameter Versions');
    if (versions.length > EC2_LIMITS.deleteVersions)
      throw tooMany('Versions', EC2_LIMITS.deleteVersions, versions.length);
    const ids = { LaunchTemplateId: template.id, LaunchTemplateName: template.name };
    const deleted: { LaunchTemplateId: string; LaunchTemplateName: string; VersionNumber: number }[] = [];
    const failed: {
      LaunchTemplateId: string;
      LaunchTemplateName: string;
      VersionNumber: number;
      ResponseError: { Code: string; Message: string };
    }[] = [];
    for (const version of versions) {
      const number = Number(version);
      if (!Number.isInteger(number) || !template.versions.has(number)) {
        failed.push({
          ...ids,
          VersionNumber: number,
          ResponseError: {
            Code: 'launchTemplateVersionDoesNotExist',
            Message: `The specified launch template version ${version} does not exist.`,
          },
        });
      } else if (number === template.defaultVersion) {
        failed.push({
          ...ids,
          VersionNumber: number,
          ResponseError: {
            Code: 'unexpectedError',
            Message: `Version ${number} is the default version of the launch template and cannot be deleted.`,
          },
        });
      } else {
        template.versions.delete(number);
        deleted.push({ ...ids, VersionNumber: number });
      }
    }
    return {
      SuccessfullyDeletedLaunchTemplateVersions: deleted,
      UnsuccessfullyDeletedLaunchTemplateVersions: failed,
    };
  }

  addImage(name: string, tags: Tags): SimImage {
    const image = { id: this.world.id('ami-', 17), name, createdAt: this.world.now(), tags };
    this.images.set(image.id, image);
    return image;
  }

  private describe(instance: SimInstance) {
    return {
      InstanceId: instance.id,
      ImageId: instance.imageId,
      LaunchTime: new Date(instance.launchedAt),
      State: { Name: this.state(instance) },
      ...(instance.stateReason
        ? { StateReason: { Code: 'Server.InternalError', Message: instance.stateReason } }
        : {}),
      Tags: tagList(instance.tags),
    };
  }

  RunInstances(input: {
    LaunchTemplate?: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
    ImageId?: string;
    MinCount?: number;
    MaxCount?: number;
    ClientToken?: string;
    TagSpecifications?: { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[];
  }) {
    const key = input.LaunchTemplate?.LaunchTemplateId ?? input.LaunchTemplate?.LaunchTemplateName ?? '';
    if (input.ClientToken && this.tokens.has(input.ClientToken)) {
      const ids = this.tokens.get(input.ClientToken) ?? [];
      return { Instances: ids.map((id) => this.describe(this.instances.get(id) as SimInstance)) };
    }
    const found = this.launchTemplates.get(key);
    if (!found) {
      throw awsError(
        'InvalidLaunchTemplateId.NotFound',
        `The specified launch template, ${key}, does not exist.`,
      );
    }
    // Launched from a version: its AMI unless the request names one ("any parameters that you specify
    // in the request override the same parameters in the launch template", RunInstances).
    const versionNumber =
      input.LaunchTemplate?.Version !== undefined
        ? this.templateVersion(found, input.LaunchTemplate.Version)
        : undefined;
    const imageId =
      input.ImageId ??
      (versionNumber !== undefined ? found.versions.get(versionNumber)?.imageId : undefined) ??
      '';
    if (!this.images.has(imageId))
      throw awsError('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    const min = input.MinCount ?? 1;
    const max = input.MaxCount ?? min;
    const available = this.capacity ?? Number.POSITIVE_INFINITY;
    if (available < min) {
      throw awsError(
        'InsufficientInstanceCapacity',
        'We currently do not have sufficient capacity in the Availability Zone you requested.',
        500,
      );
    }
    const count = Math.min(max, available);
    // The resource bucket takes a token per instance launched; without enough, the request is throttled.
    if (this.rateLimits && !this.rateLimits.admitResources('RunInstances', count))
      throw faultError('ec2', 'RunInstances', 'throttle');
    if (this.capacity !== undefined) this.capacity -= count;
    const tags = fromTagSpecs(input.TagSpecifications);
    const now = this.world.now();
    const launched: SimInstance[] = [];
    for (let i = 0; i < count; i++) {
      const instance: SimInstance = {
        id: this.world.id('i-', 17),
        imageId,
        launchTemplate: key,
        ...(versionNumber !== undefined ? { launchTemplateVersion: versionNumber } : {}),
        launchedAt: now,
        bootSeconds: this.bootSeconds,
        tags: { ...tags },
      };
      if (this.dyingImages.has(imageId)) {
        instance.diedAt = now + (this.bootSeconds / 2) * 1000;
        instance.stateReason = 'Server.InternalError: Internal error on launch';
      }
      this.instances.set(instance.id, instance);
      launched.push(instance);
    }
    if (input.ClientToken)
      this.tokens.set(
        input.ClientToken,
        launched.map((i) => i.id),
      );
    return { Instances: launched.map((i) => this.describe(i)) };
  }

  /**
   * Instances by id or filter. With MaxResults the answer is paged (NextToken); without it, every
   * match comes in one answer, as EC2 answers.
   */
  DescribeInstances(input: {
    InstanceIds?: string[];
    Filters?: { Name?: string; Values?: string[] }[];
    MaxResults?: number;
    NextToken?: string;
  }) {
    if (input.NextToken !== undefined) return this.page(input.NextToken, input.MaxResults);
    const [least, most] = EC2_LIMITS.maxResults;
    if (input.MaxResults !== undefined) {
      if ((input.InstanceIds?.length ?? 0) > 0)
        throw awsError(
          'InvalidParameterCombination',
          'The parameter instancesSet cannot be used with the parameter maxResults',
        );
      if (!Number.isInteger(input.MaxResults) || input.MaxResults < least || input.MaxResults > most)
        throw awsError('InvalidParameterValue', `MaxResults must be between ${least} and ${most}`);
    }
    const filters = input.Filters ?? [];
    if (filters.length > EC2_LIMITS.filters) throw tooMany('Filters', EC2_LIMITS.filters, filters.length);
    for (const filter of filters) {
      const values = filter.Values?.length ?? 0;
      if (values > EC2_LIMITS.filterValues)
        throw tooMany(`Values of filter ${filter.Name}`, EC2_LIMITS.filterValues, values);
    }
    let found: SimInstance[];
    if (input.InstanceIds && input.InstanceIds.length > 0) {
      // Named ids must all be known; a filter on instance-id just matches none of the unknown ones.
      const missing = this.unknownIds(input.InstanceIds);
      if (missing.length > 0) throw this.notFound(missing);
      found = input.InstanceIds.map((id) => this.instances.get(id) as SimInstance);
    } else {
      found = [...this.instances.values()].filter((instance) => this.listed(instance));
    }
    for (const filter of input.Filters ?? []) {
      const values = filter.Values ?? [];
      const name = filter.Name ?? '';
      found = found.filter((instance) => {
        if (name === 'instance-state-name') return values.includes(this.state(instance));
        if (name === 'instance-id') return values.includes(instance.id);
        if (name.startsWith('tag:')) return values.includes(instance.tags[name.slice(4)] ?? '\u0000');
        throw awsError('InvalidParameterValue', `The filter '${name}' is invalid`);
      });
    }
    if (input.MaxResults === undefined) return this.reservations(found);
    return this.page(this.pageToken(), input.MaxResults, found);
  }

  private reservations(instances: SimInstance[]) {
    return {
      Reservations: instances.length > 0 ? [{ Instances: instances.map((i) => this.describe(i)) }] : [],
    };
  }

  private pageToken(): string {
    this.pageCount += 1;
    return `page-${this.pageCount}`;
  }

  /** One page of an answer, and the token of the rest (what is still to read is kept under it). */
  private page(token: string, maxResults: number | undefined, all = this.pages.get(token)) {
    if (!all) throw awsError('InvalidParameterValue', `The NextToken ${token} is not valid`);
    this.pages.delete(token);
    const size = maxResults ?? EC2_LIMITS.maxResults[1];
    const rest = all.slice(size);
    if (rest.length === 0) return this.reservations(all);
    const next = this.pageToken();
    this.pages.set(next, rest);
    return { ...this.reservations(all.slice(0, size)), NextToken: next };
  }

  TerminateInstances(input: { InstanceIds?: string[] }) {
    const ids = input.InstanceIds ?? [];
    if (ids.length > EC2_LIMITS.terminateIds)
      throw tooMany('InstanceIds', EC2_LIMITS.terminateIds, ids.length);
    const missing = this.unknownIds(ids);
    if (missing.length > 0) throw this.notFound(missing);
    const terminating = ids.filter((id) => {
      const instance = this.instances.get(id) as SimInstance;
      return instance.terminateRequestedAt === undefined && this.state(instance) !== 'terminated';
    }).length;
    // The resource bucket takes a token per instance it terminates.
    if (this.rateLimits && !this.rateLimits.admitResources('TerminateInstances', terminating))
      throw faultError('ec2', 'TerminateInstances', 'throttle');
    const now = this.world.now();
    const changes = ids.map((id) => {
      const instance = this.instances.get(id) as SimInstance;
      const previous = this.state(instance);
      this.world.beforeTerminate(instance);
      if (instance.terminateRequestedAt === undefined && previous !== 'terminated')
        instance.terminateRequestedAt = now;
      return {
        InstanceId: id,
        PreviousState: { Name: previous },
        CurrentState: { Name: this.state(instance) },
      };
    });
    return { TerminatingInstances: changes };
  }

  DescribeImages(input: {
    Owners?: string[];
    ImageIds?: string[];
    Filters?: { Name?: string; Values?: string[] }[];
  }) {
    let found = [...this.images.values()];
    if (input.ImageIds) found = found.filter((i) => input.ImageIds?.includes(i.id));
    for (const filter of input.Filters ?? []) {
      const values = filter.Values ?? [];
      const name = filter.Name ?? '';
      found = found.filter((image) => {
        if (name === 'state') return values.includes('available');
        if (name.startsWith('tag:')) return values.includes(image.tags[name.slice(4)] ?? '\u0000');
        throw awsError('InvalidParameterValue', `The filter '${name}' is invalid`);
      });
    }
    return {
      Images: found.map((i) => ({
        ImageId: i.id,
        Name: i.name,
        State: 'available',
        CreationDate: new Date(i.createdAt).toISOString(),
        Tags: tagList(i.tags),
      })),
    };
  }

  CreateTags(input: { Resources?: string[]; Tags?: { Key?: string; Value?: string }[] }) {
    const resources = input.Resources ?? [];
    if (resources.length > EC2_LIMITS.tagResources)
      throw tooMany('Resources', EC2_LIMITS.tagResources, resources.length);
    for (const id of resources) {
      const target = this.instances.get(id) ?? this.images.get(id);
      if (!target) throw awsError('InvalidID', `The ID '${id}' is not valid`);
      for (const tag of input.Tags ?? []) target.tags[tag.Key ?? ''] = tag.Value ?? '';
    }
    return {};
  }
}
