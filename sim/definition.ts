import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ACCOUNT, REGION } from './world.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ASL_PATH = resolve(ROOT, 'statemachines/deploy.asl.yml');
export const SERVERLESS_PATH = resolve(ROOT, 'serverless.yml');

type Json = Record<string, unknown>;

/** Reads YAML that may hold CloudFormation short-form tags (!Ref, !GetAtt...) as plain values. */
export function readYaml(path: string): Json {
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
  return parse(readFileSync(path, 'utf8'), { merge: true, maxAliasCount: -1, customTags: tags }) as Json;
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

/** Where Parameters place the whole state input (`"key.$": "$"`), as a path into the Parameters output. */
function pathOfWholeInput(parameters: unknown, prefix = '$'): string | undefined {
  if (!parameters || typeof parameters !== 'object') return undefined;
  for (const [key, value] of Object.entries(parameters as Json)) {
    if (key.endsWith('.$') && value === '$') return `${prefix}.${key.slice(0, -2)}`;
    const nested = pathOfWholeInput(value, `${prefix}.${key}`);
    if (nested) return nested;
  }
  return undefined;
}

/**
 * AWS resolves TimeoutSecondsPath against the state input; aws-local-stepfunctions resolves it
 * against the input after Parameters. Where Parameters carry the whole input, the path is
 * rewritten to read the same value there.
 */
function adaptTimeoutPath(name: string, state: Json): void {
  const path = state.TimeoutSecondsPath;
  if (typeof path !== 'string' || !state.Parameters) return;
  const base = pathOfWholeInput(state.Parameters);
  if (!base)
    throw new Error(
      `task state "${name}": TimeoutSecondsPath needs the whole input in its Parameters to simulate`,
    );
  state.TimeoutSecondsPath = `${base}${path.slice(1)}`;
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
