import { awsError } from './errors.ts';

/**
 * SNS subscription filter policies, on message attributes (FilterPolicyScope: MessageAttributes)
 * or on the top-level properties of a JSON message body (MessageBody), as the SNS developer guide
 * states them ("Amazon SNS subscription filter policies", "String value
 * matching", "Key matching", "Filter policy constraints"), for the operators this project's
 * subscriptions use:
 * - a string matches an attribute of exactly that value (case-sensitive);
 * - `{"anything-but": "v"}` or `{"anything-but": ["v", ...]}` matches an attribute present with
 *   none of those values (a message without the attribute does not match);
 * - `{"exists": true}` matches a message that has the attribute, `{"exists": false}` one that does
 *   not (and has at least one other attribute: an empty set of attributes matches no policy).
 * A message matches when every key of the policy matches (AND), a key matching when any of its
 * conditions does (OR). Only String attributes are compared (the service sends no other type);
 * a body that is not a JSON object matches no body policy, and only its top-level string
 * properties are compared (nested policies are refused).
 *
 * Anything else (numbers, prefix, suffix, `$or`, nesting) is refused when the subscription is
 * made, as an operator this model does not know: a policy it would misjudge never passes a test.
 * SNS's own limits are enforced there too: at most 5 keys, at most 150 combinations of values
 * (the product of each key's number of conditions).
 */

export type FilterCondition = string | { 'anything-but': string | string[] } | { exists: boolean };
export type FilterPolicy = Record<string, FilterCondition[]>;

export const MAX_FILTER_KEYS = 5;
export const MAX_FILTER_COMBINATIONS = 150;

function invalid(message: string): Error {
  return awsError('InvalidParameter', `Invalid parameter: FilterPolicy: ${message}`);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string');
}

function checkCondition(key: string, condition: unknown): FilterCondition {
  if (typeof condition === 'string') return condition;
  if (typeof condition === 'object' && condition !== null && !Array.isArray(condition)) {
    const entries = Object.entries(condition);
    const [operator, operand] = entries[0] ?? [];
    if (entries.length === 1 && operator === 'anything-but') {
      if (typeof operand === 'string' || isStringList(operand)) return { 'anything-but': operand };
      throw invalid(`${key}: this model knows anything-but of a string or a list of strings only`);
    }
    if (entries.length === 1 && operator === 'exists' && typeof operand === 'boolean') {
      return { exists: operand };
    }
  }
  throw invalid(`${key}: unsupported condition ${JSON.stringify(condition)}`);
}

/** The policy parsed and checked as SNS checks it when a subscription is made or changed. */
export function parseFilterPolicy(json: string): FilterPolicy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw invalid('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('must be a JSON object');
  }
  const entries = Object.entries(parsed);
  if (entries.length === 0) throw invalid('has no keys');
  if (entries.length > MAX_FILTER_KEYS)
    throw invalid(`has ${entries.length} keys, more than ${MAX_FILTER_KEYS}`);
  const policy: FilterPolicy = {};
  let combinations = 1;
  for (const [key, conditions] of entries) {
    if (key.startsWith('$')) throw invalid(`${key}: this model does not know ${key}`);
    if (!Array.isArray(conditions) || conditions.length === 0) {
      throw invalid(`${key}: must be a non-empty list of conditions (attribute policies are not nested)`);
    }
    policy[key] = conditions.map((condition) => checkCondition(key, condition));
    combinations *= conditions.length;
  }
  if (combinations > MAX_FILTER_COMBINATIONS) {
    throw invalid(`has ${combinations} combinations of values, more than ${MAX_FILTER_COMBINATIONS}`);
  }
  return policy;
}

function conditionMatches(condition: FilterCondition, value: string | undefined): boolean {
  if (typeof condition === 'string') return value === condition;
  if ('exists' in condition) return condition.exists === (value !== undefined);
  const excluded = condition['anything-but'];
  return value !== undefined && !(typeof excluded === 'string' ? [excluded] : excluded).includes(value);
}

export type FilterPolicyScope = 'MessageAttributes' | 'MessageBody';

/** The properties a body policy is compared with: a JSON object's top-level strings, or none. */
function bodyProperties(body: string): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  return Object.fromEntries(
    Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** Whether a message (its String attributes and its body) is delivered to a subscription with this policy. */
export function filterMatches(
  policy: FilterPolicy,
  message: { attributes: Record<string, string>; message: string },
  scope: FilterPolicyScope = 'MessageAttributes',
): boolean {
  const properties = scope === 'MessageBody' ? bodyProperties(message.message) : message.attributes;
  if (!properties || Object.keys(properties).length === 0) return false;
  return Object.entries(policy).every(([key, conditions]) =>
    conditions.some((condition) => conditionMatches(condition, properties[key])),
  );
}
