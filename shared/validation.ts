import * as v from 'valibot';

/**
 * Schemas are valibot's: plain objects built by small functions, so a Lambda's init pays almost
 * nothing to build them (the config schema costs well under a millisecond at cold start). This
 * module turns a parse into a result whose every problem names the field it is about.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** An unknown key: reported at its object, the key quoted (it may be any string at all). */
function isUnknownKey(issue: v.BaseIssue<unknown>): boolean {
  return issue.kind === 'schema' && issue.expected === 'never' && issue.path?.at(-1)?.origin === 'key';
}

/** `slots.a.targetGroupArn`, `alarms.[0]`, or `(root)`. */
function fieldOf(issue: v.BaseIssue<unknown>): string {
  const path = issue.path ?? [];
  return fieldName((isUnknownKey(issue) ? path.slice(0, -1) : path).map((item) => item.key as PropertyKey));
}

/** What is wrong, in words: unknown and missing keys said plainly, the rest as the schema says it. */
function messageOf(issue: v.BaseIssue<unknown>): string {
  if (isUnknownKey(issue)) {
    const key = JSON.stringify(String(issue.path?.at(-1)?.key));
    return `unknown field ${key.length > 80 ? `${cut(key, 79)}"` : key} (the published JSON Schema lists every field)`;
  }
  if (issue.kind === 'schema' && issue.received === 'undefined' && issue.expected?.startsWith('"')) {
    return 'is required';
  }
  return issue.message;
}

/** A problem quotes what it received; a huge value is cut so the error stays readable. */
const MAX_PROBLEM = 300;

/** Cut to at most `max` characters, never through a surrogate pair, marked with `...`. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = [...text.slice(0, max - 3)];
  const last = chars.at(-1) ?? '';
  // A lone high surrogate left at the end is half a character.
  if (last.length === 1 && last >= '\ud800' && last <= '\udbff') chars.pop();
  return `${chars.join('')}...`;
}

/** More problems than this are counted, not listed: the error must stay readable. */
const MAX_PROBLEMS = 20;

/** Every problem of a failed parse, as `field: what is wrong`. */
export function problemsOf(issues: readonly v.BaseIssue<unknown>[]): string[] {
  const problems = issues
    .slice(0, MAX_PROBLEMS)
    .map((issue) => cut(`${fieldOf(issue)}: ${messageOf(issue)}`, MAX_PROBLEM));
  if (issues.length > MAX_PROBLEMS)
    problems.push(`(more): ${issues.length - MAX_PROBLEMS} further problems not listed`);
  return problems;
}

/** The parts of a schema this module looks into; every valibot schema has them or not. */
interface SchemaShape {
  type: string;
  pipe?: readonly SchemaShape[];
  wrapped?: SchemaShape;
  entries?: Record<string, SchemaShape>;
  item?: SchemaShape;
}

const OBJECT_TYPES = new Set(['object', 'strict_object', 'loose_object', 'object_with_rest']);

/**
 * Fields where the input holds an array and the schema an object. valibot's objects take arrays
 * (`typeof [] === 'object'`), so a section whose fields are all optional would read `[]` as `{}`:
 * these are found by walking the schema alongside the input.
 */
function arraysForObjects(schema: SchemaShape, input: unknown, path: PropertyKey[] = []): PropertyKey[][] {
  const inner = schema.pipe?.[0] ?? schema.wrapped;
  if (inner && inner !== schema) return arraysForObjects(inner, input, path);
  if (OBJECT_TYPES.has(schema.type) && schema.entries) {
    if (Array.isArray(input)) return [path];
    if (typeof input !== 'object' || input === null) return [];
    return Object.entries(schema.entries).flatMap(([key, entry]) =>
      Object.hasOwn(input, key)
        ? arraysForObjects(entry, (input as Record<string, unknown>)[key], [...path, key])
        : [],
    );
  }
  if (schema.type === 'array' && schema.item && Array.isArray(input)) {
    const item = schema.item;
    return input.flatMap((value, index) => arraysForObjects(item, value, [...path, index]));
  }
  return [];
}

function fieldName(path: readonly PropertyKey[]): string {
  return path.length === 0
    ? '(root)'
    : path.map((key) => (typeof key === 'number' ? `[${key}]` : String(key))).join('.');
}

/**
 * Parses `input` with `schema`: the output, or the problems found (every field with one; of the
 * unknown keys of an object, the first).
 */
export function parseWith<const S extends v.GenericSchema>(
  schema: S,
  input: unknown,
): Parsed<v.InferOutput<S>> {
  const arrays = arraysForObjects(schema as SchemaShape, input).map(fieldName);
  const result = v.safeParse(schema, input);
  if (result.success && arrays.length === 0) return { ok: true, value: result.output };
  // What valibot says below a misplaced array (its "missing" fields) would only repeat it.
  const within = (problem: string) =>
    arrays.some((field) => field === '(root)' || problem.startsWith(`${field}.`));
  const rest = result.success ? [] : problemsOf(result.issues).filter((problem) => !within(problem));
  return {
    ok: false,
    problems: [...arrays.map((field) => `${field}: must be an object, not an array`), ...rest],
  };
}
