import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetImageCommand, ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { RECOVERY_GRACE_SECONDS } from '#shared/domain/lock.ts';
import { METRIC_NAMES, METRICS_NAMESPACE, OUTCOME_METRICS, OVERRUN_METRIC } from '#shared/domain/metrics.ts';
import { requestLock } from '#shared/tasks/acquire-lock.ts';
import { awaitBake } from '#shared/tasks/await-bake.ts';
import { watchAlarms } from '#shared/tasks/watch-alarms.ts';
import { loadDefinition, loadFunctionHandlers, readYaml, SERVERLESS_PATH } from '../sim/definition.ts';
import {
  actionsCalledBy,
  asList,
  clientsBundled,
  type Json,
  packageTemplate,
  ROOT,
  roleStatements,
  type Statement,
  sdkUse,
} from '../sim/packaging.ts';
import { dependencyGraph, findCycle } from '../sim/template-graph.ts';
import { deployment, exampleConfigText, objectBody, planFor, stateWith } from './handlers/fixtures.ts';

type Resource = {
  Type: string;
  Properties: Json;
  DependsOn?: unknown;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

/**
 * Actions a function needs beyond the operations its code sends, each with the reason. An
 * action in a role must be called by the function or listed here.
 */
/**
 * The functions whose only GetObject names the VersionId Plan pinned (they read the config by it):
 * S3 authorizes that as s3:GetObjectVersion, not s3:GetObject (S3 API reference, GetObject).
 */
const READS_BY_VERSION = new Set([
  'startBake',
  'watchAlarms',
  'launchGreen',
  'shiftTraffic',
  'checkStep',
  'checkDnsChange',
  'watchWindow',
  'requestApproval',
]);

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
    'autoscaling:CreateOrUpdateTags': 'CreateAutoScalingGroup tags the group it creates',
  },
  startDeployment: {
    'sqs:SendMessage': 'on-failure destination of its asynchronous invocations',
    's3:ListBucket': 'without it a missing config reads as AccessDenied instead of NotFound',
  },
  onAwsEvent: {
    'sqs:SendMessage': 'on-failure destination of its asynchronous invocations',
  },
  recoverExecution: {
    'sqs:SendMessage': 'on-failure destination of its asynchronous invocations',
  },
  redriveWaits: {
    'sqs:SendMessage': 'on-failure destination of its asynchronous (scheduled) invocations',
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

/** cfn-lint's version when it is on PATH (a Python tool: pip, not npm), else undefined. */
const cfnLint = (() => {
  const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
})();
const NO_CFN_LINT =
  'cfn-lint is not on PATH: the packaged CloudFormation template was NOT linted (install cfn-lint 1.x, e.g. `pip install cfn-lint`, to lint it)';
if (!cfnLint) console.warn(NO_CFN_LINT);

interface CfnLintFinding {
  Rule: { Id: string };
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Location: { Path?: (string | number)[]; Start?: { LineNumber: number } };
}

/** Whether a value is `{Ref: name}`. */
const isRef = (value: unknown, name: string) => JSON.stringify(value) === JSON.stringify({ Ref: name });

let template: Json;
let resources: Record<string, Resource>;
const handlers = loadFunctionHandlers();
const { tasks } = loadDefinition();

beforeAll(async () => {
  template = await packageTemplate();
  resources = template.Resources as Record<string, Resource>;
});

const logicalId = (key: string) => `${key[0]?.toUpperCase()}${key.slice(1)}LambdaFunction`;

describe('the stack parameters', () => {
  const declared = () =>
    (template.Parameters ?? {}) as Record<string, { Default?: string; AllowedPattern?: string }>;

  it('are each sent on deploy from params, whose defaults are the template’s safe defaults', () => {
    const service = readYaml(SERVERLESS_PATH) as {
      params: { default: Record<string, string> };
      provider: { stackParameters: { ParameterKey: string; ParameterValue: string }[] };
    };
    const sent = service.provider.stackParameters.map((p) => p.ParameterKey).sort();
    expect(sent).toEqual(Object.keys(declared()).sort());
    for (const { ParameterKey, ParameterValue } of service.provider.stackParameters) {
      const name = ParameterValue.match(/^\$\{param:(\w+)\}$/)?.[1] ?? '';
      expect(service.params.default[name], ParameterKey).toBe(declared()[ParameterKey]?.Default);
    }
  });

  it('scope the listener writes (traffic.mode alb) to ListenerArns, which Plan is told of, and name none by default', () => {
    const defaultArn = declared().ListenerArns?.Default ?? '';
    expect(defaultArn).toMatch(/^arn:aws:elasticloadbalancing:[a-z0-9-]+:000000000000:listener\/app\//);
    const writers = Object.keys(loadFunctionHandlers()).filter((key) =>
      roleStatements(template, key).some((st) =>
        asList(st.Action).includes('elasticloadbalancing:ModifyListener'),
      ),
    );
    expect(writers.sort()).toEqual(['healSplit', 'rollbackTraffic', 'shiftTraffic']);
    for (const key of writers) {
      const writes = roleStatements(template, key).filter((st) =>
        asList(st.Action).includes('elasticloadbalancing:ModifyListener'),
      );
      for (const st of writes) {
        expect(asList(st.Action).sort()).toEqual([
          'elasticloadbalancing:ModifyListener',
          'elasticloadbalancing:ModifyRule',
        ]);
        expect(st.Resource).toEqual({ Ref: 'ListenerArns' });
      }
    }
    const plan = resources[logicalId('planDeployment')]?.Properties as {
      Environment: { Variables: Record<string, unknown> };
    };
    expect(plan.Environment.Variables.MANAGED_LISTENERS).toEqual({
      'Fn::Join': [',', { Ref: 'ListenerArns' }],
    });
  });

  it('refuse "/" as the instance role path, which would let every role be passed to EC2', () => {
    const pattern = new RegExp(declared().InstanceRolePath?.AllowedPattern ?? '');
    expect(pattern.test('/')).toBe(false);
    expect(pattern.test('/bluegreen-ec2/')).toBe(true);
    expect(pattern.test('/teams/web/')).toBe(true);
  });
});

describe('the packaged CloudFormation template (osls package, offline)', () => {
  it('holds the state machine with tracing on, logging errors without execution data (task tokens)', () => {
    const machine = resources.DeployStateMachine;
    expect(machine?.Type).toBe('AWS::StepFunctions::StateMachine');
    expect(machine?.Properties.StateMachineType).toBe('STANDARD');
    // Execution data would put every task's payload, task tokens included, into CloudWatch Logs.
    expect(machine?.Properties.LoggingConfiguration).toMatchObject({
      Level: 'ERROR',
      IncludeExecutionData: false,
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

  it('has no dependency cycle (CloudFormation rejects a template with one)', () => {
    const cycle = findCycle(dependencyGraph(template));
    expect(cycle, `dependency cycle: ${cycle?.join(' -> ')}`).toBeUndefined();
  });

  // Named for what it did, so that the report says so when the template was not linted.
  const lintTest = cfnLint
    ? `passes cfn-lint (${cfnLint}, .cfnlintrc.yaml) with no error`
    : 'is NOT linted: cfn-lint is not on PATH';
  it(lintTest, { timeout: 180_000 }, async () => {
    if (!cfnLint) {
      console.warn(NO_CFN_LINT);
      return;
    }
    const file = join(mkdtempSync(join(tmpdir(), 'bluegreen-cfn-lint-')), 'template.json');
    writeFileSync(file, JSON.stringify(template, null, 2));
    // Run in the repo so that cfn-lint reads its .cfnlintrc.yaml. Exit code: bit 2 errors, 4
    // warnings, 8 informational; the findings' levels say the same in detail.
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (done) => {
        execFile(
          'cfn-lint',
          ['--format', 'json', '--', file],
          { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 170_000 },
          (error, stdout, stderr) =>
            done({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
        );
      },
    );
    let findings: CfnLintFinding[];
    try {
      findings = JSON.parse(stdout || '[]') as CfnLintFinding[];
    } catch {
      throw new Error(`cfn-lint printed no JSON findings (exit code ${code}): ${stderr || stdout}`);
    }
    const show = (f: CfnLintFinding) =>
      `${f.Rule.Id} ${(f.Location.Path ?? []).slice(0, 2).join('/')}: ${f.Message}`;
    const others = findings.filter((f) => f.Level !== 'Error');
    if (others.length > 0) console.warn(`cfn-lint warnings:\n${others.map(show).join('\n')}`);
    expect(findings.filter((f) => f.Level === 'Error').map(show)).toEqual([]);
    expect(code & 2, `cfn-lint exit code ${code}: ${stderr}`).toBe(0);
    // Anything but findings (a crash, a bad config) is no clean result.
    expect(code & ~(2 | 4 | 8), `cfn-lint exit code ${code}: ${stderr}`).toBe(0);
  });

  it('sends every asynchronous invocation that still fails to an alarmed dead-letter queue', () => {
    // Whatever S3 or EventBridge invokes is invoked asynchronously: retried twice, then dropped
    // unless there is an on-failure destination.
    const asyncFunctions = new Set(
      Object.values(resources)
        .filter(
          (r) =>
            r.Type === 'AWS::Lambda::Permission' &&
            ['s3.amazonaws.com', 'events.amazonaws.com'].includes(r.Properties.Principal as string),
        )
        .map((r) => (r.Properties.FunctionName as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]),
    );
    expect([...asyncFunctions].sort()).toEqual([
      'OnAwsEventLambdaFunction',
      'RecoverExecutionLambdaFunction',
      'RedriveWaitsLambdaFunction',
      'StartDeploymentLambdaFunction',
    ]);
    const queues = new Set<string>();
    for (const fn of asyncFunctions) {
      const config = Object.values(resources).find(
        (r) => r.Type === 'AWS::Lambda::EventInvokeConfig' && isRef(r.Properties.FunctionName, fn),
      );
      expect(config?.Properties.Qualifier, fn).toBe('$LATEST');
      const destination = (config?.Properties.DestinationConfig as { OnFailure?: { Destination?: unknown } })
        ?.OnFailure?.Destination as { 'Fn::GetAtt'?: [string, string] } | undefined;
      const queue = destination?.['Fn::GetAtt']?.[0] ?? '';
      expect(resources[queue]?.Type, `${fn}: on-failure destination`).toBe('AWS::SQS::Queue');
      queues.add(queue);
      // Lambda sends to the destination with the function's own role.
      const key = fn.replace(/LambdaFunction$/, '');
      const sends = roleStatements(template, `${key[0]?.toLowerCase()}${key.slice(1)}`).filter(
        (st) => st.Effect === 'Allow' && asList(st.Action).includes('sqs:SendMessage'),
      );
      expect(
        sends.map((st) => st.Resource),
        fn,
      ).toEqual([{ 'Fn::GetAtt': [queue, 'Arn'] }]);
    }
    expect(queues.size).toBe(1);
    const [queue = ''] = queues;
    expect(resources[queue]?.Properties).toMatchObject({
      MessageRetentionPeriod: 14 * 86_400,
      SqsManagedSseEnabled: true,
    });
    // Any message in it notifies the deployments topic.
    const alarms = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        JSON.stringify(r.Properties.Dimensions) ===
          JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }]),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      // Messages sent per minute: each new dead letter alarms again (alarm actions run only on
      // a change into ALARM, which a count of visible messages would not make again).
      MetricName: 'NumberOfMessagesSent',
      Statistic: 'Sum',
      TreatMissingData: 'notBreaching',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'DeploymentTopic' }],
    });
  });

  it('alarms on and charts exactly the metrics the final notification emits', () => {
    // The service's metrics the alarms and the dashboard read: every query on its namespace.
    const used = (text: string) =>
      [...text.matchAll(/(?:SUM|MAX|AVG)\((\w+)\) FROM SCHEMA\(\\?"([\w-]+)\\?"/g)].map(([, name, ns]) => {
        expect(ns).toBe(METRICS_NAMESPACE);
        return name;
      });
    // A rollback that failed, and a deployment past the deadline its plan computed (the count the
    // task wrapper writes): each alarms on one count.
    for (const [key, metric] of [
      ['RollbackFailedAlarm', OUTCOME_METRICS['rollback-failed']],
      ['DeploymentOverrunAlarm', OVERRUN_METRIC],
    ] as const) {
      const alarm = resources[key];
      expect(alarm?.Type).toBe('AWS::CloudWatch::Alarm');
      expect(alarm?.Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'DeploymentTopic' }],
      });
      expect(used(JSON.stringify(alarm?.Properties.Metrics))).toEqual([metric]);
    }
    const overrun = resources.DeploymentOverrunAlarm;
    // One count alarms, and the alarm holds for the hour a late deployment's tasks may be apart
    // (within the 3 hours a Metrics Insights alarm may evaluate), instead of notifying again.
    const window = (props: Record<string, unknown> | undefined) =>
      ((props?.Metrics as { Period: number }[] | undefined)?.[0]?.Period ?? 0) *
      Number(props?.EvaluationPeriods);
    expect(overrun?.Properties).toMatchObject({ DatapointsToAlarm: 1 });
    expect(window(overrun?.Properties)).toBe(3600);
    for (const r of Object.values(resources))
      if (
        r.Type === 'AWS::CloudWatch::Alarm' &&
        JSON.stringify(r.Properties.Metrics ?? '').includes('SCHEMA(')
      )
        expect(window(r.Properties)).toBeLessThanOrEqual(3 * 3600);

    const dashboard = resources.Dashboard;
    expect(dashboard?.Type).toBe('AWS::CloudWatch::Dashboard');
    const body =
      (dashboard?.Properties.DashboardBody as { 'Fn::Sub'?: string } | undefined)?.['Fn::Sub'] ?? '';
    // Valid JSON once CloudFormation substitutes its ${...} references.
    const widgets = (JSON.parse(body.replaceAll('${', '$(')) as { widgets: { type: string }[] }).widgets;
    expect([...used(body)].sort()).toEqual([...METRIC_NAMES].sort());
    expect(widgets.map((w) => w.type)).toContain('alarm');
    for (const name of [
      'RollbackFailedAlarm',
      'DeploymentOverrunAlarm',
      'DeadLetterQueueAlarm',
      'DeployStateMachine',
    ])
      expect(body).toContain(`\${${name}`);
  });

  it('lets CloudWatch alarms publish to the encrypted topic (its own KMS key, not alias/aws/sns)', () => {
    const topic = resources.DeploymentTopic;
    expect(topic?.Type).toBe('AWS::SNS::Topic');
    // The AWS-managed key's policy cannot be changed to let CloudWatch use it.
    const keyId = (topic?.Properties.KmsMasterKeyId as { Ref?: string })?.Ref ?? '';
    const key = resources[keyId];
    expect(key?.Type).toBe('AWS::KMS::Key');
    expect(key?.Properties.EnableKeyRotation).toBe(true);
    const statements =
      (key?.Properties.KeyPolicy as { Statement?: (Statement & { Principal: unknown })[] } | undefined)
        ?.Statement ?? [];
    const allows = (principal: unknown) =>
      statements
        .filter((st) => st.Effect === 'Allow' && JSON.stringify(st.Principal) === JSON.stringify(principal))
        .flatMap((st) => asList(st.Action));
    expect(allows({ Service: 'cloudwatch.amazonaws.com' })).toEqual(
      expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']),
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
    expect(allows({ AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } })).toEqual([
      'kms:*',
    ]);
    // Everyone else in the account only through SNS: the publishing functions need no KMS grant.
    const viaSns = statements.find((st) => JSON.stringify(st.Principal) === JSON.stringify({ AWS: '*' }));
    expect(viaSns?.Condition?.StringEquals).toEqual({
      'kms:CallerAccount': { Ref: 'AWS::AccountId' },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
      'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' },
    });
    const policy = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::SNS::TopicPolicy' &&
        JSON.stringify(r.Properties.Topics) === '[{"Ref":"DeploymentTopic"}]',
    );
    const publish = (
      (
        policy?.Properties.PolicyDocument as
          | { Statement?: (Statement & { Principal: unknown })[] }
          | undefined
      )?.Statement ?? []
    ).find((st) => JSON.stringify(st.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }));
    expect(publish).toMatchObject({
      Effect: 'Allow',
      Action: 'sns:Publish',
      Resource: { Ref: 'DeploymentTopic' },
    });
    expect(publish?.Condition?.StringEquals?.['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
  });

  it('lets DynamoDB remove the waits parked in the locks table, by the attribute the code writes, never a lock', async () => {
    const ttl = resources.LocksTable?.Properties.TimeToLiveSpecification as {
      AttributeName: string;
      Enabled: boolean;
    };
    expect(ttl?.Enabled).toBe(true);
    // What the tasks that park executions in the locks table write, with their clients mocked.
    const dynamodb = mockClient(DynamoDBClient);
    const imagebuilder = mockClient(ImagebuilderClient);
    const cloudwatch = mockClient(CloudWatchClient);
    const sfn = mockClient(SFNClient);
    const s3 = mockClient(S3Client);
    try {
      dynamodb.on(GetItemCommand).resolves({});
      dynamodb.on(PutItemCommand).resolves({});
      imagebuilder.on(GetImageCommand).resolves({ image: { state: { status: 'BUILDING' } } });
      cloudwatch
        .on(DescribeAlarmsCommand)
        .resolves({ MetricAlarms: [{ AlarmName: 'web-5xx', StateValue: 'OK' }] });
      sfn.on(SendTaskSuccessCommand).resolves({});
      const table = 'locks';
      const imageBuildVersionArn =
        'arn:aws:imagebuilder:us-east-1:123456789012:image/bluegreen-web-prod-0/1.0.0/1';
      await awaitBake({ token: 'bake-token', imageBuildVersionArn, seconds: 900 }, table);
      const pinned = { bucket: 'releases', key: 'config/web/prod.json', versionId: 'v1' };
      s3.on(GetObjectCommand).resolves({
        Body: objectBody(JSON.stringify({ ...JSON.parse(exampleConfigText), alarms: ['web-5xx'] })),
      });
      const plan = { ...planFor(), config: pinned, alarmCount: 1 };
      await watchAlarms(
        { token: 'watch-token', deployment: stateWith({ plan }), executionArn: 'arn:x', seconds: 300 },
        table,
      );
      await requestLock(
        { token: 'lock-token', executionArn: 'arn:aws:states:::execution:x:y', deployment },
        table,
      );
      const items = dynamodb.commandCalls(PutItemCommand).map((c) => unmarshall(c.args[0].input.Item ?? {}));
      const now = Date.now() / 1000;
      const waits = items.filter((item) => /^(bake|watch)#/.test(String(item.id)));
      expect(waits.map((item) => String(item.id).split('#')[0])).toEqual(['bake', 'watch']);
      for (const wait of waits) {
        expect(typeof wait[ttl.AttributeName], `${wait.id} carries ${ttl.AttributeName}`).toBe('number');
        // Seconds since the epoch (DynamoDB ignores milliseconds as a date far in the future).
        expect(wait[ttl.AttributeName]).toBeGreaterThan(now);
        expect(wait[ttl.AttributeName]).toBeLessThan(now + 30 * 86_400);
      }
      // The lock item also remembers the newest upload ever deployed: it must not expire.
      const locks = items.filter((item) => item.id === 'web/prod');
      expect(locks).toHaveLength(1);
      expect(locks[0]).not.toHaveProperty(ttl.AttributeName);
    } finally {
      for (const mock of [dynamodb, imagebuilder, cloudwatch, sfn, s3]) mock.restore();
    }
  });

  it('keeps the data and keys when the stack is deleted or a resource replaced, under the names the README uses', () => {
    for (const name of [
      'ReleaseBucket',
      'LocksTable',
      'ApprovalsTable',
      'ApprovalSigningKey',
      'DeploymentTopicKey',
    ]) {
      expect(resources[name]?.DeletionPolicy, name).toBe('Retain');
      expect(resources[name]?.UpdateReplacePolicy, name).toBe('Retain');
    }
    expect(resources.LocksTable?.Properties.TableName).toBe('bluegreen-ec2-prod-locks');
    expect(resources.ApprovalsTable?.Properties.TableName).toBe('bluegreen-ec2-prod-approvals');
    expect(resources.ApprovalSigningKey?.Properties.Name).toBe('bluegreen-ec2-prod/approval-signing-key');
    // Every name the README gives for a resource of the stack (`...bluegreen-ec2-<stage>...` in
    // backticks) is one the template of stage prod creates: the stack is named bluegreen-ec2-prod.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's pseudo parameters
    const [stackName, accountId] = ['${AWS::StackName}', '${AWS::AccountId}'];
    const named = [...readme.matchAll(/`([^`\s]*bluegreen-ec2-<stage>[^`\s]+)`/g)].map((m) =>
      (m[1] ?? '').replaceAll('<stage>', 'prod').replaceAll('<account>', accountId),
    );
    expect(named).toEqual(
      expect.arrayContaining(['bluegreen-ec2-prod-locks', 'bluegreen-ec2-prod-approvals']),
    );
    const text = JSON.stringify(template).replaceAll(stackName, 'bluegreen-ec2-prod');
    for (const name of new Set(named)) expect(text, name).toContain(`"${name}"`);
  });

  it('outputs what operators look up: bucket, topic, state machine, tables, dead-letter queue, approval URL', () => {
    const outputs = template.Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ReleaseBucketName?.Value).toEqual({ Ref: 'ReleaseBucket' });
    expect(outputs.DeploymentTopicArn?.Value).toEqual({ Ref: 'DeploymentTopic' });
    expect(outputs.StateMachineArn?.Value).toEqual({ Ref: 'DeployStateMachine' });
    expect(outputs.LocksTableName?.Value).toEqual({ Ref: 'LocksTable' });
    expect(outputs.ApprovalsTableName?.Value).toEqual({ Ref: 'ApprovalsTable' });
    expect(outputs.DeadLetterQueueUrl?.Value).toEqual({ Ref: 'DeadLetterQueue' });
    expect(resources.DeadLetterQueue?.Type).toBe('AWS::SQS::Queue');
    // The same base URL the approval links are built from.
    const environment = resources.RequestApprovalLambdaFunction?.Properties.Environment as
      | { Variables?: Json }
      | undefined;
    const base = environment?.Variables?.APPROVAL_BASE_URL;
    expect(outputs.ApprovalApiUrl?.Value).toEqual(base);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
    expect(JSON.stringify(base)).toContain('${HttpApi}');
  });

  it('serves decisions and promotes from a terminal only to callers AWS authenticated (IAM authorization), and outputs where', () => {
    const routes = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    const byKey = Object.fromEntries(routes.map((r) => [String(r.Properties.RouteKey), r.Properties]));
    expect(byKey['POST /decisions']?.AuthorizationType).toBe('AWS_IAM');
    expect(byKey['POST /promotions']?.AuthorizationType).toBe('AWS_IAM');
    // Links are opened by people with no AWS identity: their page decides by the link's signature.
    expect(byKey['ANY /approvals/{id}']?.AuthorizationType).toBeUndefined();
    expect(Object.keys(byKey).sort()).toEqual(['ANY /approvals/{id}', 'POST /decisions', 'POST /promotions']);
    const outputs = template.Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.DecisionApiUrl?.Value)).toContain('/decisions');
    expect(JSON.stringify(outputs.DecisionRouteArn?.Value)).toContain('/$default/POST/decisions');
    expect(JSON.stringify(outputs.PromotionApiUrl?.Value)).toContain('/promotions');
    expect(JSON.stringify(outputs.PromotionRouteArn?.Value)).toContain('/$default/POST/promotions');
    // Only API Gateway may invoke the functions: no approver or promoter needs lambda:InvokeFunction.
    for (const fn of ['TerminalDecisionLambdaFunction', 'PromoteLambdaFunction']) {
      const permissions = Object.values(resources).filter(
        (r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties.FunctionName).includes(fn),
      );
      expect(
        permissions.map((p) => p.Properties.Principal),
        fn,
      ).toEqual(['apigateway.amazonaws.com']);
    }
  });

  it('throttles the approval API stage', () => {
    const stage = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Stage');
    expect(stage).toHaveLength(1);
    const settings = stage[0]?.Properties.DefaultRouteSettings as {
      ThrottlingRateLimit?: number;
      ThrottlingBurstLimit?: number;
    };
    expect(settings.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(settings.ThrottlingBurstLimit).toBeGreaterThanOrEqual(settings.ThrottlingRateLimit ?? Infinity);
    // People click approval links: far below the account's default of 10,000 requests per second.
    expect(settings.ThrottlingBurstLimit).toBeLessThanOrEqual(100);
  });

  it('publishes no function versions (nothing invokes one)', () => {
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Version')).toEqual([]);
    expect(Object.keys(template.Outputs as Json).filter((k) => k.endsWith('QualifiedArn'))).toEqual([]);
  });

  it("creates no role that nothing uses (the framework's default role is dropped)", () => {
    expect(resources.IamRoleLambdaExecution).toBeUndefined();
    const used = new Set([...dependencyGraph(template).values()].flatMap((deps) => [...deps]));
    const unused = Object.entries(resources)
      .filter(([name, r]) => r.Type === 'AWS::IAM::Role' && !used.has(name))
      .map(([name]) => name);
    expect(unused).toEqual([]);
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
    it('lists no statement twice', () => {
      const statements = roleStatements(template, key).map((s) => JSON.stringify(s));
      const twice = statements.filter((s, i) => statements.indexOf(s) !== i);
      expect(twice, `${key}'s role repeats statements`).toEqual([]);
    });

    it('allows exactly what the function calls, and what those calls imply', async () => {
      const called = await actionsCalledBy(
        `${handlers[key]?.module.replace(/^.*\/functions\//, 'functions/')}`,
      );
      // GetObject with a VersionId (the pinned config) is authorized as s3:GetObjectVersion.
      if (READS_BY_VERSION.has(key) && called.delete('s3:GetObject')) called.add('s3:GetObjectVersion');
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

    it('can terminate, deregister, register, or change a group or launch template, only what carries the service tag', () => {
      for (const statement of roleStatements(template, key)) {
        const actions = asList(statement.Action);
        const guarded = actions.filter((a) =>
          [
            'ec2:TerminateInstances',
            'elasticloadbalancing:DeregisterTargets',
            'elasticloadbalancing:RegisterTargets',
            'autoscaling:DeleteAutoScalingGroup',
            'autoscaling:DetachLoadBalancerTargetGroups',
            'autoscaling:SuspendProcesses',
            'autoscaling:ResumeProcesses',
            'autoscaling:PutScalingPolicy',
            'autoscaling:UpdateAutoScalingGroup',
            'autoscaling:CreateOrUpdateTags',
            'ec2:CreateLaunchTemplateVersion',
            'ec2:DeleteLaunchTemplateVersions',
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
