import type { Credentials } from '#shared/aws/signed-request.ts';
import type { PolicyDocument } from '../iam/template.ts';
import { awsError } from './errors.ts';

/** An identity that can sign requests: its credentials, who it is, and its identity policies. */
export interface SimIdentity extends Credentials {
  /** The ARN AWS reports for it: an assumed-role session's or a user's. */
  arn: string;
  /** The principal id API Gateway reports as userId (AROA...:session, or AIDA...). */
  userId: string;
  /** The identity policies of its role or user. */
  policies: PolicyDocument[];
}

/** An instance profile: its ARN (with its path) and the role it holds, if any. */
export interface SimInstanceProfile {
  arn: string;
  roleArn?: string;
}

/**
 * IAM and STS, as far as signed requests need them: the identities of people in the simulated
 * account (a session of a role, as AssumeRole or IAM Identity Center gives one; a user with an
 * access key), found by the access key a request is signed with. And as far as `bluegreen plan`
 * asks: instance profiles by name, and the policy simulator's verdict on a role's own identity
 * policies (evaluated with AWS's logic, as the IAM evaluation of the tests does).
 */
export class IamModel {
  private readonly byKey = new Map<string, SimIdentity>();
  private keys = 0;
  /** Instance profiles by name (the last part of their ARN). */
  readonly instanceProfiles = new Map<string, SimInstanceProfile>();
  /** Roles' identity policies by role ARN. */
  readonly rolePolicies = new Map<string, PolicyDocument[]>();

  constructor(private readonly account: string) {}

  private issue(arn: string, userId: string, policies: PolicyDocument[], temporary: boolean): SimIdentity {
    this.keys += 1;
    const serial = String(this.keys).padStart(16, '0');
    const identity: SimIdentity = {
      accessKeyId: `${temporary ? 'ASIA' : 'AKIA'}${serial}`,
      secretAccessKey: `simulated-secret-${serial}`,
      ...(temporary ? { sessionToken: `simulated-session-${serial}` } : {}),
      arn,
      userId,
      policies,
    };
    this.byKey.set(identity.accessKeyId, identity);
    return identity;
  }

  /** A session of the role named `role` (its path is not part of the session's ARN). */
  assumeRole(roleArn: string, sessionName: string, policies: PolicyDocument[]): SimIdentity {
    const name = roleArn.split('/').at(-1) ?? '';
    const arn = `arn:aws:sts::${this.account}:assumed-role/${name}/${sessionName}`;
    return this.issue(arn, `AROA${name.toUpperCase().slice(0, 12)}:${sessionName}`, policies, true);
  }

  /** A user's access key. */
  user(userArn: string, policies: PolicyDocument[]): SimIdentity {
    const name = userArn.split('/').at(-1) ?? '';
    return this.issue(userArn, `AIDA${name.toUpperCase().slice(0, 12)}`, policies, false);
  }

  byAccessKey(accessKeyId: string): SimIdentity | undefined {
    return this.byKey.get(accessKeyId);
  }

  addInstanceProfile(profile: SimInstanceProfile, policies: PolicyDocument[]): void {
    this.instanceProfiles.set(profile.arn.split('/').at(-1) ?? '', profile);
    if (profile.roleArn) this.rolePolicies.set(profile.roleArn, policies);
  }

  GetInstanceProfile(input: { InstanceProfileName?: string }) {
    const name = input.InstanceProfileName ?? '';
    const profile = this.instanceProfiles.get(name);
    if (!profile) throw awsError('NoSuchEntityException', `Instance Profile ${name} cannot be found.`, 404);
    const role = profile.roleArn;
    return {
      InstanceProfile: {
        InstanceProfileName: name,
        Arn: profile.arn,
        Roles: role ? [{ Arn: role, RoleName: role.split('/').at(-1) }] : [],
      },
    };
  }

  /** Each action on each resource, judged by the role's identity policies (no boundary, no SCP). */
  async SimulatePrincipalPolicy(input: {
    PolicySourceArn?: string;
    ActionNames?: string[];
    ResourceArns?: string[];
  }) {
    const roleArn = input.PolicySourceArn ?? '';
    const policies = this.rolePolicies.get(roleArn);
    if (!policies) throw awsError('NoSuchEntityException', `The role ${roleArn} cannot be found.`, 404);
    const { evaluate } = await import('../iam/evaluate.ts');
    const decisions = {
      Allowed: 'allowed',
      ExplicitlyDenied: 'explicitDeny',
      ImplicitlyDenied: 'implicitDeny',
    };
    const results = [];
    for (const action of input.ActionNames ?? [])
      for (const resource of input.ResourceArns ?? ['*']) {
        const { decision } = await evaluate(roleArn, policies, { action, resource, context: {} });
        results.push({
          EvalActionName: action,
          EvalResourceName: resource,
          EvalDecision: decisions[decision],
        });
      }
    return { EvaluationResults: results, IsTruncated: false };
  }
}
