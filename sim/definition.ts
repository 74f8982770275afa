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

export interface LoadedDefinition {
  /** The ASL with each Fn::GetAtt resource replaced by the function's ARN. */
  definition: Json;
  /** Task state name → serverless.yml function key. */
  tasks: Record<string, string>;
}

function resolveStates(states: Json, tasks: Record<string, string>): void {
  for (const [name, raw] of Object.entries(states)) {
    const state = raw as Json;
    if (state.Type === 'Task') {
      const resource = state.Resource as Json | string;
      const getAtt =
        typeof resource === 'object' ? (resource['Fn::GetAtt'] as string[] | undefined) : undefined;
      if (!getAtt?.[0] || getAtt[1] !== 'Arn') {
        throw new Error(`task state "${name}" must name its function as Fn::GetAtt: [function, Arn]`);
      }
      tasks[name] = getAtt[0];
      state.Resource = functionArn(getAtt[0]);
    }
    for (const branch of (state.Branches as Json[] | undefined) ?? [])
      resolveStates(branch.States as Json, tasks);
  }
}

/** The real ASL file, ready for aws-local-stepfunctions. */
export function loadDefinition(path = ASL_PATH): LoadedDefinition {
  const definition = readYaml(path);
  const tasks: Record<string, string> = {};
  resolveStates(definition.States as Json, tasks);
  return { definition, tasks };
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
