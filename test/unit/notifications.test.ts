import { describe, expect, it } from 'vitest';
import { topicProblem } from '#shared/domain/notifications.ts';

const SERVICE_TOPIC = 'arn:aws:sns:us-east-1:123456789012:bluegreen-ec2-prod-deployments';

/** What the check says of a config naming `topicArn` when the service allows topics named like `pattern`. */
function problem(topicArn: string, pattern: string): string | undefined {
  return topicProblem(topicArn, SERVICE_TOPIC, pattern);
}

describe('which topics a config may name', () => {
  it('accepts the service topic whatever the pattern', () => {
    expect(problem(SERVICE_TOPIC, 'team-*')).toBeUndefined();
  });

  it('accepts this account’s topics in its Region whose name matches the pattern', () => {
    expect(problem('arn:aws:sns:us-east-1:123456789012:bluegreen-web', 'bluegreen-*')).toBeUndefined();
    expect(problem('arn:aws:sns:us-east-1:123456789012:team-a', 'team-?')).toBeUndefined();
  });

  it('refuses a topic whose name the pattern does not match, naming the pattern', () => {
    expect(problem('arn:aws:sns:us-east-1:123456789012:team-ab', 'team-?')).toContain('named like "team-?"');
    // Regular-expression characters in names are literal.
    expect(problem('arn:aws:sns:us-east-1:123456789012:bluegreenXweb', 'bluegreen.web')).toContain(
      'notifications.topicArn',
    );
  });

  it('refuses a topic of another Region, which SNS would refuse to publish to', () => {
    expect(problem('arn:aws:sns:eu-west-1:123456789012:bluegreen-web', '*')).toContain(
      "is not in the service's Region (us-east-1)",
    );
  });

  it('refuses a topic of another account or partition', () => {
    expect(problem('arn:aws:sns:us-east-1:999999999999:bluegreen-web', '*')).toContain(
      'is not in this account (123456789012)',
    );
    expect(problem('arn:aws-cn:sns:cn-north-1:123456789012:bluegreen-web', '*')).toContain(
      'is not in this account',
    );
  });
});
