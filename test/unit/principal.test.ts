import { describe, expect, it } from 'vitest';
import { isIamApprover, matchingApprover, principalMatches } from '#shared/domain/principal.ts';

const ROLE = 'arn:aws:iam::123456789012:role/approvers/DeployApprover';
const SESSION = 'arn:aws:sts::123456789012:assumed-role/DeployApprover/alice@example.com';
const USER = 'arn:aws:iam::123456789012:user/ops/alice';

describe('an IAM approver and the caller AWS verified', () => {
  it('matches a session of the role by account and role name, whatever the role’s path', () => {
    expect(principalMatches(ROLE, SESSION)).toBe(true);
    expect(principalMatches('arn:aws:iam::123456789012:role/DeployApprover', SESSION)).toBe(true);
    expect(principalMatches(ROLE, 'arn:aws:sts::123456789012:assumed-role/DeployApprover/bob')).toBe(true);
  });

  it.each([
    [
      'a session of the same role name in another account',
      'arn:aws:sts::210987654321:assumed-role/DeployApprover/alice',
    ],
    ['a session in another partition', 'arn:aws-cn:sts::123456789012:assumed-role/DeployApprover/alice'],
    ['a session of another role', 'arn:aws:sts::123456789012:assumed-role/DeployApprover2/alice'],
    [
      'a session of a role whose name the approver’s ends with',
      'arn:aws:sts::123456789012:assumed-role/Approver/alice',
    ],
    ['a name in another case', 'arn:aws:sts::123456789012:assumed-role/deployapprover/alice'],
    ['the role itself (no caller is a role)', ROLE],
    ['the account root', 'arn:aws:iam::123456789012:root'],
    ['a federated user', 'arn:aws:sts::123456789012:federated-user/DeployApprover'],
    ['a user named like the role', 'arn:aws:iam::123456789012:user/DeployApprover'],
  ])('refuses %s', (_what, caller) => {
    expect(principalMatches(ROLE, caller)).toBe(false);
  });

  it('matches a user by its own ARN only, path included', () => {
    expect(principalMatches(USER, USER)).toBe(true);
    expect(principalMatches(USER, 'arn:aws:iam::123456789012:user/alice')).toBe(false);
    expect(principalMatches(USER, 'arn:aws:iam::210987654321:user/ops/alice')).toBe(false);
    expect(principalMatches(USER, 'arn:aws:sts::123456789012:assumed-role/alice/alice')).toBe(false);
  });

  it('never matches an email approver, however the caller is named', () => {
    expect(isIamApprover('alice@example.com')).toBe(false);
    expect(matchingApprover(['alice@example.com'], 'alice@example.com')).toBeUndefined();
    expect(matchingApprover(['alice@example.com', ROLE], SESSION)).toBe(ROLE);
  });

  it('takes no wildcard from a config', () => {
    expect(isIamApprover('arn:aws:iam::123456789012:role/*')).toBe(false);
    expect(
      principalMatches('arn:aws:iam::123456789012:role/*', 'arn:aws:sts::123456789012:assumed-role/*/x1'),
    ).toBe(false);
  });
});
