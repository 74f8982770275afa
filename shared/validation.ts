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
  const keys = (isUnknownKey(issue) ? path.slice(0, -1) : path).map((item) => item.key);
  if (keys.length === 0) return '(root)';
  return keys.map((key) => (typeof key === 'number' ? `[${key}]` : String(key))).join('.');
}

/** What is wrong, in words: unknown and missing keys said plainly, the rest as the schema says it. */
function messageOf(issue: v.BaseIssue<unknown>): string {
  if (isUnknownKey(issue)) {
    const key = JSON.stringify(String(issue.path?.at(-1)?.key));
    return `unknown field ${key.length > 80 ? `${key.slice(0, 77)}..."` : key} (the published JSON Schema lists every field)`;
  }
  if (issue.kind === 'schema' && issue.received === 'undefined' && issue.expected?.startsWith('"')) {
    return 'is required';
  }
  return issue.message;
}

/** A problem quotes what it received; a huge value is cut so the error stays readable. */
const MAX_PROBLEM = 300;

/** Every problem of a failed parse, as `field: what is wrong`. */
export function problemsOf(issues: readonly v.BaseIssue<unknown>[]): string[] {
  return issues.map((issue) => {
    const problem = `${fieldOf(issue)}: ${messageOf(issue)}`;
    return problem.length > MAX_PROBLEM ? `${problem.slice(0, MAX_PROBLEM - 3)}...` : problem;
  });
}

/** Parses `input` with `schema`: the output, or every problem found (never only the first). */
export function parseWith<const S extends v.GenericSchema>(
  schema: S,
  input: unknown,
): Parsed<v.InferOutput<S>> {
  const result = v.safeParse(schema, input);
  return result.success
    ? { ok: true, value: result.output }
    : { ok: false, problems: problemsOf(result.issues) };
}
