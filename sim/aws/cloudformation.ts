import { awsError } from './errors.ts';

/** CloudFormation, as far as the command line reads it: stacks by name, with their outputs and parameters. */
export class CloudFormationModel {
  readonly stacks = new Map<string, Record<string, string>>();
  readonly parameters = new Map<string, Record<string, string>>();

  DescribeStacks(input: { StackName?: string }) {
    const name = input.StackName ?? '';
    const outputs = this.stacks.get(name);
    if (!outputs) throw awsError('ValidationError', `Stack with id ${name} does not exist`);
    return {
      Stacks: [
        {
          StackName: name,
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
          Parameters: Object.entries(this.parameters.get(name) ?? {}).map(
            ([ParameterKey, ParameterValue]) => ({
              ParameterKey,
              ParameterValue,
            }),
          ),
        },
      ],
    };
  }
}
