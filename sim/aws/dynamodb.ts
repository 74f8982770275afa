import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { awsError } from './errors.ts';

type Item = Record<string, AttributeValue>;

interface ExpressionInput {
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
}

function nameOf(token: string, input: ExpressionInput): string {
  const name = token.startsWith('#') ? input.ExpressionAttributeNames?.[token] : token;
  if (!name)
    throw awsError(
      'ValidationException',
      `An expression attribute name used in the document path is not defined; attribute name: ${token}`,
    );
  return name;
}

function placeholderValue(token: string, input: ExpressionInput): unknown {
  const value = input.ExpressionAttributeValues?.[token];
  if (!value)
    throw awsError(
      'ValidationException',
      `An expression attribute value used in expression is not defined; attribute value: ${token}`,
    );
  return unmarshall({ v: value }).v;
}

function compare(left: unknown, op: string, right: unknown): boolean {
  const [a, b] = [left as number | string, right as number | string];
  switch (op) {
    case '=':
      return JSON.stringify(left) === JSON.stringify(right);
    case '<>':
      return JSON.stringify(left) !== JSON.stringify(right);
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '>=':
      return a >= b;
    default:
      throw awsError('ValidationException', `Invalid ConditionExpression: unsupported operator ${op}`);
  }
}

/**
 * The part of DynamoDB's condition language the service uses: clauses joined by AND, each
 * attribute_exists / attribute_not_exists or a comparison with a placeholder value. Anything else
 * is a ValidationException, so a new expression in the code cannot pass here untested.
 */
export function evaluateCondition(
  expression: string,
  item: Item | undefined,
  input: ExpressionInput,
): boolean {
  const current = item ? unmarshall(item) : {};
  return expression.split(/\s+AND\s+/i).every((clause) => {
    const fn = clause.trim().match(/^(attribute_exists|attribute_not_exists)\(\s*([#\w]+)\s*\)$/);
    if (fn) {
      const present = current[nameOf(fn[2] ?? '', input)] !== undefined;
      return fn[1] === 'attribute_exists' ? present : !present;
    }
    const two = clause.trim().match(/^(begins_with|contains)\(\s*([#\w]+)\s*,\s*(:\w+)\s*\)$/);
    if (two) {
      const value = current[nameOf(two[2] ?? '', input)];
      const operand = placeholderValue(two[3] ?? '', input);
      if (two[1] === 'begins_with') return typeof value === 'string' && value.startsWith(String(operand));
      if (typeof value === 'string') return value.includes(String(operand));
      return Array.isArray(value) && value.some((v) => JSON.stringify(v) === JSON.stringify(operand));
    }
    const cmp = clause.trim().match(/^([#\w]+)\s*(=|<>|<=|>=|<|>)\s*(:\w+)$/);
    if (!cmp) throw awsError('ValidationException', `Invalid ConditionExpression: cannot read "${clause}"`);
    return compare(current[nameOf(cmp[1] ?? '', input)], cmp[2] ?? '', placeholderValue(cmp[3] ?? '', input));
  });
}

/**
 * DynamoDB refuses a request whose ExpressionAttributeNames or ExpressionAttributeValues hold a
 * placeholder that none of its expressions uses.
 */
function checkPlaceholdersUsed(input: ExpressionInput, ...expressions: (string | undefined)[]): void {
  const used = new Set(expressions.join(' ').match(/[#:][A-Za-z0-9_]+/g) ?? []);
  for (const [kind, map] of [
    ['ExpressionAttributeNames', input.ExpressionAttributeNames],
    ['ExpressionAttributeValues', input.ExpressionAttributeValues],
  ] as const) {
    const unused = Object.keys(map ?? {}).filter((k) => !used.has(k));
    if (unused.length > 0) {
      throw awsError(
        'ValidationException',
        `Value provided in ${kind} unused in expressions: keys: {${unused.join(', ')}}`,
      );
    }
  }
}

/** DynamoDB tables keyed by `id`, with conditional writes and SET/REMOVE updates. */
export class DynamoDbModel {
  readonly tables = new Map<string, Map<string, Item>>();

  addTable(name: string): void {
    this.tables.set(name, new Map());
  }

  private table(name: string | undefined): Map<string, Item> {
    const table = this.tables.get(name ?? '');
    if (!table) throw awsError('ResourceNotFoundException', 'Requested resource not found', 400);
    return table;
  }

  private key(key: Item | undefined): string {
    const id = key?.id?.S;
    if (!id) throw awsError('ValidationException', 'The provided key element does not match the schema');
    return id;
  }

  /** Every item of a table, unmarshalled, for reports. */
  items(name: string): Record<string, unknown>[] {
    return [...this.table(name).values()].map((item) => unmarshall(item));
  }

  PutItem(input: { TableName?: string; Item?: Item; ConditionExpression?: string } & ExpressionInput) {
    checkPlaceholdersUsed(input, input.ConditionExpression);
    const table = this.table(input.TableName);
    const id = this.key(input.Item);
    if (input.ConditionExpression && !evaluateCondition(input.ConditionExpression, table.get(id), input)) {
      throw awsError('ConditionalCheckFailedException', 'The conditional request failed');
    }
    table.set(id, structuredClone(input.Item ?? {}));
    return {};
  }

  Scan(input: { TableName?: string; FilterExpression?: string; ExclusiveStartKey?: Item } & ExpressionInput) {
    checkPlaceholdersUsed(input, input.FilterExpression);
    const items = [...this.table(input.TableName).values()].filter(
      (item) => !input.FilterExpression || evaluateCondition(input.FilterExpression, item, input),
    );
    return { Items: items.map((item) => structuredClone(item)), Count: items.length };
  }

  GetItem(input: { TableName?: string; Key?: Item }) {
    const item = this.table(input.TableName).get(this.key(input.Key));
    return item ? { Item: structuredClone(item) } : {};
  }

  UpdateItem(
    input: {
      TableName?: string;
      Key?: Item;
      UpdateExpression?: string;
      ConditionExpression?: string;
    } & ExpressionInput,
  ) {
    checkPlaceholdersUsed(input, input.UpdateExpression, input.ConditionExpression);
    const table = this.table(input.TableName);
    const id = this.key(input.Key);
    const existing = table.get(id);
    if (input.ConditionExpression && !evaluateCondition(input.ConditionExpression, existing, input)) {
      throw awsError('ConditionalCheckFailedException', 'The conditional request failed');
    }
    const item: Item = structuredClone(existing ?? { id: { S: id } });
    const expression = input.UpdateExpression ?? '';
    const parts = expression.match(/^\s*SET\s+(.+?)(?:\s+REMOVE\s+(.+))?\s*$/i);
    if (!parts)
      throw awsError('ValidationException', `Invalid UpdateExpression: cannot read "${expression}"`);
    for (const assignment of (parts[1] ?? '').split(',')) {
      const [path, value] = assignment.split('=').map((p) => p.trim());
      if (!path || !value?.startsWith(':'))
        throw awsError('ValidationException', `Invalid UpdateExpression: "${assignment}"`);
      const attribute = input.ExpressionAttributeValues?.[value];
      if (!attribute)
        throw awsError('ValidationException', `An expression attribute value is not defined: ${value}`);
      item[nameOf(path, input)] = attribute;
    }
    for (const path of (parts[2] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      delete item[nameOf(path, input)];
    }
    table.set(id, item);
    return {};
  }
}
