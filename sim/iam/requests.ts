import type { ApiCall, World } from '../world.ts';
import { ACCOUNT, REGION } from '../world.ts';

/**
 * One authorization AWS makes for an API call: the IAM action, the resource ARN it is checked
 * against ("*" for actions with no resource type in AWS's service authorization reference) and the
 * condition keys AWS supplies with it. One call can need several (RunInstances is authorized on
 * each resource it touches, and on the CreateTags and iam:PassRole it implies).
 */
export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

type Json = Record<string, unknown>;
type Tags = Record<string, string>;

const P = 'aws';
const ec2Arn = (type: string, id: string) => `arn:${P}:ec2:${REGION}:${ACCOUNT}:${type}/${id}`;

function resourceTags(tags: Tags | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
}

function requestTags(tags: Tags): Record<string, string | string[]> {
  return {
    ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    'aws:TagKeys': Object.keys(tags),
  };
}

function tagsOf(list: unknown): Tags {
  return Object.fromEntries(
    ((list as { Key?: string; Value?: string }[] | undefined) ?? []).map((t) => [t.Key ?? '', t.Value ?? '']),
  );
}

function request(action: string, resource: string, context: IamRequest['context'] = {}): IamRequest {
  return { action, resource, context };
}

/** The bucket and key of an S3 object ARN's parts. */
function s3Object(input: Json): { bucket: string; key: string } {
  return { bucket: String(input.Bucket ?? ''), key: String(input.Key ?? '') };
}

function ec2Requests(world: World, operation: string, input: Json): IamRequest[] {
  switch (operation) {
    case 'DescribeInstances':
    case 'DescribeImages':
    case 'DescribeLaunchTemplates':
    // No resource type in the reference: "*" (condition key ec2:Region only).
    case 'DescribeLaunchTemplateVersions':
      return [request(`ec2:${operation}`, '*')];
    // Authorized on the launch template (resource type launch-template, required; condition keys
    // aws:ResourceTag/${TagKey}, ec2:ResourceTag/${TagKey}, ec2:ManagedResourceOperator), with its tags.
    case 'CreateLaunchTemplateVersion':
    case 'DeleteLaunchTemplateVersions': {
      const template = world.ec2.launchTemplates.get(
        String(input.LaunchTemplateId ?? input.LaunchTemplateName ?? ''),
      );
      const id = template?.id ?? String(input.LaunchTemplateId ?? input.LaunchTemplateName ?? '');
      return [request(`ec2:${operation}`, ec2Arn('launch-template', id), resourceTags(template?.tags))];
    }
    case 'TerminateInstances':
      return ((input.InstanceIds as string[] | undefined) ?? []).map((id) =>
        request(
          'ec2:TerminateInstances',
          ec2Arn('instance', id),
          resourceTags(world.ec2.instances.get(id)?.tags),
        ),
      );
    case 'CreateTags': {
      const tags = tagsOf(input.Tags);
      return ((input.Resources as string[] | undefined) ?? []).map((id) => {
        const image = world.ec2.images.get(id);
        const arn = image ? `arn:${P}:ec2:${REGION}::image/${id}` : ec2Arn('instance', id);
        const existing = image?.tags ?? world.ec2.instances.get(id)?.tags;
        return request('ec2:CreateTags', arn, { ...resourceTags(existing), ...requestTags(tags) });
      });
    }
    case 'RunInstances':
      return runInstancesRequests(world, input);
    default:
      throw new Error(`no IAM mapping for ec2:${operation}`);
  }
}

/**
 * RunInstances is authorized on every resource it uses or creates (the reference lists image,
 * instance, network-interface, security-group and subnet as required, plus volume, key-pair and
 * launch-template when involved), each with `ec2:LaunchTemplate` when a template is used; tags on
 * launch are authorized as CreateTags with `ec2:CreateAction`; the instance profile's role as
 * iam:PassRole to EC2.
 */
function runInstancesRequests(world: World, input: Json): IamRequest[] {
  const spec = (input.LaunchTemplate ?? {}) as { LaunchTemplateId?: string; LaunchTemplateName?: string };
  const template = world.ec2.launchTemplates.get(spec.LaunchTemplateId ?? spec.LaunchTemplateName ?? '');
  const imageId = String(input.ImageId ?? '');
  const image = world.ec2.images.get(imageId);
  const fromTemplate: Record<string, string> = template
    ? { 'ec2:LaunchTemplate': ec2Arn('launch-template', template.id) }
    : {};
  const specs = (input.TagSpecifications ?? []) as { ResourceType?: string; Tags?: unknown }[];
  const tagsFor = (type: string) => tagsOf(specs.find((s) => s.ResourceType === type)?.Tags);
  const instanceTags = tagsFor('instance');
  const volumeTags = tagsFor('volume');
  const requests: IamRequest[] = [
    request('ec2:RunInstances', ec2Arn('instance', '*'), {
      ...fromTemplate,
      ...requestTags(instanceTags),
      ...(template ? { 'ec2:InstanceProfile': template.instanceProfile.arn } : {}),
    }),
    request('ec2:RunInstances', ec2Arn('volume', '*'), { ...fromTemplate, ...requestTags(volumeTags) }),
    request('ec2:RunInstances', ec2Arn('network-interface', '*'), {
      ...fromTemplate,
      ...(template
        ? { 'ec2:Subnet': ec2Arn('subnet', template.subnetId), 'ec2:Vpc': ec2Arn('vpc', template.vpcId) }
        : {}),
    }),
    // The root volume is created from the AMI's snapshot, which is authorized too.
    request('ec2:RunInstances', `arn:${P}:ec2:${REGION}::snapshot/snap-${imageId.replace(/^ami-/, '')}`, {
      ...fromTemplate,
      'ec2:Owner': image ? ACCOUNT : 'amazon',
    }),
    request('ec2:RunInstances', `arn:${P}:ec2:${REGION}::image/${imageId}`, {
      ...fromTemplate,
      ...resourceTags(image?.tags),
      'ec2:Owner': image ? ACCOUNT : 'amazon',
      'ec2:Public': image ? 'false' : 'true',
    }),
  ];
  if (template) {
    requests.push(
      request('ec2:RunInstances', ec2Arn('launch-template', template.id), {
        ...fromTemplate,
        ...resourceTags(template.tags),
      }),
      request('ec2:RunInstances', ec2Arn('subnet', template.subnetId), {
        ...fromTemplate,
        'ec2:Vpc': ec2Arn('vpc', template.vpcId),
      }),
      ...template.securityGroupIds.map((id) =>
        request('ec2:RunInstances', ec2Arn('security-group', id), {
          ...fromTemplate,
          'ec2:Vpc': ec2Arn('vpc', template.vpcId),
        }),
      ),
      ...(template.keyName
        ? [request('ec2:RunInstances', ec2Arn('key-pair', template.keyName), fromTemplate)]
        : []),
      request('iam:PassRole', template.instanceProfile.roleArn, {
        'iam:PassedToService': 'ec2.amazonaws.com',
      }),
    );
  }
  for (const [type, tags] of [
    ['instance', instanceTags],
    ['volume', volumeTags],
  ] as const) {
    if (Object.keys(tags).length === 0) continue;
    requests.push(
      request('ec2:CreateTags', ec2Arn(type, '*'), {
        'ec2:CreateAction': 'RunInstances',
        ...requestTags(tags),
      }),
    );
  }
  return requests;
}

/**
 * The id in the ARN of a group that does not exist yet (the one CreateAutoScalingGroup is authorized
 * on): Auto Scaling gives the id when it makes the group. Not "*", which the evaluation would read as
 * a wildcard in the request, matching every policy resource.
 */
export const UNMADE_GROUP_ID = '00000000-0000-4000-8000-000000000000';

/**
 * An Auto Scaling group's ARN as the reference gives it (resource type autoScalingGroup:
 * arn:${Partition}:autoscaling:${Region}:${Account}:autoScalingGroup:${GroupId}:autoScalingGroupName/${GroupFriendlyName}):
 * the group's own when it exists, else with UNMADE_GROUP_ID.
 */
function groupArn(world: World, name: string): string {
  return (
    world.autoscaling.groups.get(name)?.arn ??
    `arn:${P}:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:${UNMADE_GROUP_ID}:autoScalingGroupName/${name}`
  );
}

/** The tags of a group as both resource-tag keys the reference lists for autoScalingGroup. */
function groupTags(tags: Tags | undefined): Record<string, string> {
  return {
    ...resourceTags(tags),
    ...Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [`autoscaling:ResourceTag/${k}`, v])),
  };
}

/** The launch template of a CreateAutoScalingGroup or UpdateAutoScalingGroup input, if it names one. */
function groupLaunchTemplate(
  input: Json,
): { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string } | undefined {
  const mixed = (input.MixedInstancesPolicy as Json | undefined)?.LaunchTemplate as Json | undefined;
  return (input.LaunchTemplate ?? mixed?.LaunchTemplateSpecification) as
    | { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string }
    | undefined;
}

/**
 * autoscaling:LaunchTemplateVersionSpecified (Bool): whether the request names a version of the
 * template by its number, rather than $Latest or $Default (or nothing, which is $Default: API
 * reference, LaunchTemplateSpecification). Absent when the request names no launch template.
 */
function versionSpecified(input: Json): Record<string, string> {
  const spec = groupLaunchTemplate(input);
  if (!spec) return {};
  return {
    'autoscaling:LaunchTemplateVersionSpecified': /^\d+$/.test(spec.Version ?? '') ? 'true' : 'false',
  };
}

/**
 * The image a launch template version launches: from the simulated template's versions (version
 * number to { imageId }, as a Map or a record), defaultVersion and latestVersion, read by their
 * shape. Undefined for a version that names no image of its own.
 */
function versionImage(world: World, templateKey: string, version: string | undefined): string | undefined {
  const template = world.ec2.launchTemplates.get(templateKey) as
    | (Record<string, unknown> & { versions?: unknown; defaultVersion?: number; latestVersion?: number })
    | undefined;
  if (!template) return undefined;
  const number =
    version === '$Latest'
      ? template.latestVersion
      : version === undefined || version === '$Default'
        ? template.defaultVersion
        : Number(version);
  const versions = template.versions;
  const found =
    versions instanceof Map
      ? (versions.get(number) ?? versions.get(String(number)))
      : (versions as Record<string, unknown> | undefined)?.[String(number)];
  return (found as { imageId?: string } | undefined)?.imageId;
}

/**
 * The launch a group would make, which Auto Scaling authorizes as the caller's when a group is
 * created or updated with a launch template (user guide, "Control Amazon EC2 launch template usage in
 * Auto Scaling groups": "ec2:RunInstances are checked when an Auto Scaling group is created or
 * updated using a launch template"; "Amazon EC2 Auto Scaling API permissions": CreateAutoScalingGroup
 * needs ec2:RunInstances when a launch template is provided, iam:PassRole when the template
 * specifies an instance profile, ec2:CreateTags when it tags instances and volumes on launch).
 * Authorized as RunInstances from that template version: its image, and the instance tagged with
 * the group's tags that propagate at launch (the simulated templates have no tag specifications of
 * their own; the group's tags never reach volumes: user guide, "Tag Auto Scaling groups and
 * instances": "Tags are not propagated to Amazon EBS volumes").
 */
function groupLaunchRequests(world: World, input: Json): IamRequest[] {
  const spec = groupLaunchTemplate(input);
  if (!spec) return [];
  const key = spec.LaunchTemplateId ?? spec.LaunchTemplateName ?? '';
  const propagated = (
    (input.Tags ?? []) as { Key?: string; Value?: string; PropagateAtLaunch?: boolean }[]
  ).filter((t) => t.PropagateAtLaunch);
  return runInstancesRequests(world, {
    LaunchTemplate: { LaunchTemplateId: world.ec2.launchTemplates.get(key)?.id ?? key },
    // An image the version does not name cannot be shown to be the service's: judged as unknown.
    ImageId: versionImage(world, key, spec.Version) ?? 'ami-00000000000000000',
    TagSpecifications: propagated.length > 0 ? [{ ResourceType: 'instance', Tags: propagated }] : [],
  });
}

/**
 * Auto Scaling (service authorization reference, Amazon EC2 Auto Scaling): the Describe actions
 * have no resource type ("*"); every other action here is authorized on the group (resource type
 * autoScalingGroup, required) with its tags as aws:ResourceTag and autoscaling:ResourceTag.
 */
function autoscalingRequests(world: World, operation: string, input: Json): IamRequest[] {
  const action = `autoscaling:${operation}`;
  const name = String(input.AutoScalingGroupName ?? '');
  const existing = world.autoscaling.groups.get(name);
  switch (operation) {
    case 'DescribeAutoScalingGroups':
    case 'DescribeAutoScalingInstances':
    case 'DescribeScalingActivities':
    case 'DescribePolicies':
      return [request(action, '*')];
    case 'PutScalingPolicy':
    case 'SuspendProcesses':
    case 'ResumeProcesses':
      return [request(action, groupArn(world, name), groupTags(existing?.tags))];
    // The action also takes autoscaling:TargetGroupARNs, the target groups detached.
    case 'DetachLoadBalancerTargetGroups':
      return [
        request(action, groupArn(world, name), {
          ...groupTags(existing?.tags),
          'autoscaling:TargetGroupARNs': ((input.TargetGroupARNs as string[] | undefined) ?? []).map(String),
        }),
      ];
    // autoscaling:ForceDelete (Bool) on the group: whether its instances go with it.
    case 'DeleteAutoScalingGroup':
      return [
        request(action, groupArn(world, name), {
          ...groupTags(existing?.tags),
          ...(input.ForceDelete === undefined
            ? {}
            : { 'autoscaling:ForceDelete': String(input.ForceDelete) }),
        }),
      ];
    // Tags of a group, given one by one with the group each is for (Tags[].ResourceId): authorized on
    // each group tagged, with the tags it has and the tags asked for.
    case 'CreateOrUpdateTags': {
      const byGroup = new Map<string, Tags>();
      for (const t of (input.Tags ?? []) as { ResourceId?: string; Key?: string; Value?: string }[]) {
        const group = String(t.ResourceId ?? '');
        byGroup.set(group, { ...byGroup.get(group), [t.Key ?? '']: t.Value ?? '' });
      }
      return [...byGroup].map(([group, tags]) =>
        request(action, groupArn(world, group), {
          ...groupTags(world.autoscaling.groups.get(group)?.tags),
          ...requestTags(tags),
        }),
      );
    }
    case 'CreateAutoScalingGroup':
      return createGroupRequests(world, name, input);
    case 'UpdateAutoScalingGroup':
      return [
        request(action, groupArn(world, name), {
          ...groupTags(existing?.tags),
          ...versionSpecified(input),
          ...sizes(input),
        }),
        ...groupLaunchRequests(world, { ...input, Tags: groupTagList(existing?.tags, existing?.propagated) }),
      ];
    default:
      throw new Error(`no IAM mapping for ${action}`);
  }
}

/** autoscaling:MinSize and autoscaling:MaxSize (Numeric), when the request sets them. */
function sizes(input: Json): Record<string, string> {
  return {
    ...(input.MinSize === undefined ? {} : { 'autoscaling:MinSize': String(input.MinSize) }),
    ...(input.MaxSize === undefined ? {} : { 'autoscaling:MaxSize': String(input.MaxSize) }),
  };
}

/** A group's tags as the Tags list of a request, each propagated at launch if the group propagates it. */
function groupTagList(tags: Tags | undefined, propagated: Set<string> | undefined) {
  return Object.entries(tags ?? {}).map(([Key, Value]) => ({
    Key,
    Value,
    PropagateAtLaunch: propagated?.has(Key) ?? false,
  }));
}

/**
 * CreateAutoScalingGroup is authorized on the group it creates, whose tags are the ones it is
 * created with: the user guide's policy examples allow CreateAutoScalingGroup on
 * autoscaling:ResourceTag/purpose = testing "only if the group uses the tag", which holds only if the
 * requested tags are the group's at that check. With them: aws:RequestTag/${TagKey} and aws:TagKeys,
 * autoscaling:LaunchTemplateVersionSpecified, the sizes, target groups and subnets asked for. The
 * reference lists no dependent actions; the user guide lists the launch's (groupLaunchRequests).
 * Tagging at creation is authorized as autoscaling:CreateOrUpdateTags on the group too: the roles'
 * documented assumption, as for EC2's tag-on-create (the reference gives CreateOrUpdateTags the
 * aws:RequestTag and aws:TagKeys keys that CreateAutoScalingGroup has). The service-linked role
 * AWSServiceRoleForAutoScaling must exist already: creating it (iam:CreateServiceLinkedRole, on a
 * group's first use in an account) is for the operator, and no role of the service may.
 */
function createGroupRequests(world: World, name: string, input: Json): IamRequest[] {
  const tags = tagsOf(input.Tags);
  const arn = groupArn(world, name);
  const tagged = Object.keys(tags).length > 0;
  const subnets = String(input.VPCZoneIdentifier ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const targetGroups = ((input.TargetGroupARNs as string[] | undefined) ?? []).map(String);
  return [
    request('autoscaling:CreateAutoScalingGroup', arn, {
      ...groupTags(tags),
      ...(tagged ? requestTags(tags) : {}),
      ...versionSpecified(input),
      ...(input.LaunchConfigurationName
        ? { 'autoscaling:LaunchConfigurationName': String(input.LaunchConfigurationName) }
        : {}),
      ...sizes(input),
      ...(targetGroups.length > 0 ? { 'autoscaling:TargetGroupARNs': targetGroups } : {}),
      ...(subnets.length > 0 ? { 'autoscaling:VPCZoneIdentifiers': subnets } : {}),
    }),
    ...(tagged
      ? [request('autoscaling:CreateOrUpdateTags', arn, { ...groupTags(tags), ...requestTags(tags) })]
      : []),
    ...groupLaunchRequests(world, input),
  ];
}

function elbRequests(world: World, operation: string, input: Json): IamRequest[] {
  const action = `elasticloadbalancing:${operation}`;
  switch (operation) {
    case 'DescribeTargetHealth':
    case 'DescribeTargetGroups':
    case 'DescribeTargetGroupAttributes':
    case 'DescribeTags':
    case 'DescribeListeners':
    case 'DescribeRules':
      return [request(action, '*')];
    // Authorized on the listener (listener/app) or the rule (listener-rule/app), with its tags.
    case 'ModifyListener':
    case 'ModifyRule': {
      const arn = String((operation === 'ModifyListener' ? input.ListenerArn : input.RuleArn) ?? '');
      return [request(action, arn, resourceTags(world.elbv2.forwarding(arn)?.tags))];
    }
    // Authorized on each resource tagged, with the tags it has and the tags asked for.
    case 'AddTags':
      return ((input.ResourceArns as string[] | undefined) ?? []).map((arn) =>
        request(action, arn, {
          ...resourceTags(world.elbv2.targetGroups.get(arn)?.tags),
          ...requestTags(tagsOf(input.Tags)),
        }),
      );
    case 'RegisterTargets':
    case 'DeregisterTargets': {
      const arn = String(input.TargetGroupArn ?? '');
      return [request(action, arn, resourceTags(world.elbv2.targetGroups.get(arn)?.tags))];
    }
    default:
      throw new Error(`no IAM mapping for ${action}`);
  }
}

function route53Requests(operation: string, input: Json): IamRequest[] {
  const zone = (id: unknown) =>
    `arn:${P}:route53:::hostedzone/${String(id ?? '').replace(/^\/hostedzone\//, '')}`;
  switch (operation) {
    case 'ListResourceRecordSets':
      return [request('route53:ListResourceRecordSets', zone(input.HostedZoneId))];
    case 'GetChange':
      return [
        request(
          'route53:GetChange',
          `arn:${P}:route53:::change/${String(input.Id ?? '').replace(/^\/change\//, '')}`,
        ),
      ];
    case 'ChangeResourceRecordSets': {
      const changes = ((input.ChangeBatch as Json | undefined)?.Changes ?? []) as {
        Action?: string;
        ResourceRecordSet?: { Name?: string; Type?: string };
      }[];
      const unique = (values: string[]) => [...new Set(values)];
      return [
        request('route53:ChangeResourceRecordSets', zone(input.HostedZoneId), {
          'route53:ChangeResourceRecordSetsActions': unique(changes.map((c) => c.Action ?? '')),
          'route53:ChangeResourceRecordSetsRecordTypes': unique(
            changes.map((c) => c.ResourceRecordSet?.Type ?? ''),
          ),
          // Lower case, no trailing dot: how Route 53 normalizes names for this key.
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': unique(
            changes.map((c) => (c.ResourceRecordSet?.Name ?? '').toLowerCase().replace(/\.$/, '')),
          ),
        }),
      ];
    }
    default:
      throw new Error(`no IAM mapping for route53:${operation}`);
  }
}

const ib = (path: string) => `arn:${P}:imagebuilder:${REGION}:${ACCOUNT}:${path}`;

function imagebuilderRequests(operation: string, input: Json): IamRequest[] {
  const tags = (input.tags ?? {}) as Tags;
  const tagged = (arn: string) =>
    Object.keys(tags).length > 0 ? [request('imagebuilder:TagResource', arn, requestTags(tags))] : [];
  switch (operation) {
    case 'CreateComponent': {
      const arn = ib(`component/${String(input.name).toLowerCase()}/${String(input.semanticVersion)}/1`);
      return [request('imagebuilder:CreateComponent', arn, requestTags(tags)), ...tagged(arn)];
    }
    case 'CreateImageRecipe': {
      const arn = ib(`image-recipe/${String(input.name).toLowerCase()}/${String(input.semanticVersion)}`);
      const parent = String(input.parentImage ?? '');
      return [
        request('imagebuilder:CreateImageRecipe', arn, requestTags(tags)),
        ...tagged(arn),
        // The recipe's components and an Image Builder parent image are read when it is created.
        // These reads (and CreateImage's below) are the roles' documented assumption: the
        // service authorization reference lists no dependent actions for the create calls.
        ...((input.components ?? []) as { componentArn?: string }[]).map((c) =>
          request('imagebuilder:GetComponent', String(c.componentArn)),
        ),
        ...(parent.startsWith('arn:') ? [request('imagebuilder:GetImage', parent)] : []),
      ];
    }
    case 'CreateImage': {
      const recipe = String(input.imageRecipeArn ?? '');
      const [, name = '', version = ''] = recipe.split('/');
      const arn = ib(`image/${name.toLowerCase()}/${version}/1`);
      return [
        request('imagebuilder:CreateImage', arn, requestTags(tags)),
        ...tagged(arn),
        request('imagebuilder:GetImageRecipe', recipe),
        request('imagebuilder:GetInfrastructureConfiguration', String(input.infrastructureConfigurationArn)),
      ];
    }
    case 'GetInfrastructureConfiguration':
      return [request(`imagebuilder:${operation}`, String(input.infrastructureConfigurationArn ?? ''))];
    case 'GetImage':
    case 'CancelImageCreation':
      return [request(`imagebuilder:${operation}`, String(input.imageBuildVersionArn ?? ''))];
    case 'ListImageBuildVersions':
      return [request('imagebuilder:ListImageBuildVersions', `${String(input.imageVersionArn ?? '')}/*`)];
    default:
      throw new Error(`no IAM mapping for imagebuilder:${operation}`);
  }
}

function cloudwatchRequests(operation: string, input: Json): IamRequest[] {
  const alarm = (name: string) => `arn:${P}:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;
  switch (operation) {
    case 'DescribeAlarms':
      return ((input.AlarmNames as string[] | undefined) ?? ['*']).map((name) =>
        request('cloudwatch:DescribeAlarms', name === '*' ? '*' : alarm(name)),
      );
    case 'DescribeAlarmHistory':
      return [request('cloudwatch:DescribeAlarmHistory', alarm(String(input.AlarmName ?? '*')))];
    case 'GetMetricData':
      return [request('cloudwatch:GetMetricData', '*')];
    default:
      throw new Error(`no IAM mapping for cloudwatch:${operation}`);
  }
}

function s3Requests(world: World, operation: string, input: Json): IamRequest[] {
  const { bucket, key } = s3Object(input);
  const object = `arn:${P}:s3:::${bucket}/${key}`;
  const version = input.VersionId ? String(input.VersionId) : undefined;
  switch (operation) {
    case 'GetObject':
    case 'HeadObject': {
      const requests = [
        version
          ? request('s3:GetObjectVersion', object, { 's3:versionid': version })
          : request('s3:GetObject', object),
      ];
      // A missing key answers 404 only to a caller that may list the bucket (403 otherwise).
      if (!world.s3.exists(bucket, key)) requests.push(request('s3:ListBucket', `arn:${P}:s3:::${bucket}`));
      return requests;
    }
    case 'PutObject':
      return [request('s3:PutObject', object)];
    case 'ListObjectVersions':
      return [
        request('s3:ListBucketVersions', `arn:${P}:s3:::${bucket}`, {
          's3:prefix': String(input.Prefix ?? ''),
        }),
      ];
    default:
      throw new Error(`no IAM mapping for s3:${operation}`);
  }
}

/**
 * DynamoDB authorizes an item's read or write with the item's partition key as
 * dynamodb:LeadingKeys (both tables are keyed by `id`), so a role can be held to some items.
 */
function dynamodbRequests(operation: string, input: Json): IamRequest[] {
  const table = `arn:${P}:dynamodb:${REGION}:${ACCOUNT}:table/${String(input.TableName)}`;
  const item = (input.Key ?? input.Item) as { id?: { S?: string } } | undefined;
  const id = item?.id?.S;
  return [request(`dynamodb:${operation}`, table, id === undefined ? {} : { 'dynamodb:LeadingKeys': [id] })];
}

function sfnRequests(operation: string, input: Json): IamRequest[] {
  switch (operation) {
    case 'StartExecution':
      return [request('states:StartExecution', String(input.stateMachineArn ?? ''))];
    case 'ListExecutions':
      return [request('states:ListExecutions', String(input.stateMachineArn ?? ''))];
    case 'DescribeExecution':
    case 'GetExecutionHistory':
    case 'StopExecution':
      return [request(`states:${operation}`, String(input.executionArn ?? ''))];
    // The task token is the authorization: the reference lists no resource type for these.
    case 'SendTaskSuccess':
    case 'SendTaskFailure':
      return [request(`states:${operation}`, '*')];
    default:
      throw new Error(`no IAM mapping for states:${operation}`);
  }
}

/**
 * The command line's plan: an instance profile is authorized by its ARN (with its path), the policy
 * simulator on the role whose policies it simulates.
 */
function iamRequests(world: World, operation: string, input: Json): IamRequest[] {
  switch (operation) {
    case 'GetInstanceProfile': {
      const name = String(input.InstanceProfileName ?? '');
      const arn =
        world.iam.instanceProfiles.get(name)?.arn ?? `arn:${P}:iam::${ACCOUNT}:instance-profile/${name}`;
      return [request('iam:GetInstanceProfile', arn)];
    }
    case 'SimulatePrincipalPolicy':
      return [request('iam:SimulatePrincipalPolicy', String(input.PolicySourceArn ?? ''))];
    default:
      throw new Error(`no IAM mapping for iam:${operation}`);
  }
}

/** The authorizations AWS makes for one call, from its input and the world as it is then. */
export function iamRequestsFor(world: World, call: ApiCall, input: unknown): IamRequest[] {
  const json = (input ?? {}) as Json;
  switch (call.service) {
    case 'ec2':
      return ec2Requests(world, call.operation, json);
    case 'autoscaling':
      return autoscalingRequests(world, call.operation, json);
    case 'elbv2':
      return elbRequests(world, call.operation, json);
    case 'route53':
      return route53Requests(call.operation, json);
    case 'imagebuilder':
      return imagebuilderRequests(call.operation, json);
    case 'cloudwatch':
      return cloudwatchRequests(call.operation, json);
    case 's3':
      return s3Requests(world, call.operation, json);
    case 'sfn':
      return sfnRequests(call.operation, json);
    case 'dynamodb':
      return dynamodbRequests(call.operation, json);
    case 'sns':
      return [request(`sns:${call.operation}`, String(json.TopicArn ?? ''))];
    case 'secretsmanager':
      return [request(`secretsmanager:${call.operation}`, secretArn(String(json.SecretId ?? '')))];
    // The command line's: the service stack by name (its ARN ends in the stack's id), and who calls,
    // which needs no permission.
    case 'cloudformation':
      return [
        request(
          `cloudformation:${call.operation}`,
          `arn:${P}:cloudformation:${REGION}:${ACCOUNT}:stack/${String(json.StackName)}/${SIMULATED_STACK_ID}`,
        ),
      ];
    case 'sts':
      return [];
    case 'iam':
      return iamRequests(world, call.operation, json);
    case 'events':
      return eventsRequests(call.operation, json);
    default:
      throw new Error(`no IAM mapping for ${call.service}:${call.operation}`);
  }
}

/**
 * PutEvents is authorized once per bus it puts on, with the sources and detail-types of its
 * entries as the multivalued keys events:source and events:detail-type.
 */
function eventsRequests(operation: string, input: Json): IamRequest[] {
  if (operation !== 'PutEvents') throw new Error(`no IAM mapping for events:${operation}`);
  const entries = (input.Entries ?? []) as { Source?: string; DetailType?: string; EventBusName?: string }[];
  const buses = [...new Set(entries.map((e) => e.EventBusName ?? 'default'))];
  return buses.map((bus) => {
    const onBus = entries.filter((e) => (e.EventBusName ?? 'default') === bus);
    return request('events:PutEvents', `arn:${P}:events:${REGION}:${ACCOUNT}:event-bus/${bus}`, {
      'events:source': [...new Set(onBus.map((e) => String(e.Source ?? '')))],
      'events:detail-type': [...new Set(onBus.map((e) => String(e.DetailType ?? '')))],
    });
  });
}

/** The id CloudFormation gave the service stack in the simulated account (the end of its ARN). */
const SIMULATED_STACK_ID = '4e7a1b90-0f1c-11f1-9d3e-0a1b2c3d4e5f';

/** Secrets Manager appends six random characters to a secret's name in its ARN. */
export const SECRET_SUFFIX = '-AbCdEf';

export function secretArn(idOrName: string): string {
  return idOrName.startsWith('arn:')
    ? idOrName
    : `arn:${P}:secretsmanager:${REGION}:${ACCOUNT}:secret:${idOrName}${SECRET_SUFFIX}`;
}
