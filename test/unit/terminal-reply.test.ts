import { describe, expect, it } from 'vitest';
import { readDecisionReply } from '#shared/operations/decide-from-terminal.ts';
import { readPromotionReply, terminalPromotionText } from '#shared/operations/promote-from-terminal.ts';

// What `bluegreen approve|reject` makes of a reply: the service's answer when it is one, else the
// refusal of whatever answered (API Gateway's IAM authorization, a wrong URL).

const deployment = {
  app: 'web',
  env: 'prod',
  version: '1.1.0',
  stage: 'traffic-shift',
  executionUrl: 'https://console.aws.amazon.com/states/home#/v2/executions/details/x',
};

describe('a reply to a decision', () => {
  it('is the service’s answer, typed by its result', () => {
    const body = JSON.stringify({
      result: 'decided-already',
      deployment,
      stage: 'traffic-shift',
      decision: 'approved',
      approver: 'alice@example.com',
      comment: '',
      at: '2026-12-02T06:00:00.000Z',
    });
    expect(readDecisionReply(409, body)).toEqual({
      kind: 'decided-already',
      deployment,
      stage: 'traffic-shift',
      decision: 'approved',
      approver: 'alice@example.com',
      comment: '',
      at: '2026-12-02T06:00:00.000Z',
    });
  });

  it.each([
    [403, '{"message":"Forbidden"}', 'Forbidden'],
    [
      403,
      '{"Message":"User: arn:aws:sts::123456789012:assumed-role/Dev/bob is not authorized to perform: execute-api:Invoke"}',
      'User: arn:aws:sts::123456789012:assumed-role/Dev/bob is not authorized to perform: execute-api:Invoke',
    ],
    [404, '<html>Not Found</html>', '<html>Not Found</html>'],
    [502, '', 'HTTP 502'],
    // A result the service does not give, or one missing its fields, is not the service speaking.
    [200, '{"result":"approved"}', '{"result":"approved"}'],
    [200, '{"result":"decided","approver":"x"}', '{"result":"decided","approver":"x"}'],
  ])('is a refusal when it is not the service’s answer (%i %s)', (status, body, message) => {
    expect(readDecisionReply(status, body)).toEqual({ kind: 'refused', status, message });
  });
});

describe('a reply to a promote', () => {
  const promoted = {
    outcome: 'promoted',
    deployment: 'web-prod-1_1_0-0123456789',
    executionArn:
      'arn:aws:states:us-east-1:123456789012:execution:bluegreen-ec2-prod-deploy:web-prod-1_1_0-0123456789',
    promotion: {
      by: 'arn:aws:sts::123456789012:assumed-role/platform-oncall/alice',
      at: '2026-12-02T06:00:00.000Z',
      wait: { kind: 'step', step: 1, of: 3, percent: 10 },
    },
  };

  it('is the service’s answer, told as the command prints it', () => {
    const read = readPromotionReply(200, JSON.stringify(promoted));
    expect(read).toEqual({ kind: 'answered', result: promoted });
    expect(terminalPromotionText(read, 'web', 'prod')).toBe(
      'web-prod-1_1_0-0123456789: traffic step 1 of 3 (10 %) promoted by "arn:aws:sts::123456789012:assumed-role/platform-oncall/alice" at 2026-12-02T06:00:00.000Z; its checks run now, then the deployment goes on',
    );
  });

  it.each([
    [403, '{"message":"Forbidden"}', 'Forbidden'],
    [
      500,
      '{"message":"The service failed: the wait may or may not have ended. Ask again: the answer then says."}',
      /Ask again/,
    ],
    [200, JSON.stringify({ ...promoted, outcome: 'promoted-by-anyone' }), /promoted-by-anyone/],
    [502, 'Bad Gateway', 'Bad Gateway'],
  ])('is a refusal when it is not the service speaking (HTTP %i)', (status, body, message) => {
    const read = readPromotionReply(status, body);
    expect(read).toEqual({ kind: 'refused', status, message: expect.stringMatching(message) });
    expect(terminalPromotionText(read, 'web', 'prod')).toMatch(/^nothing promoted: refused \(HTTP \d+\): /);
  });
});
