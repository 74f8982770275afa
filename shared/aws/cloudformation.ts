import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

export const cloudformation = new CloudFormationClient({});

/** A stack's outputs and parameters, each by its key. */
export interface StackValues {
  outputs: Record<string, string>;
  parameters: Record<string, string>;
}

/**
 * The outputs and parameters of a stack, or undefined when no stack has that name
 * (CloudFormation answers a ValidationError "Stack with id ... does not exist").
 */
export async function describeStack(stackName: string): Promise<StackValues | undefined> {
  try {
    const out = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = out.Stacks?.[0];
    if (!stack) return undefined;
    return {
      outputs: Object.fromEntries(
        (stack.Outputs ?? []).flatMap((o) =>
          o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
        ),
      ),
      parameters: Object.fromEntries(
        (stack.Parameters ?? []).flatMap((p) =>
          p.ParameterKey && p.ParameterValue !== undefined ? [[p.ParameterKey, p.ParameterValue]] : [],
        ),
      ),
    };
  } catch (error) {
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message))
      return undefined;
    throw error;
  }
}
