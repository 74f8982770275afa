import { GetInstanceProfileCommand, IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { isNotFound } from './errors.ts';

export const iam = new IAMClient({});

/** What IAM says of whether an instance profile's role may read an object. */
export type ProfileAccess =
  | { kind: 'allowed'; roleArn: string }
  /** `actions`: those the role may not call, with IAM's decision for each. */
  | { kind: 'denied'; roleArn: string; actions: { action: string; decision: string }[] }
  | { kind: 'no-role' }
  | { kind: 'no-profile' }
  /** The caller may not ask IAM (AccessDenied): nothing is known either way. */
  | { kind: 'unknown'; reason: string };

function isAccessDenied(error: unknown): boolean {
  return error instanceof Error && /AccessDenied|UnauthorizedOperation/.test(error.name);
}

/**
 * Whether the role of instance profile `profileName` may call each of `actions` on `resourceArn`,
 * as IAM's policy simulator judges the role's own policies (GetInstanceProfile, then
 * SimulatePrincipalPolicy with the role as the policy source). Read-only.
 */
export async function instanceProfileMay(
  profileName: string,
  actions: string[],
  resourceArn: string,
): Promise<ProfileAccess> {
  try {
    const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profileName }));
    const roleArn = profile.InstanceProfile?.Roles?.[0]?.Arn;
    if (!roleArn) return { kind: 'no-role' };
    const out = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: roleArn,
        ActionNames: actions,
        ResourceArns: [resourceArn],
      }),
    );
    const results = out.EvaluationResults ?? [];
    const denied = actions.flatMap((action) => {
      const decision = results.find((r) => r.EvalActionName === action)?.EvalDecision ?? 'implicitDeny';
      return decision === 'allowed' ? [] : [{ action, decision }];
    });
    return denied.length === 0 ? { kind: 'allowed', roleArn } : { kind: 'denied', roleArn, actions: denied };
  } catch (error) {
    if (isNotFound(error)) return { kind: 'no-profile' };
    if (isAccessDenied(error))
      return { kind: 'unknown', reason: `${(error as Error).name}: ${(error as Error).message}` };
    throw error;
  }
}
