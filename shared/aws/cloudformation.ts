import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

export const cloudformation = new CloudFormationClient({});

/**
 * The outputs of a stack by their keys, or undefined when no stack has that name (CloudFormation
 * answers a ValidationError "Stack with id ... does not exist").
 */
export async function stackOutputs(stackName: string): Promise<Record<string, string> | undefined> {
  try {
    const out = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = out.Stacks?.[0];
    if (!stack) return undefined;
    return Object.fromEntries(
      (stack.Outputs ?? []).flatMap((o) =>
        o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
      ),
    );
  } catch (error) {
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message))
      return undefined;
    throw error;
  }
}
