/**
 * What a message on a notification topic is: its `kind` attribute, on every message the service
 * publishes, so that subscriptions can filter on it. Approval requests carry an approver's own
 * signed link (attribute `approver`, the address in lower case): only that approver's subscription
 * should get one, and everyone else's can take every other kind with
 * `{"kind": [{"anything-but": ["approval-request"]}]}` (README, "Who gets which message").
 */
export type MessageKind = 'approval-request' | 'outcome' | 'ignored-upload';

/** A message's attributes (SNS String attributes): its kind, and what a subscription may filter on. */
export type MessageAttributes = { kind: MessageKind } & Record<string, string>;

/**
 * Whether the service may publish to a config's topic: its IAM policy allows this account's
 * topics in its own Region (SNS takes a publish only in the topic's Region), whose name matches the stack parameter NotificationTopicNames (IAM
 * wildcards: `*` any run of characters, `?` one). Checked in Plan, so a topic the final
 * notification could not reach fails the deploy before anything is launched, instead of the
 * outcome being lost after it.
 */
export function topicProblem(
  topicArn: string,
  serviceTopicArn: string,
  namePattern: string,
): string | undefined {
  const [, partition, , region, account, name = ''] = topicArn.split(':');
  const [, ownPartition, , ownRegion, ownAccount] = serviceTopicArn.split(':');
  if (topicArn === serviceTopicArn) return undefined;
  if (partition !== ownPartition || account !== ownAccount) {
    return `notifications.topicArn: ${topicArn} is not in this account (${ownAccount}); the service publishes only to its own account's topics`;
  }
  if (region !== ownRegion) {
    return `notifications.topicArn: ${topicArn} is not in the service's Region (${ownRegion}); SNS refuses a publish to another Region's topic`;
  }
  if (!wildcardMatch(namePattern, name)) {
    return `notifications.topicArn: the service may publish only to topics named like "${namePattern}" (stack parameter NotificationTopicNames), not "${name}"`;
  }
  return undefined;
}

function wildcardMatch(pattern: string, text: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(text);
}
