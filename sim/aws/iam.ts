import type { Credentials } from '#shared/aws/signed-request.ts';
import type { PolicyDocument } from '../iam/template.ts';

/** An identity that can sign requests: its credentials, who it is, and its identity policies. */
export interface SimIdentity extends Credentials {
  /** The ARN AWS reports for it: an assumed-role session's or a user's. */
  arn: string;
  /** The principal id API Gateway reports as userId (AROA...:session, or AIDA...). */
  userId: string;
  /** The identity policies of its role or user. */
  policies: PolicyDocument[];
}

/**
 * IAM and STS, as far as signed requests need them: the identities of people in the simulated
 * account (a session of a role, as AssumeRole or IAM Identity Center gives one; a user with an
 * access key), found by the access key a request is signed with.
 */
export class IamModel {
  private readonly byKey = new Map<string, SimIdentity>();
  private keys = 0;

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
}
