import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ACCOUNT, REGION } from './world.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ASL_PATH = resolve(ROOT, 'statemachines/deploy.asl.yml');
export const ROLLBACK_ASL_PATH = resolve(ROOT, 'statemachines/rollback.asl.yml');
export const SERVERLESS_PATH = resolve(ROOT, 'serverless.yml');

type Json = Record<string, unknown>;

/** Parsed YAML by path, with the text it was parsed from: a run reads its files again, parses once. */
const parsed = new Map<string, { text: string; value: Json }>();

/**
 * Reads YAML that may hold CloudFormation short-form tags (!Ref, !GetAtt...) as plain values. Each
 * caller gets its own copy; the file is parsed again only when its text changed.
 */
export function readYaml(path: string): Json {
  const text = readFileSync(path, 'utf8');
  const cached = parsed.get(path);
  if (cached?.text === text) return structuredClone(cached.value);
  const value = parseYaml(text);
  parsed.set(path, { text, value });
  return structuredClone(value);
}

function parseYaml(text: string): Json {
  const tags = [
    'Ref',
    'GetAtt',
    'Sub',
    'Join',
    'If',
    'Equals',
    'Not',
    'Select',
    'Split',
    'ImportValue',
    'FindInMap',
  ].map((name) => ({
    tag: `!${name}`,
    resolve: (value: unknown) => ({ [name === 'Ref' ? 'Ref' : `Fn::${name}`]: value }),
  }));
  return parse(text, { merge: true, maxAliasCount: -1, customTags: tags }) as Json;
}

export function functionArn(functionKey: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:bluegreen-ec2-sim-${functionKey}`;
}

export const WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

export interface LoadedDefinition {
  /** The ASL with each Fn::GetAtt resource replaced by the function's ARN. */
  definition: Json;
  /** Task state name → serverless.yml function key. */
  tasks: Record<string, string>;
  /** Task states that invoke their function with a task token and wait for the callback. */
  callbacks: Set<string>;
}

function getAttFunction(value: unknown): string | undefined {
  const getAtt =
    value && typeof value === 'object' ? ((value as Json)['Fn::GetAtt'] as string[] | undefined) : undefined;
  return getAtt?.[0] && getAtt[1] === 'Arn' ? getAtt[0] : undefined;
}

/** Where Parameters put the value of `path` (or of a prefix of it), as a path into their output. */
function whereParametersPut(parameters: unknown, path: string, prefix = '$'): string | undefined {
  if (!parameters || typeof parameters !== 'object') return undefined;
  for (const [key, value] of Object.entries(parameters as Json)) {
    if (
      key.endsWith('.$') &&
      typeof value === 'string' &&
      (path === value || path.startsWith(`${value === '$' ? '$' : value}.`))
    ) {
      return `${prefix}.${key.slice(0, -2)}${path.slice(value.length)}`;
    }
    const nested = whereParametersPut(value, path, `${prefix}.${key}`);
    if (nested) return nested;
  }
  return undefined;
}

/**
 * AWS resolves TimeoutSecondsPath against the state input; aws-local-stepfunctions resolves it
 * against the input after Parameters. Where Parameters carry that value, the path is rewritten to
 * read it there.
 */
function adaptTimeoutPath(name: string, state: Json): void {
  const path = state.TimeoutSecondsPath;
  if (typeof path !== 'string' || !state.Parameters) return;
  const moved = whereParametersPut(state.Parameters, path);
  if (!moved)
    throw new Error(
      `task state "${name}": its Parameters must carry ${path} for TimeoutSecondsPath to be simulated`,
    );
  state.TimeoutSecondsPath = moved;
}

function resolveStates(states: Json, tasks: Record<string, string>, callbacks: Set<string>): void {
  for (const [name, raw] of Object.entries(states)) {
    const state = raw as Json;
    if (state.Type === 'Task' && state.Resource === WAIT_FOR_TASK_TOKEN) {
      const parameters = state.Parameters as Json;
      const fn = getAttFunction(parameters?.FunctionName);
      if (!fn) {
        throw new Error(
          `task state "${name}" must name its function as FunctionName: Fn::GetAtt: [function, Arn]`,
        );
      }
      tasks[name] = fn;
      callbacks.add(name);
      parameters.FunctionName = functionArn(fn);
      adaptTimeoutPath(name, state);
    } else if (state.Type === 'Task') {
      const fn = getAttFunction(state.Resource);
      if (!fn) throw new Error(`task state "${name}" must name its function as Fn::GetAtt: [function, Arn]`);
      tasks[name] = fn;
      state.Resource = functionArn(fn);
    }
    for (const branch of (state.Branches as Json[] | undefined) ?? []) {
      resolveStates(branch.States as Json, tasks, callbacks);
    }
  }
}

/** The real ASL file, ready for aws-local-stepfunctions. */
export function loadDefinition(path = ASL_PATH): LoadedDefinition {
  const definition = readYaml(path);
  const tasks: Record<string, string> = {};
  const callbacks = new Set<string>();
  resolveStates(definition.States as Json, tasks, callbacks);
  return { definition, tasks, callbacks };
}

/** serverless.yml function key → handler module path (e.g. functions/plan-deployment.ts) and export. */
export function loadFunctionHandlers(
  path = SERVERLESS_PATH,
): Record<string, { module: string; exportName: string }> {
  const config = readYaml(path);
  const functions = (config.functions ?? {}) as Record<string, { handler?: string }>;
  return Object.fromEntries(
    Object.entries(functions).map(([key, fn]) => {
      const handler = fn.handler ?? '';
      const dot = handler.lastIndexOf('.');
      return [
        key,
        { module: resolve(ROOT, `${handler.slice(0, dot)}.ts`), exportName: handler.slice(dot + 1) },
      ];
    }),
  );
}

/** EventBridge rules of serverless.yml: each function's `eventBridge` patterns, Refs resolved. */
export function loadEventRules(
  refs: Record<string, string>,
  path = SERVERLESS_PATH,
): { target: string; pattern: Record<string, unknown>; timeoutSeconds: number }[] {
  const config = readYaml(path);
  const functions = (config.functions ?? {}) as Record<
    string,
    { timeout?: number; events?: { eventBridge?: { pattern?: Json } }[] }
  >;
  // Lambda's default is 3 s; the provider may set another.
  const providerTimeout = ((config.provider ?? {}) as { timeout?: number }).timeout ?? 3;
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === 'object') {
      const ref = (value as Json).Ref;
      if (typeof ref === 'string') {
        const resolved = refs[ref];
        if (!resolved) throw new Error(`event pattern refers to ${ref}, which the simulator does not know`);
        return resolved;
      }
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    }
    return value;
  };
  return Object.entries(functions).flatMap(([target, fn]) =>
    (fn.events ?? [])
      .filter((e) => e.eventBridge?.pattern)
      .map((e) => ({
        target,
        pattern: resolve(e.eventBridge?.pattern) as Record<string, unknown>,
        timeoutSeconds: fn.timeout ?? providerTimeout,
      })),
  );
}

/** A scheduled rule of serverless.yml (`schedule: rate(N minute[s])`) and the function it invokes. */
export interface ScheduleRule {
  target: string;
  everySeconds: number;
  timeoutSeconds: number;
}

/** The `schedule` events of serverless.yml's functions: rate expressions only (the ones used here). */
export function loadScheduleRules(path = SERVERLESS_PATH): ScheduleRule[] {
  const config = readYaml(path);
  const functions = (config.functions ?? {}) as Record<
    string,
    { timeout?: number; events?: { schedule?: string | { rate?: string | string[] } }[] }
  >;
  const providerTimeout = ((config.provider ?? {}) as { timeout?: number }).timeout ?? 3;
  return Object.entries(functions).flatMap(([target, fn]) =>
    (fn.events ?? [])
      .filter((e) => e.schedule !== undefined)
      .map((e) => {
        const schedule = e.schedule;
        const rate = typeof schedule === 'string' ? schedule : [schedule?.rate ?? ''].flat()[0];
        const match = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(rate ?? '');
        if (!match)
          throw new Error(`${target}: the simulator reads rate(N minutes) schedules only, not ${rate}`);
        const unit = match[2]?.startsWith('hour') ? 3600 : 60;
        return {
          target,
          everySeconds: Number(match[1]) * unit,
          timeoutSeconds: fn.timeout ?? providerTimeout,
        };
      }),
  );
}
