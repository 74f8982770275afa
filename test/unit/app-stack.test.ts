// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the ${...} here are CloudFormation Fn::Sub strings
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NAME_PATTERN } from '#shared/domain/artifact-key.ts';
import { validateConfig } from '#shared/domain/config.ts';
import {
  configFromOutputs,
  GROUP_OUTPUT_FIELDS,
  main,
  OUTPUT_FIELDS,
} from '../../scripts/config-from-stack.ts';
import { readTemplate } from '../support/cfn-template.ts';

// The example app stack must deploy as it is and give the service what its IAM policies and
// config expect; its outputs become the config through scripts/config-from-stack.ts.

const TEMPLATE_PATH = 'examples/app-stack.cfn.yml';
const FIXTURE_PATH = 'test/fixtures/app-stack-outputs.json';
const GROUP_TEMPLATE_PATH = 'examples/asg-app-stack.cfn.yml';
const GROUP_FIXTURE_PATH = 'test/fixtures/asg-app-stack-outputs.json';
const template = readTemplate(TEMPLATE_PATH);
const resources = template.Resources;
const fixture = JSON.parse(readFileSync(FIXTURE_PATH, 'utf8')) as {
  OutputKey: string;
  OutputValue: string;
}[];

function properties(logicalId: string): Record<string, unknown> {
  const resource = resources[logicalId];
  if (!resource) throw new Error(`${TEMPLATE_PATH} has no resource ${logicalId}`);
  return resource.Properties ?? {};
}

function ofType(type: string): string[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);
}

describe('examples/app-stack.cfn.yml', () => {
  it("holds App and Env to the service's rule for app and env names", () => {
    for (const name of ['App', 'Env']) {
      expect(template.Parameters[name]?.AllowedPattern).toBe(NAME_PATTERN.source);
    }
  });

  it('lets CloudFormation name every load balancer and target group (ELB allows 32 characters)', () => {
    const named = [
      ...ofType('AWS::ElasticLoadBalancingV2::LoadBalancer'),
      ...ofType('AWS::ElasticLoadBalancingV2::TargetGroup'),
    ].filter((id) => 'Name' in properties(id));
    expect(named).toEqual([]);
  });

  it('gives the Image Builder infrastructure configuration a name that fits for the longest app/env', () => {
    const name = properties('InfrastructureConfiguration').Name as { 'Fn::Sub': string };
    const longest = name['Fn::Sub'].replace('${App}', 'a'.repeat(32)).replace('${Env}', 'e'.repeat(32));
    // Image Builder names: at most 128 characters; the config's ARN pattern wants lowercase.
    expect(longest.length).toBeLessThanOrEqual(128);
    expect(longest).toMatch(/^[a-z0-9-_]+$/);
  });

  it.each(['a', 'b'])('tags target group %s the way the service finds and may change it', (slot) => {
    expect(properties(`TargetGroup${slot.toUpperCase()}`).Tags).toEqual([
      { Key: 'bluegreen:managed-by', Value: 'bluegreen-ec2' },
      { Key: 'bluegreen:slot', Value: slot },
      { Key: 'bluegreen:app', Value: { Ref: 'App' } },
      { Key: 'bluegreen:env', Value: { Ref: 'Env' } },
    ]);
  });

  it('makes the two weighted records one name and type, a and b, both 0, each aliasing its own load balancer', () => {
    for (const slot of ['A', 'B']) {
      expect(properties(`Record${slot}`)).toEqual({
        HostedZoneId: { Ref: 'HostedZoneId' },
        Name: { Ref: 'RecordName' },
        Type: 'A',
        SetIdentifier: slot.toLowerCase(),
        Weight: 0,
        AliasTarget: {
          DNSName: { 'Fn::GetAtt': [`LoadBalancer${slot}`, 'DNSName'] },
          HostedZoneId: { 'Fn::GetAtt': [`LoadBalancer${slot}`, 'CanonicalHostedZoneID'] },
          EvaluateTargetHealth: true,
        },
      });
    }
  });

  it('serves HTTPS with a TLS 1.3 policy only with a certificate, and then redirects HTTP to it', () => {
    for (const slot of ['A', 'B']) {
      expect(resources[`HttpsListener${slot}`]?.Condition).toBe('HasCertificate');
      expect(properties(`HttpsListener${slot}`).SslPolicy).toMatch(/^ELBSecurityPolicy-TLS13-/);
      const [action] = properties(`HttpListener${slot}`).DefaultActions as { 'Fn::If': unknown[] }[];
      expect(action?.['Fn::If']).toEqual([
        'HasCertificate',
        { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
        { Type: 'forward', TargetGroupArn: { Ref: `TargetGroup${slot}` } },
      ]);
    }
  });

  it('lets only the load balancers reach the instances, on the app port', () => {
    expect(properties('InstanceSecurityGroup').SecurityGroupIngress).toBeUndefined();
    const ingress = ofType('AWS::EC2::SecurityGroupIngress').map((id) => properties(id));
    expect(ingress).toEqual([
      expect.objectContaining({
        GroupId: { 'Fn::GetAtt': ['InstanceSecurityGroup', 'GroupId'] },
        FromPort: { Ref: 'AppPort' },
        ToPort: { Ref: 'AppPort' },
        SourceSecurityGroupId: { 'Fn::GetAtt': ['LoadBalancerSecurityGroup', 'GroupId'] },
      }),
    ]);
    const open = (properties('LoadBalancerSecurityGroup').SecurityGroupIngress as { FromPort: number }[]).map(
      (rule) => rule.FromPort,
    );
    expect(open).toEqual([80, 443]);
  });

  it('puts the fleet role under /bluegreen-ec2/ (the only path the service may pass) with SSM only', () => {
    expect(properties('InstanceRole')).toMatchObject({
      Path: '/bluegreen-ec2/',
      ManagedPolicyArns: [
        { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore' },
      ],
    });
    expect(properties('InstanceRole').Policies).toBeUndefined();
  });

  it('tags the launch template itself for the service, requires IMDSv2 and names the profile and group', () => {
    const lt = properties('LaunchTemplate');
    expect(lt.TagSpecifications).toEqual([
      {
        ResourceType: 'launch-template',
        Tags: expect.arrayContaining([{ Key: 'bluegreen:managed-by', Value: 'bluegreen-ec2' }]),
      },
    ]);
    expect(lt.LaunchTemplateData).toMatchObject({
      IamInstanceProfile: { Arn: { 'Fn::GetAtt': ['InstanceProfile', 'Arn'] } },
      MetadataOptions: { HttpTokens: 'required' },
      NetworkInterfaces: [
        expect.objectContaining({ Groups: [{ 'Fn::GetAtt': ['InstanceSecurityGroup', 'GroupId'] }] }),
      ],
    });
    expect(lt.LaunchTemplateData).not.toHaveProperty('ImageId');
  });

  it("lets the build instance read every version of this app/env's releases, beside the stock policies", () => {
    const role = properties('BuildRole');
    expect(role.ManagedPolicyArns).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/EC2InstanceProfileForImageBuilder' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore' },
    ]);
    expect(role.Policies).toEqual([
      {
        PolicyName: 'read-releases',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['s3:GetObject', 's3:GetObjectVersion'],
              Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${ReleaseBucket}/releases/${App}/${Env}/*' },
            },
          ],
        },
      },
    ]);
    expect(properties('InfrastructureConfiguration')).toMatchObject({
      InstanceProfileName: { Ref: 'BuildInstanceProfile' },
      TerminateInstanceOnFailure: true,
      SecurityGroupIds: [{ 'Fn::GetAtt': ['BuildSecurityGroup', 'GroupId'] }],
    });
  });

  it('has one output per config field, each described by the field it is', () => {
    expect(
      Object.fromEntries(Object.entries(template.Outputs).map(([key, o]) => [key, o.Description])),
    ).toEqual(OUTPUT_FIELDS);
  });
});

describe('config-from-stack', () => {
  it('has a fixture with exactly the outputs the template declares', () => {
    expect(fixture.map((o) => o.OutputKey).sort()).toEqual(Object.keys(template.Outputs).sort());
  });

  it("writes a config the service's schema accepts, each field from its output", () => {
    const result = configFromOutputs(fixture);
    if (!result.ok) throw new Error(result.problems.join('; '));
    expect(validateConfig(result.config).ok).toBe(true);
    const value = (key: string) => fixture.find((o) => o.OutputKey === key)?.OutputValue;
    expect(result.config).toEqual({
      slots: {
        a: {
          targetGroupArn: value('SlotATargetGroupArn'),
          loadBalancer: {
            dnsName: value('SlotALoadBalancerDnsName'),
            hostedZoneId: value('SlotALoadBalancerHostedZoneId'),
          },
        },
        b: {
          targetGroupArn: value('SlotBTargetGroupArn'),
          loadBalancer: {
            dnsName: value('SlotBLoadBalancerDnsName'),
            hostedZoneId: value('SlotBLoadBalancerHostedZoneId'),
          },
        },
      },
      dns: { hostedZoneId: value('DnsHostedZoneId'), recordName: value('DnsRecordName') },
      launchTemplate: { id: value('LaunchTemplateId') },
      bake: {
        infrastructureConfigurationArn: value('BakeInfrastructureConfigurationArn'),
        parentImage: value('BakeParentImage'),
        installCommand: value('BakeInstallCommand'),
      },
    });
  });

  it('takes the whole describe-stacks answer too', () => {
    expect(configFromOutputs({ Stacks: [{ StackName: 'web-prod', Outputs: fixture }] })).toEqual(
      configFromOutputs(fixture),
    );
  });

  it("writes the stack's fields over a base config, keeping what the stack does not know", () => {
    const base = JSON.parse(readFileSync('examples/web-prod.config.json', 'utf8'));
    const result = configFromOutputs(fixture, base);
    if (!result.ok) throw new Error(result.problems.join('; '));
    expect(result.config).toMatchObject({
      alarms: base.alarms,
      traffic: base.traffic,
      termination: base.termination,
      // The base names its launch template; the stack's id replaces it, in the base's version.
      launchTemplate: { id: 'lt-0a1b2c3d4e5f67890', version: '$Default' },
      bake: { infrastructureConfigurationArn: expect.stringContaining(':eu-west-1:') },
    });
    expect(result.config.launchTemplate).not.toHaveProperty('name');
  });

  it('names every output missing', () => {
    const partial = fixture.filter((o) => !['SlotBTargetGroupArn', 'LaunchTemplateId'].includes(o.OutputKey));
    expect(configFromOutputs(partial)).toEqual({
      ok: false,
      problems: [
        'outputs: missing SlotBTargetGroupArn, LaunchTemplateId (are these the outputs of a stack made from examples/app-stack.cfn.yml?)',
      ],
    });
  });

  it('names the field whose output the schema refuses', () => {
    const broken = fixture.map((o) =>
      o.OutputKey === 'SlotATargetGroupArn' ? { ...o, OutputValue: 'web-prod-a' } : o,
    );
    const result = configFromOutputs(broken);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toEqual([
      expect.stringMatching(/^slots\.a\.targetGroupArn: must be a target group ARN/),
    ]);
  });

  it.each([
    ['an object that is no describe-stacks answer', { Outputs: fixture }],
    ['a string', 'outputs'],
  ])('refuses %s, saying what it expects', (_what, raw) => {
    expect(configFromOutputs(raw)).toEqual({
      ok: false,
      problems: [expect.stringContaining('expected the JSON of `aws cloudformation describe-stacks')],
    });
  });

  it('refuses entries that are not outputs, by position', () => {
    expect(configFromOutputs([...fixture, { OutputKey: 'Extra' }])).toEqual({
      ok: false,
      problems: ['outputs[12]: must be {"OutputKey": string, "OutputValue": string}'],
    });
  });
});

describe('npm run config:from-stack', () => {
  function run(...args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = main(
      args,
      (text) => {
        stdout += text;
      },
      (text) => {
        stderr += text;
      },
    );
    return { code, stdout, stderr };
  }

  it('prints the config as JSON and exits 0', () => {
    const { code, stdout, stderr } = run('--outputs', FIXTURE_PATH);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const result = configFromOutputs(fixture);
    expect(JSON.parse(stdout)).toEqual(result.ok ? result.config : undefined);
  });

  it('prints every problem, writes no config and exits 1 when the outputs give no valid config', () => {
    const { code, stdout, stderr } = run('--outputs', 'package.json');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('no config written from package.json:\n  - outputs: expected the JSON of');
  });

  it('says which file cannot be read or is not JSON', () => {
    expect(run('--outputs', 'no/such/outputs.json').stderr).toBe(
      'outputs no/such/outputs.json: cannot be read (ENOENT)\n',
    );
    expect(run('--outputs', FIXTURE_PATH, '--base', 'README.md')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^base config README\.md: is not JSON/),
    });
  });

  it.each([[[]], [['--outputs']], [['--output', FIXTURE_PATH]], [['--base', FIXTURE_PATH]]])(
    'shows the usage and exits 2 for the arguments %j',
    (args) => {
      const { code, stderr } = run(...args);
      expect(code).toBe(2);
      expect(stderr).toContain('usage: npm run --silent config:from-stack -- --outputs outputs.json');
    },
  );
});

// The app stack of fleet.kind autoScalingGroup: the alb stack's load balancer and target groups,
// a launch template the service makes each green group's version of, and no group: the service
// makes every group, the first one included.
describe('examples/asg-app-stack.cfn.yml', () => {
  const groupTemplate = readTemplate(GROUP_TEMPLATE_PATH);
  const groupResources = groupTemplate.Resources;
  const groupProperties = (logicalId: string): Record<string, unknown> => {
    const resource = groupResources[logicalId];
    if (!resource) throw new Error(`${GROUP_TEMPLATE_PATH} has no resource ${logicalId}`);
    return resource.Properties ?? {};
  };

  it('makes no Auto Scaling group (nor anything of Auto Scaling): the service makes green’s', () => {
    expect(Object.values(groupResources).filter((r) => r.Type.startsWith('AWS::AutoScaling::'))).toEqual([]);
  });

  it('has one load balancer and no records, both slots’ target groups tagged as the service’s', () => {
    const types = Object.values(groupResources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toHaveLength(1);
    expect(types.filter((t) => t === 'AWS::Route53::RecordSet')).toHaveLength(0);
    for (const slot of ['a', 'b']) {
      expect(groupProperties(`TargetGroup${slot.toUpperCase()}`).Tags).toEqual([
        { Key: 'bluegreen:managed-by', Value: 'bluegreen-ec2' },
        { Key: 'bluegreen:slot', Value: slot },
        { Key: 'bluegreen:app', Value: { Ref: 'App' } },
        { Key: 'bluegreen:env', Value: { Ref: 'Env' } },
      ]);
    }
  });

  it('puts the fleet role and its profile under the IAM path the service may pass (serverless.yml)', () => {
    const path = readFileSync('serverless.yml', 'utf8').match(/^ {4}instanceRolePath: (\S+)$/m)?.[1];
    expect(path).toBe('/bluegreen-ec2/');
    expect(groupProperties('InstanceRole').Path).toBe(path);
    expect(groupProperties('InstanceProfile')).toEqual({ Path: path, Roles: [{ Ref: 'InstanceRole' }] });
  });

  it('tags the launch template as the service’s, with no AMI and no subnet (a group launches into its own)', () => {
    const lt = groupProperties('LaunchTemplate');
    expect(lt.TagSpecifications).toEqual([
      {
        ResourceType: 'launch-template',
        Tags: [
          { Key: 'bluegreen:managed-by', Value: 'bluegreen-ec2' },
          { Key: 'bluegreen:app', Value: { Ref: 'App' } },
          { Key: 'bluegreen:env', Value: { Ref: 'Env' } },
        ],
      },
    ]);
    expect(lt.LaunchTemplateData).toEqual({
      InstanceType: { Ref: 'InstanceType' },
      IamInstanceProfile: { Arn: { 'Fn::GetAtt': ['InstanceProfile', 'Arn'] } },
      MetadataOptions: { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
      SecurityGroupIds: [{ 'Fn::GetAtt': ['InstanceSecurityGroup', 'GroupId'] }],
    });
  });

  it('outputs the groups’ subnets comma-separated: the instance subnets given, else the load balancers’', () => {
    const subnets = { 'Fn::If': ['HasInstanceSubnets', { Ref: 'InstanceSubnetIds' }, { Ref: 'SubnetIds' }] };
    expect(groupTemplate.Outputs.FleetSubnetIds?.Value).toEqual({ 'Fn::Join': [',', subnets] });
    // The image builds run in the first of them.
    expect(groupProperties('InfrastructureConfiguration').SubnetId).toEqual({ 'Fn::Select': [0, subnets] });
  });

  it('has one output per config field, each described by the field it is, and the load balancer’s name', () => {
    const { LoadBalancerDnsName, ...fields } = groupTemplate.Outputs;
    expect(LoadBalancerDnsName?.Description).toMatch(/not a config field/);
    expect(Object.fromEntries(Object.entries(fields).map(([key, o]) => [key, o.Description]))).toEqual(
      GROUP_OUTPUT_FIELDS,
    );
  });
});

describe('config-from-stack with the group app stack’s outputs', () => {
  const outputs = JSON.parse(readFileSync(GROUP_FIXTURE_PATH, 'utf8')) as {
    OutputKey: string;
    OutputValue: string;
  }[];
  const value = (key: string) => outputs.find((o) => o.OutputKey === key)?.OutputValue;
  const SUBNETS = ['subnet-0a1b2c3d4e5f67890', 'subnet-0f9e8d7c6b5a43210'];
  const withSubnets = (subnets: string) =>
    outputs.map((o) => (o.OutputKey === 'FleetSubnetIds' ? { ...o, OutputValue: subnets } : o));

  it('has a fixture with exactly the outputs the template declares', () => {
    expect(outputs.map((o) => o.OutputKey).sort()).toEqual(
      Object.keys(readTemplate(GROUP_TEMPLATE_PATH).Outputs).sort(),
    );
    expect(value('FleetSubnetIds')).toBe(SUBNETS.join(','));
  });

  it('writes a fleet.kind autoScalingGroup config in traffic.mode alb the service accepts, the subnets as a list', () => {
    const result = configFromOutputs(outputs);
    if (!result.ok) throw new Error(result.problems.join('; '));
    expect(result.config).toEqual({
      slots: {
        a: { targetGroupArn: value('SlotATargetGroupArn') },
        b: { targetGroupArn: value('SlotBTargetGroupArn') },
      },
      traffic: { mode: 'alb' },
      listener: { listenerArn: value('ListenerArn') },
      fleet: { kind: 'autoScalingGroup', subnetIds: SUBNETS },
      launchTemplate: { id: value('LaunchTemplateId') },
      bake: {
        infrastructureConfigurationArn: value('BakeInfrastructureConfigurationArn'),
        parentImage: value('BakeParentImage'),
        installCommand: value('BakeInstallCommand'),
      },
    });
    const checked = validateConfig(result.config);
    expect(checked.ok && checked.config.fleet).toEqual({ kind: 'autoScalingGroup', subnetIds: SUBNETS });
  });

  it('over a base keeps its grace period, steps and alarms, not its records nor its subnets', () => {
    const base = JSON.parse(readFileSync('examples/web-prod.config.json', 'utf8'));
    base.fleet = {
      kind: 'autoScalingGroup',
      subnetIds: ['subnet-00000000000000000'],
      healthCheckGracePeriodSeconds: 120,
    };
    const result = configFromOutputs(outputs, base);
    if (!result.ok) throw new Error(result.problems.join('; '));
    expect(result.config).not.toHaveProperty('dns');
    expect(result.config).toMatchObject({
      traffic: { ...base.traffic, mode: 'alb' },
      alarms: base.alarms,
      fleet: { kind: 'autoScalingGroup', subnetIds: SUBNETS, healthCheckGracePeriodSeconds: 120 },
    });
  });

  it('leaves out a group base’s fleet for the outputs of a stack whose template names the subnet', () => {
    const group = configFromOutputs(outputs);
    if (!group.ok) throw new Error(group.problems.join('; '));
    for (const other of [
      fixture,
      JSON.parse(readFileSync('test/fixtures/alb-app-stack-outputs.json', 'utf8')),
    ]) {
      const result = configFromOutputs(other, group.config);
      if (!result.ok) throw new Error(result.problems.join('; '));
      expect(result.config).not.toHaveProperty('fleet');
    }
    const instances = configFromOutputs(fixture, { fleet: { kind: 'instances' } });
    expect(instances.ok && instances.config.fleet).toEqual({ kind: 'instances' });
  });

  it('names the missing outputs and the group template they come from', () => {
    const partial = outputs.filter((o) => o.OutputKey !== 'ListenerArn');
    expect(configFromOutputs(partial)).toEqual({
      ok: false,
      problems: [
        `outputs: missing ListenerArn (are these the outputs of a stack made from ${GROUP_TEMPLATE_PATH}?)`,
      ],
    });
  });

  it.each([
    [
      'a subnet that is none',
      'subnet-0a1b2c3d4e5f67890,sg-0123456789abcdef0',
      /^fleet\.subnetIds\.\[1\]: must be a subnet id/,
    ],
    ['no subnet', '', /^fleet\.subnetIds\.\[0\]: must be a subnet id/],
  ])('names the field when the output holds %s', (_what, subnets, problem) => {
    const result = configFromOutputs(withSubnets(subnets));
    expect(result.ok ? [] : result.problems).toEqual([expect.stringMatching(problem)]);
  });

  it('prints the config with npm run config:from-stack', () => {
    let stdout = '';
    expect(
      main(
        ['--outputs', GROUP_FIXTURE_PATH],
        (text) => {
          stdout += text;
        },
        () => undefined,
      ),
    ).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ fleet: { kind: 'autoScalingGroup', subnetIds: SUBNETS } });
  });
});
