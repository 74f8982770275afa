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
      return [request(`ec2:${operation}`, '*')];
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
