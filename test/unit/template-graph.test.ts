// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are CloudFormation Fn::Sub strings, not JavaScript templates
import { describe, expect, it } from 'vitest';
import { dependencyGraph, findCycle, referencedNames } from '../../sim/template-graph.ts';

/**
 * The cycle this repository once shipped: the planning role named the bucket with `${ReleaseBucket}`,
 * the bucket waited for the starter's permission, the starter's role and environment named the
 * state machine, and the state machine's role invokes the planning function.
 */
const plantedCycle = {
  Parameters: { Stage: { Type: 'String' } },
  Resources: {
    ReleaseBucket: {
      Type: 'AWS::S3::Bucket',
      DependsOn: ['StartDeploymentS3Permission'],
      Properties: { BucketName: { 'Fn::Sub': '${AWS::StackName}-releases-${AWS::AccountId}' } },
    },
    StartDeploymentS3Permission: {
      Type: 'AWS::Lambda::Permission',
      Properties: { FunctionName: { 'Fn::GetAtt': ['StartDeploymentLambdaFunction', 'Arn'] } },
    },
    StartDeploymentLambdaFunction: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Role: { 'Fn::GetAtt': 'StartDeploymentRole.Arn' },
        Environment: { Variables: { STAGE: { Ref: 'Stage' } } },
      },
    },
    StartDeploymentRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Policies: [{ PolicyDocument: { Statement: [{ Resource: { 'Fn::Sub': '${DeployStateMachine}' } }] } }],
      },
    },
    DeployStateMachine: {
      Type: 'AWS::StepFunctions::StateMachine',
      DependsOn: 'DeployStateMachineRole',
      Properties: { RoleArn: { 'Fn::GetAtt': ['DeployStateMachineRole', 'Arn'] } },
    },
    DeployStateMachineRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Policies: [
          {
            PolicyDocument: {
              Statement: [
                {
                  Resource: {
                    'Fn::Sub': [
                      '${Plan}:*',
                      { Plan: { 'Fn::GetAtt': ['PlanDeploymentLambdaFunction', 'Arn'] } },
                    ],
                  },
                },
              ],
            },
          },
        ],
      },
    },
    PlanDeploymentLambdaFunction: {
      Type: 'AWS::Lambda::Function',
      Properties: { Role: { 'Fn::GetAtt': ['PlanDeploymentRole', 'Arn'] } },
    },
    PlanDeploymentRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Policies: [
          {
            PolicyDocument: {
              Statement: [{ Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${ReleaseBucket}/*' } }],
            },
          },
        ],
      },
    },
  },
};

describe('the dependency graph of a CloudFormation template', () => {
  it('counts Ref, both forms of Fn::GetAtt, both forms of Fn::Sub and DependsOn', () => {
    const graph = dependencyGraph(plantedCycle);
    expect(graph.get('ReleaseBucket')).toEqual(new Set(['StartDeploymentS3Permission']));
    expect(graph.get('StartDeploymentS3Permission')).toEqual(new Set(['StartDeploymentLambdaFunction']));
    // "A.B" GetAtt; the parameter is no resource.
    expect(graph.get('StartDeploymentLambdaFunction')).toEqual(new Set(['StartDeploymentRole']));
    expect(graph.get('StartDeploymentRole')).toEqual(new Set(['DeployStateMachine']));
    expect(graph.get('DeployStateMachine')).toEqual(new Set(['DeployStateMachineRole']));
    // [string, variables] Sub: `Plan` is the Sub's own variable, its value is the reference.
    expect(graph.get('DeployStateMachineRole')).toEqual(new Set(['PlanDeploymentLambdaFunction']));
    expect(graph.get('PlanDeploymentRole')).toEqual(new Set(['ReleaseBucket']));
  });

  it('finds the planted cycle and names every resource in it', () => {
    expect(findCycle(dependencyGraph(plantedCycle))).toEqual([
      'DeployStateMachine',
      'DeployStateMachineRole',
      'PlanDeploymentLambdaFunction',
      'PlanDeploymentRole',
      'ReleaseBucket',
      'StartDeploymentS3Permission',
      'StartDeploymentLambdaFunction',
      'StartDeploymentRole',
      'DeployStateMachine',
    ]);
  });

  it('finds none once the role builds the bucket ARN from its known name', () => {
    const fixed = structuredClone(plantedCycle);
    fixed.Resources.PlanDeploymentRole.Properties.Policies[0] = {
      PolicyDocument: {
        Statement: [
          {
            Resource: {
              'Fn::Sub': 'arn:${AWS::Partition}:s3:::${AWS::StackName}-releases-${AWS::AccountId}/*',
            },
          },
        ],
      },
    };
    expect(findCycle(dependencyGraph(fixed))).toBeUndefined();
  });

  it('finds a resource that depends on itself', () => {
    const graph = dependencyGraph({
      Resources: {
        Topic: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: { 'Fn::Sub': '${Topic.TopicName}' } } },
      },
    });
    expect(findCycle(graph)).toEqual(['Topic', 'Topic']);
  });

  it('skips pseudo parameters, parameters, escaped ${!Literal}s and names a Sub defines itself', () => {
    const names = referencedNames({
      'Fn::Sub': [
        '${AWS::Region} ${Stage} ${!NotARef} ${Own} ${Bucket.Arn}',
        { Own: { Ref: 'Queue' }, Other: 'x' },
      ],
    });
    expect(names).toEqual(new Set(['AWS::Region', 'Stage', 'Bucket', 'Queue']));
    const graph = dependencyGraph({
      Parameters: { Stage: {} },
      Resources: {
        Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
        Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
        Thing: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: { 'Fn::Sub': '${Stage}' } } },
        Other: {
          Type: 'AWS::SNS::Topic',
          Properties: {
            DisplayName: {
              'Fn::Sub': [
                '${AWS::Region} ${Stage} ${Own} ${Bucket.Arn} ${Missing}',
                { Own: { Ref: 'Queue' } },
              ],
            },
          },
        },
      },
    });
    expect(graph.get('Thing')).toEqual(new Set());
    expect(graph.get('Other')).toEqual(new Set(['Bucket', 'Queue']));
    expect(findCycle(graph)).toBeUndefined();
  });
});
