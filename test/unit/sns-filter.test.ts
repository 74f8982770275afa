import { describe, expect, it } from 'vitest';
import { filterMatches, parseFilterPolicy } from '../../sim/aws/sns-filter.ts';
import { DEFAULT_TOPIC_ARN, World } from '../../sim/world.ts';

// The simulated SNS's filter policies, against the cases of the SNS developer guide ("String value
// matching", "Key matching", "Filter policy constraints").

const matches = (policy: object, attributes: Record<string, string>, message = 'text') =>
  filterMatches(parseFilterPolicy(JSON.stringify(policy)), { attributes, message });

describe('SNS filter policies in the simulator', () => {
  it('match a string exactly, case and all', () => {
    const policy = { customer_interests: ['rugby', 'tennis'] };
    expect(matches(policy, { customer_interests: 'rugby' })).toBe(true);
    expect(matches(policy, { customer_interests: 'baseball' })).toBe(false);
    expect(matches(policy, { customer_interests: 'Rugby' })).toBe(false);
    expect(matches(policy, { other: 'rugby' })).toBe(false);
  });

  it('take anything-but for any other value, and not for a message without the attribute', () => {
    const policy = { kind: [{ 'anything-but': ['approval-request'] }] };
    expect(matches(policy, { kind: 'outcome' })).toBe(true);
    expect(matches(policy, { kind: 'approval-request' })).toBe(false);
    expect(matches(policy, { outcome: 'succeeded' })).toBe(false);
    expect(matches({ kind: [{ 'anything-but': 'approval-request' }] }, { kind: 'approval-request' })).toBe(
      false,
    );
  });

  it('need every key (AND) and any condition of a key (OR)', () => {
    const policy = { kind: ['approval-request'], approver: ['alice@example.com', 'terminal'] };
    expect(matches(policy, { kind: 'approval-request', approver: 'terminal' })).toBe(true);
    expect(matches(policy, { kind: 'approval-request', approver: 'bob@example.com' })).toBe(false);
    expect(matches(policy, { kind: 'outcome', approver: 'alice@example.com' })).toBe(false);
  });

  it('match exists: false only where other attributes exist, and no policy on a message without any', () => {
    expect(matches({ store: [{ exists: false }] }, { other: 'x' })).toBe(true);
    expect(matches({ store: [{ exists: false }] }, {})).toBe(false);
    expect(matches({ store: [{ exists: true }] }, { store: 'fans' })).toBe(true);
    expect(matches({ kind: [{ 'anything-but': ['approval-request'] }] }, {})).toBe(false);
  });

  it('on the body, compare a JSON object’s top-level strings, and match no plain text', () => {
    const policy = parseFilterPolicy(JSON.stringify({ AlarmName: [{ exists: true }] }));
    const alarm = {
      attributes: {},
      message: JSON.stringify({ AlarmName: 'dead-letters', NewStateValue: 'ALARM' }),
    };
    expect(filterMatches(policy, alarm, 'MessageBody')).toBe(true);
    expect(filterMatches(policy, { attributes: {}, message: 'AlarmName: x' }, 'MessageBody')).toBe(false);
    expect(filterMatches(policy, { attributes: {}, message: '["AlarmName"]' }, 'MessageBody')).toBe(false);
  });

  it('refuse what SNS refuses: more than 5 keys, more than 150 combinations, no conditions', () => {
    const six = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [k, ['x']]));
    expect(() => parseFilterPolicy(JSON.stringify(six))).toThrow(/6 keys, more than 5/);
    const values = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
    expect(() => parseFilterPolicy(JSON.stringify({ a: values(10), b: values(16) }))).toThrow(
      /160 combinations of values, more than 150/,
    );
    expect(() => parseFilterPolicy(JSON.stringify({ a: values(10), b: values(15) }))).not.toThrow();
    expect(() => parseFilterPolicy(JSON.stringify({ a: [] }))).toThrow(/non-empty list/);
    expect(() => parseFilterPolicy('{}')).toThrow(/no keys/);
  });

  it('refuse an operator it does not model rather than misjudge it', () => {
    expect(() => parseFilterPolicy(JSON.stringify({ a: [{ prefix: 'x' }] }))).toThrow(
      /unsupported condition/,
    );
    expect(() => parseFilterPolicy(JSON.stringify({ a: [1] }))).toThrow(/unsupported condition/);
    expect(() => parseFilterPolicy(JSON.stringify({ $or: [{ a: ['x'] }] }))).toThrow(/does not know \$or/);
  });

  it('keep one subscription per topic, protocol and address, refusing it another filter policy', () => {
    const { sns } = new World();
    sns.topics.add(DEFAULT_TOPIC_ARN);
    const subscribe = (policy: object, scope = 'MessageAttributes') =>
      sns.Subscribe({
        TopicArn: DEFAULT_TOPIC_ARN,
        Protocol: 'email',
        Endpoint: 'deploys@example.com',
        Attributes: { FilterPolicy: JSON.stringify(policy), FilterPolicyScope: scope },
      });
    const first = subscribe({ kind: [{ 'anything-but': ['approval-request'] }] });
    expect(subscribe({ kind: [{ 'anything-but': ['approval-request'] }] })).toBe(first);
    expect(() => subscribe({ AlarmName: [{ exists: true }] }, 'MessageBody')).toThrow(
      /already exists with different attributes/,
    );
    expect(sns.subscriptions).toEqual([first]);
  });
});
