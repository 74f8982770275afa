import { beforeAll, describe, expect, it } from 'vitest';
import { RECOVERY_GRACE_SECONDS } from '#shared/domain/lock.ts';
import { loadDefinition, loadFunctionHandlers } from '../sim/definition.ts';
import {
  actionsCalledBy,
  asList,
  clientsBundled,
  type Json,
  packageTemplate,
  roleStatements,
  type Statement,
  sdkUse,
} from '../sim/packaging.ts';

type Resource = { Type: string; Properties: Json; DependsOn?: unknown };

/**
 * Actions a function needs beyond the operations its code sends, each with the reason. An
 * action in a role must be called by the function or listed here.
 */
const IMPLIED: Record<string, Record<string, string>> = {
  '*': {
    'logs:CreateLogStream': 'Lambda writes its logs',
    'logs:CreateLogGroup': 'Lambda writes its logs',
    'logs:PutLogEvents': 'Lambda writes its logs',
    'logs:TagResource': 'the framework tags the log group',
    'xray:PutTraceSegments': 'tracing is on',
    'xray:PutTelemetryRecords': 'tracing is on',
  },
  planDeployment: {
    's3:ListBucket': 'without it a missing config reads as AccessDenied instead of NoSuchKey',
  },
  startBake: {
    'imagebuilder:GetComponent': 'CreateImageRecipe reads the components it names',
    'imagebuilder:GetImageRecipe': 'CreateImage reads its recipe',
    'imagebuilder:GetInfrastructureConfiguration': 'CreateImage reads its infrastructure configuration',
    'imagebuilder:GetImage': 'CreateImageRecipe reads an Image Builder parent image',
    'imagebuilder:TagResource': 'the create calls carry tags',
    'iam:CreateServiceLinkedRole': "Image Builder's service-linked role on first use",
  },
  launchGreen: {
    'ec2:CreateTags': 'RunInstances tags on launch (TagSpecifications)',
    'iam:PassRole': "RunInstances passes the launch template's instance profile",
  },
};

/**
 * Mutating actions that may be allowed on "*" without a condition, each with the reason: AWS
 * supports no resource-level permission or condition key for them.
 */
const UNCONDITIONED_EXCEPTIONS: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions; needed by active tracing',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions; needed by active tracing',
  'logs:CreateLogDelivery': 'Step Functions execution logging; the log delivery APIs take no resource ARN',
  'logs:UpdateLogDelivery': 'Step Functions execution logging; the log delivery APIs take no resource ARN',
  'logs:DeleteLogDelivery': 'Step Functions execution logging; the log delivery APIs take no resource ARN',
  'logs:PutResourcePolicy': 'Step Functions execution logging writes the log group resource policy',
  'states:SendTaskSuccess':
    'the service authorization reference lists no resource type or condition key: the task token is the authorization',
  'states:SendTaskFailure':
    'the service authorization reference lists no resource type or condition key: the task token is the authorization',
};

let template: Json;
let resources: Record<string, Resource>;
const handlers = loadFunctionHandlers();
const { tasks } = loadDefinition();

beforeAll(async () => {
  template = await packageTemplate();
  resources = template.Resources as Record<string, Resource>;
});

const logicalId = (key: string) => `${key[0]?.toUpperCase()}${key.slice(1)}LambdaFunction`;

describe('the packaged CloudFormation template (osls package, offline)', () => {
  it('holds the state machine with execution logging and tracing on', () => {
    const machine = resources.DeployStateMachine;
    expect(machine?.Type).toBe('AWS::StepFunctions::StateMachine');
    expect(machine?.Properties.StateMachineType).toBe('STANDARD');
    expect(machine?.Properties.LoggingConfiguration).toMatchObject({
      Level: 'ALL',
      IncludeExecutionData: true,
    });
    expect(machine?.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('holds every function the ASL references, on nodejs22.x, each with its own role', () => {
    const referenced = new Set(Object.values(tasks));
    expect(referenced.size).toBeGreaterThan(10);
    const definition = JSON.stringify(resources.DeployStateMachine?.Properties.DefinitionString);
    for (const key of referenced) {
      const fn = resources[logicalId(key)];
      expect(fn, `function ${key}`).toBeDefined();
      expect(fn?.Properties.Runtime).toBe('nodejs22.x');
      expect(definition).toContain(logicalId(key));
    }
    for (const key of Object.keys(handlers)) {
      expect(JSON.stringify(resources[logicalId(key)]?.Properties.Role)).toContain(
        `${key[0]?.toUpperCase()}${key.slice(1)}IamRoleLambdaExecution`,
      );
    }
  });

  it('creates a versioned, private, encrypted release bucket that starts deployments', () => {
    const bucket = resources.ReleaseBucket?.Properties as Json & Record<string, Json>;
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(JSON.stringify(bucket.BucketEncryption)).toContain('SSEAlgorithm');
    const notifications = (bucket.NotificationConfiguration as { LambdaConfigurations: Json[] })
      .LambdaConfigurations;
    const filters = notifications.map((n) => JSON.stringify(n));
    expect(filters.some((f) => f.includes('releases/') && f.includes('.zip'))).toBe(true);
    expect(filters.some((f) => f.includes('releases/') && f.includes('.tar.gz'))).toBe(true);
    for (const n of notifications) {
      expect(n.Event).toBe('s3:ObjectCreated:*');
      expect(n.Function).toEqual({ 'Fn::GetAtt': ['StartDeploymentLambdaFunction', 'Arn'] });
    }
    expect(resources.StartDeploymentS3Permission?.Properties.Principal).toBe('s3.amazonaws.com');
  });

  it("keeps every attempt of the stop recovery inside the lock's grace", () => {
    const config = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::EventInvokeConfig' &&
        JSON.stringify(r.Properties).includes('RecoverExecution'),
    );
    const props = config?.Properties as { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number };
    expect(props.MaximumRetryAttempts).toBe(2);
    // The oldest event an attempt may start on, plus the function's timeout, within the grace.
    expect(props.MaximumEventAgeInSeconds + 300).toBeLessThan(RECOVERY_GRACE_SECONDS);
  });

  it('creates the deployment notification topic', () => {
    expect(resources.DeploymentTopic?.Type).toBe('AWS::SNS::Topic');
  });

  it('lets every function with active tracing write its traces', () => {
    for (const key of Object.keys(handlers)) {
      const actions = roleStatements(template, key).flatMap((s) => asList(s.Action));
      expect(actions, key).toContain('xray:PutTraceSegments');
    }
  });

  it('allows no mutating action on every resource ("*") without a condition, but the listed exceptions', () => {
    const found: string[] = [];
    for (const [name, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      const policies = (resource.Properties.Policies ?? []) as {
        PolicyDocument: { Statement: Statement[] };
      }[];
      for (const statement of policies.flatMap((p) => p.PolicyDocument.Statement)) {
        if (
          statement.Effect !== 'Allow' ||
          !asList(statement.Resource as unknown).includes('*') ||
          statement.Condition
        )
          continue;
        for (const action of asList(statement.Action)) {
          if (/^[\w-]+:(Describe|Get|List|Head)/.test(action)) continue;
          if (!(action in UNCONDITIONED_EXCEPTIONS)) found.push(`${name}: ${action}`);
        }
      }
    }
    expect(found).toEqual([]);
  });

  describe.each(Object.keys(handlers))('the role of %s', (key) => {
    it('allows exactly what the function calls, and what those calls imply', async () => {
      const called = await actionsCalledBy(
        `${handlers[key]?.module.replace(/^.*\/functions\//, 'functions/')}`,
      );
      const allowed = new Set(roleStatements(template, key).flatMap((s) => asList(s.Action)));
      const implied = { ...IMPLIED['*'], ...IMPLIED[key] };
      const unused = [...allowed].filter((action) => !called.has(action) && !(action in implied));
      expect(unused, `${key} is allowed actions it never calls`).toEqual([]);
      const missing = [...called].filter((action) => !allowed.has(action));
      expect(missing, `${key} calls actions its role does not allow`).toEqual([]);
    });

    it('bundles no AWS SDK client it does not call', async () => {
      const module = `${handlers[key]?.module.replace(/^.*\/functions\//, 'functions/')}`;
      const [bundled, use] = await Promise.all([clientsBundled(module), sdkUse(module)]);
      expect([...bundled].sort()).toEqual([...use.clients].sort());
    });

    it('can terminate, deregister or register only what carries the service tag', () => {
      for (const statement of roleStatements(template, key)) {
        const actions = asList(statement.Action);
        const guarded = actions.filter((a) =>
          [
            'ec2:TerminateInstances',
            'elasticloadbalancing:DeregisterTargets',
            'elasticloadbalancing:RegisterTargets',
          ].includes(a),
        );
        if (guarded.length === 0) continue;
        expect(
          statement.Condition?.StringEquals?.['aws:ResourceTag/bluegreen:managed-by'],
          guarded.join(),
        ).toBe('bluegreen-ec2');
      }
    });
  });
});
