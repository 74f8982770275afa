import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

export const sts = new STSClient({});

/** The ARN of the IAM identity whose credentials make the calls (no permission is needed for it). */
export async function callerArn(): Promise<string> {
  const out = await sts.send(new GetCallerIdentityCommand({}));
  return out.Arn ?? 'an unknown caller';
}
