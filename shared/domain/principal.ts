/**
 * Approvers who answer from a terminal: IAM principals, named in the config by the ARN of a role or
 * a user. The caller's ARN is the one AWS verified for the request (the API's IAM authorization
 * puts it in the request context): an assumed-role session
 * (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`) or a user (`arn:aws:iam::ACCOUNT:user/PATH/NAME`).
 *
 * How they match:
 * - a session matches the role ARN of the same partition and account whose name (the last part of
 *   the ARN, after its path) is the session's role name. A session ARN carries no path, and none is
 *   needed: IAM role names are unique within an account whatever their path, so the account and the
 *   name name one role. Any session of that role may decide (its session name is recorded);
 * - a user matches its own user ARN, path included, character for character;
 * - nothing else: no wildcard, no other account or partition, no root, no federated user, and an
 *   email approver never matches a caller. Names are compared as written (IAM shows a name as it
 *   was created; write it the same way in the config).
 */

const PARTITION = 'aws[a-z-]*';
const ACCOUNT = String.raw`\d{12}`;
/** An IAM path between the type and the name: `/`, or `/a/b/` (characters U+0021-U+007E but `/`). */
const PATH = String.raw`(?:[!-.0-~]+\/)*`;
/** An IAM role or user name. */
const NAME = String.raw`[\w+=,.@-]{1,64}`;

export const ROLE_ARN = new RegExp(`^arn:(${PARTITION}):iam::(${ACCOUNT}):role\\/${PATH}(${NAME})$`);
export const USER_ARN = new RegExp(`^arn:(${PARTITION}):iam::(${ACCOUNT}):user\\/${PATH}(${NAME})$`);
const SESSION_ARN = new RegExp(
  `^arn:(${PARTITION}):sts::(${ACCOUNT}):assumed-role\\/(${NAME})\\/[\\w+=,.@-]{2,64}$`,
);

/** The message a config entry that is neither an email address nor a role or user ARN gets. */
export const APPROVER_MESSAGE =
  'must be an email address, or the ARN of an IAM role (arn:aws:iam::ACCOUNT:role/NAME) or user (arn:aws:iam::ACCOUNT:user/NAME); for an assumed-role session, name its role';

/** Whether a config's approver is an IAM principal (who answers from a terminal), not an email address. */
export function isIamApprover(approver: string): boolean {
  return ROLE_ARN.test(approver) || USER_ARN.test(approver);
}

/** Whether `caller`, the ARN AWS verified, is the approver `approver` of a config names. */
export function principalMatches(approver: string, caller: string): boolean {
  const session = caller.match(SESSION_ARN);
  if (session) {
    const role = approver.match(ROLE_ARN);
    return role !== null && role[1] === session[1] && role[2] === session[2] && role[3] === session[3];
  }
  return USER_ARN.test(caller) && caller === approver;
}

/** The first approver of `approvers` that `caller` is, if any. */
export function matchingApprover(approvers: readonly string[], caller: string): string | undefined {
  return approvers.find((approver) => isIamApprover(approver) && principalMatches(approver, caller));
}
