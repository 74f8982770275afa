import { describe, expect, it } from 'vitest';
import { topicProblem } from '#shared/domain/notifications.ts';

const SERVICE_TOPIC = 'arn:aws:sns:us-east-1:123456789012:bluegreen-ec2-prod-deployments';

describe('which topics a config may name', () => {
  it('accepts the service topic whatever the pattern', () => {
    expect(topicProblem(SERVICE_TOPIC, SERVICE_TOPIC, 'team-*')).toBeUndefined();
  });

  it('accepts this account’s topics in its Region whose name matches the pattern', () => {
    expect(
      topicProblem('arn:aws:sns:us-east-1:123456789012:bluegreen-web', SERVICE_TOPIC, 'bluegreen-*'),
    ).toBeUndefined();
    expect(
      topicProblem('arn:aws:sns:us-east-1:123456789012:team-a', SERVICE_TOPIC, 'team-?'),
    ).toBeUndefined();
  });

  it('refuses a topic whose name the pattern does not match, naming the pattern', () => {
    expect(topicProblem('arn:aws:sns:us-east-1:123456789012:team-ab', SERVICE_TOPIC, 'team-?')).toContain(
      'named like "team-?"',
    );
    // Regular-expression characters in names are literal.
    expect(
      topicProblem('arn:aws:sns:us-east-1:123456789012:bluegreenXweb', SERVICE_TOPIC, 'bluegreen.web'),
    ).toContain('notifications.topicArn');
  });

  it('refuses a topic of another Region, which SNS would refuse to publish to', () => {
    expect(topicProblem('arn:aws:sns:eu-west-1:123456789012:bluegreen-web', SERVICE_TOPIC, '*')).toContain(
      "is not in the service's Region (us-east-1)",
    );
  });

  it('refuses a topic of another account or partition', () => {
    expect(topicProblem('arn:aws:sns:us-east-1:999999999999:bluegreen-web', SERVICE_TOPIC, '*')).toContain(
      'is not in this account (123456789012)',
    );
    expect(
      topicProblem('arn:aws-cn:sns:cn-north-1:123456789012:bluegreen-web', SERVICE_TOPIC, '*'),
    ).toContain('is not in this account');
  });
});
