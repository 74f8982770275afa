import { ACCOUNT, REGION } from '../world.ts';
import { secretArn } from './requests.ts';

type Json = Record<string, unknown>;

export interface PolicyDocument {
  Version?: string;
  Statement: Json[];
}

/** What the stack is deployed as: its name and the values of its parameters. */
export interface Stack {
  name: string;
  parameters: Record<string, string | string[]>;
}

interface Resource {
  Type: string;
  Properties?: Json;
}

/**
 * Resolves the intrinsic functions of a packaged CloudFormation template the way CloudFormation
 * would in the simulated account: pseudo parameters, stack parameters (given or defaulted),
 * conditions, and Ref / Fn::GetAtt of resources as the physical names and ARNs those resources get.
 */
export class TemplateResolver {
  private readonly resources: Record<string, Resource>;
  private readonly parameters: Record<string, string | string[]>;
  private readonly conditions: Record<string, unknown>;

  constructor(
    template: Json,
    private readonly stack: Stack,
  ) {
    this.resources = (template.Resources ?? {}) as Record<string, Resource>;
    this.conditions = (template.Conditions ?? {}) as Record<string, unknown>;
    const declared = (template.Parameters ?? {}) as Record<string, { Type?: string; Default?: string }>;
    this.parameters = {};
    for (const [name, spec] of Object.entries(declared)) {
      const value = stack.parameters[name] ?? spec.Default;
      if (value === undefined) throw new Error(`stack parameter ${name} has no value and no default`);
      this.parameters[name] =
        spec.Type === 'CommaDelimitedList' && typeof value === 'string' ? value.split(',') : value;
    }
    for (const name of Object.keys(stack.parameters)) {
      if (!(name in declared)) throw new Error(`the template declares no parameter ${name}`);
    }
  }

  private pseudo(name: string): string | undefined {
    return {
      'AWS::Partition': 'aws',
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::StackName': this.stack.name,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${this.stack.name}/00000000`,
    }[name];
  }

  private prop(id: string, name: string): string | undefined {
    const value = this.resources[id]?.Properties?.[name];
    return value === undefined ? undefined : String(this.resolve(value));
  }

  /** Ref of a resource: what CloudFormation returns for its type. */
  private ref(id: string): string {
    const resource = this.resources[id];
    if (!resource) throw new Error(`Ref to unknown resource ${id}`);
    const generated = `${this.stack.name}-${id}-SIM`;
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return this.prop(id, 'TableName') ?? generated;
      case 'AWS::S3::Bucket':
        return this.prop(id, 'BucketName') ?? generated.toLowerCase();
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${REGION}:${ACCOUNT}:${this.prop(id, 'TopicName') ?? generated}`;
      case 'AWS::SecretsManager::Secret':
        return secretArn(this.prop(id, 'Name') ?? generated);
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${this.prop(id, 'StateMachineName') ?? generated}`;
      case 'AWS::SQS::Queue':
        return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${this.prop(id, 'QueueName') ?? generated}`;
      case 'AWS::Lambda::Function':
        return this.prop(id, 'FunctionName') ?? generated;
      case 'AWS::Logs::LogGroup':
        return this.prop(id, 'LogGroupName') ?? generated;
      case 'AWS::IAM::Role':
        return this.prop(id, 'RoleName') ?? generated;
      default:
        return id;
    }
  }

  private getAtt(id: string, attribute: string): string {
    const resource = this.resources[id];
    if (!resource) throw new Error(`Fn::GetAtt of unknown resource ${id}`);
    const ref = this.ref(id);
    const key = `${resource.Type}.${attribute}`;
    switch (key) {
      case 'AWS::DynamoDB::Table.Arn':
        return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${ref}`;
      case 'AWS::S3::Bucket.Arn':
        return `arn:aws:s3:::${ref}`;
      case 'AWS::SNS::Topic.TopicArn':
        return ref;
      case 'AWS::SQS::Queue.Arn':
        return `arn:aws:sqs:${REGION}:${ACCOUNT}:${ref.split('/').at(-1)}`;
      case 'AWS::SQS::Queue.QueueName':
        return ref.split('/').at(-1) ?? ref;
      case 'AWS::Lambda::Function.Arn':
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${ref}`;
      case 'AWS::Logs::LogGroup.Arn':
        return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${ref}:*`;
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${ACCOUNT}:role/${ref}`;
      case 'AWS::StepFunctions::StateMachine.Name':
        return ref.split(':').at(-1) ?? ref;
      case 'AWS::StepFunctions::StateMachine.Arn':
        return ref;
      case 'AWS::KMS::Key.Arn':
        return `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-0000-0000-0000-${id.slice(0, 12).padEnd(12, '0')}`;
      default:
        return `${id}.${attribute}`;
    }
  }

  private condition(name: string): boolean {
    if (!(name in this.conditions)) throw new Error(`unknown condition ${name}`);
    return Boolean(this.resolve(this.conditions[name]));
  }

  private sub(template: string, vars: Json): string {
    return template
      .replace(/\$\{([^}!][^}]*)\}/g, (_match, name: string) => {
        if (name in vars) return String(this.resolve(vars[name]));
        const pseudo = this.pseudo(name);
        if (pseudo !== undefined) return pseudo;
        if (name in this.parameters) {
          const value = this.parameters[name];
          return Array.isArray(value) ? value.join(',') : String(value);
        }
        const [id = '', attribute] = name.split('.', 2);
        return attribute ? this.getAtt(id, attribute) : this.ref(id);
      })
      .replaceAll('${!', '${');
  }

  /** The value with every intrinsic function resolved (AWS::NoValue dropped from lists and maps). */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)).filter((v) => v !== NO_VALUE);
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value as Json);
    const [first] = entries;
    if (entries.length === 1 && first) {
      const [fn, arg] = first;
      switch (fn) {
        case 'Ref': {
          const name = String(arg);
          if (name === 'AWS::NoValue') return NO_VALUE;
          return this.pseudo(name) ?? this.parameters[name] ?? this.ref(name);
        }
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.', 2);
          return this.getAtt(String(id), String(attribute));
        }
        case 'Fn::Sub':
          return Array.isArray(arg)
            ? this.sub(String(arg[0]), (arg[1] ?? {}) as Json)
            : this.sub(String(arg), {});
        case 'Fn::Join': {
          const [separator, list] = arg as [string, unknown];
          return (this.resolve(list) as unknown[]).join(separator);
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, unknown];
          return String(this.resolve(text)).split(separator);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          return (this.resolve(list) as unknown[])[Number(this.resolve(index))];
        }
        case 'Fn::If': {
          const [name, whenTrue, whenFalse] = arg as [string, unknown, unknown];
          return this.resolve(this.condition(name) ? whenTrue : whenFalse);
        }
        case 'Fn::Equals': {
          const [x, y] = arg as [unknown, unknown];
          return JSON.stringify(this.resolve(x)) === JSON.stringify(this.resolve(y));
        }
        case 'Fn::Not':
          return !this.resolve((arg as unknown[])[0]);
        case 'Fn::And':
          return (arg as unknown[]).every((c) => this.resolve(c));
        case 'Fn::Or':
          return (arg as unknown[]).some((c) => this.resolve(c));
        case 'Condition':
          return this.condition(String(arg));
      }
    }
    const out: Json = {};
    for (const [key, v] of entries) {
      const resolved = this.resolve(v);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  /** The inline policies of an IAM role resource, resolved. */
  rolePolicies(roleId: string): PolicyDocument[] {
    const role = this.resources[roleId];
    if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not an IAM role`);
    if (((role.Properties?.ManagedPolicyArns ?? []) as unknown[]).length > 0) {
      throw new Error(`${roleId} has managed policies, which this evaluation cannot read`);
    }
    const policies = (role.Properties?.Policies ?? []) as { PolicyDocument: unknown }[];
    return policies.map((p) => this.resolve(p.PolicyDocument) as PolicyDocument);
  }
}

const NO_VALUE = Symbol('AWS::NoValue');
