import * as v from 'valibot';
import { quoted } from './domain/text.ts';

/**
 * Schemas are valibot's: plain objects built by small functions, so a Lambda's init pays almost
 * nothing to build them (the config schema costs well under a millisecond at cold start). This
 * module turns a parse into a result whose every problem names the field it is about.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** A problem quotes what it received; a huge value is cut so the error stays readable. */
const MAX_PROBLEM = 300;

/** More problems than this are counted, not listed: the error must stay readable. */
const MAX_PROBLEMS = 20;

/** Cut to at most `max` characters, never through a surrogate pair, marked with `...`. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = [...text.slice(0, max - 3)];
  const last = chars.at(-1) ?? '';
  // A lone high surrogate left at the end is half a character.
  if (last.length === 1 && last >= '\ud800' && last <= '\udbff') chars.pop();
  return `${chars.join('')}...`;
}

/** `slots.a.targetGroupArn`, `alarms.[0]`, or `(root)`. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.length === 0
    ? '(root)'
    : path.map((key) => (typeof key === 'number' ? `[${key}]` : String(key))).join('.');
}

/** An unknown key of a strict object (valibot reports only the first of each object). */
function isUnknownKey(issue: v.BaseIssue<unknown>): boolean {
  return issue.kind === 'schema' && issue.expected === 'never' && issue.path?.at(-1)?.origin === 'key';
}

interface Problem {
  path: readonly PropertyKey[];
  message: string;
}

/** What valibot found, in words: a missing key said plainly, the rest as the schema says it. */
function fromIssue(issue: v.BaseIssue<unknown>): Problem {
  const path = (issue.path ?? []).map((item) => item.key as PropertyKey);
  const missing =
    issue.kind === 'schema' && issue.received === 'undefined' && issue.expected?.startsWith('"');
  return { path, message: missing ? 'is required' : issue.message };
}

/** The parts of a schema the walk below looks into; every valibot schema has them or not. */
interface SchemaShape {
  type: string;
  pipe?: readonly SchemaShape[];
  wrapped?: SchemaShape;
  entries?: Record<string, SchemaShape>;
  item?: SchemaShape;
}

const OBJECT_TYPES = new Set(['object', 'strict_object', 'loose_object', 'object_with_rest']);

/**
 * What valibot does not say, found by walking the schema alongside the input: an array where an
 * object belongs (valibot's objects take arrays, `typeof [] === 'object'`, so a section whose
 * fields are all optional would read `[]` as `{}`), and every unknown key of a strict object.
 */
function structuralProblems(schema: SchemaShape, input: unknown, path: PropertyKey[] = []): Problem[] {
  const inner = schema.pipe?.[0] ?? schema.wrapped;
  if (inner && inner !== schema) return structuralProblems(inner, input, path);
  if (OBJECT_TYPES.has(schema.type) && schema.entries) {
    if (Array.isArray(input)) return [{ path, message: 'must be an object, not an array' }];
    if (typeof input !== 'object' || input === null) return [];
    const entries = schema.entries;
    const unknown =
      schema.type === 'strict_object'
        ? Object.keys(input)
            .filter((key) => !Object.hasOwn(entries, key))
            .map((key) => {
              const named = quoted(key);
              const shown = named.length > 80 ? `${cut(named, 79)}"` : named;
              return {
                path,
                message: `unknown field ${shown} (the published JSON Schema lists every field)`,
              };
            })
        : [];
    const below = Object.entries(entries).flatMap(([key, entry]) =>
      Object.hasOwn(input, key)
        ? structuralProblems(entry, (input as Record<string, unknown>)[key], [...path, key])
        : [],
    );
    return [...unknown, ...below];
  }
  if (schema.type === 'array' && schema.item && Array.isArray(input)) {
    const item = schema.item;
    return input.flatMap((value, index) => structuralProblems(item, value, [...path, index]));
  }
  return [];
}

/** Every problem, as `field: what is wrong`, at most MAX_PROBLEMS of them listed. */
function describe(problems: readonly Problem[]): string[] {
  const lines = problems
    .slice(0, MAX_PROBLEMS)
    .map((problem) => cut(`${fieldName(problem.path)}: ${problem.message}`, MAX_PROBLEM));
  if (problems.length > MAX_PROBLEMS)
    lines.push(`(more): ${problems.length - MAX_PROBLEMS} further problems not listed`);
  return lines;
}

/** Whether `path` lies at or below `prefix`. */
function within(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((key, i) => path[i] === key);
}

/** Parses `input` with `schema`: the output, or every problem found, each naming its field. */
export function parseWith<const S extends v.GenericSchema>(
  schema: S,
  input: unknown,
): Parsed<v.InferOutput<S>> {
  const structural = structuralProblems(schema as SchemaShape, input);
  const result = v.safeParse(schema, input);
  if (result.success && structural.length === 0) return { ok: true, value: result.output };
  // Below a misplaced array valibot only repeats it (its "missing" fields); unknown keys are all
  // listed above already.
  const arrays = structural.filter((p) => p.message.startsWith('must be an object')).map((p) => p.path);
  const found = (result.success ? [] : result.issues)
    .filter((issue) => !isUnknownKey(issue))
    .map(fromIssue)
    .filter((problem) => !arrays.some((array) => within(problem.path, array)));
  return { ok: false, problems: describe([...structural, ...found]) };
}
