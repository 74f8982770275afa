import type { StateName } from '#shared/domain/states.ts';
import type { DeploymentState } from '#shared/domain/workflow.ts';

/**
 * The ASL shapes the deployment uses, typed: every path is a path into DeploymentState (a result key
 * the state type lacks does not compile) and every transition names a state of STATE. Build-time
 * only: no Lambda imports it.
 */

type Fields<T> = T extends readonly unknown[] ? never : T extends object ? Extract<keyof T, string> : never;
type PathOf<T, Depth extends 0[] = []> = Depth['length'] extends 3
  ? never
  : { [K in Fields<T>]: K | `${K}.${PathOf<NonNullable<T[K]>, [...Depth, 0]>}` }[Fields<T>];
/** A JSONPath into the execution state, at most three keys deep. */
export type StatePath = '$' | `$.${PathOf<DeploymentState>}`;
export type TaskParameters = { [key: `${string}.$`]: StatePath | `$$.${string}`; [key: string]: unknown };

type Backoff = Partial<Record<'IntervalSeconds' | 'BackoffRate' | 'MaxDelaySeconds', number>>;
export type Retrier = { ErrorEquals: string[]; MaxAttempts: number } & Backoff & { JitterStrategy?: 'FULL' };
export type Catcher = { ErrorEquals: string[]; ResultPath: StatePath; Next: StateName };
type Test = { IsPresent: true } | { IsNull: true } | { StringEquals: string } | { BooleanEquals: boolean };
export type Rule = ({ Variable: StatePath } & Test) | { And: Rule[] } | { Not: Rule };

/** States by name; each builder below checks the shape of its own. */
export type States = { [Name in StateName]?: object };
/** A part of the workflow that could be a state machine of its own: its states and where it starts. */
export type Segment = { startAt: StateName; states: States };

/** What a task adds to its phase's policy: retries and catches tried first. */
type Own = { retry?: Retrier[]; catch?: Catcher[] };

type Timeout = { TimeoutSeconds: number } | { TimeoutSecondsPath: StatePath };
type Callback = Own & { timeout: Timeout; payload: TaskParameters };
const TIMEOUT = 'States.Timeout';
const WAIT_FOR_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const getAtt = (fn: string) => ({ 'Fn::GetAtt': [fn, 'Arn'] });

/**
 * A phase of the workflow: the one retry and catch policy of its tasks. A callback task (waiting
 * on a task token) retries what the phase retries but States.Timeout: its timeout is the wait
 * ending, which it catches itself or its phase does.
 */
export function phase(retry: Retrier[], catchers: Catcher[]) {
  const onCallback = retry.map((r) => ({ ...r, ErrorEquals: r.ErrorEquals.filter((e) => e !== TIMEOUT) }));
  const task = (call: object, retries: Retrier[], ResultPath: StatePath, Next: StateName, own: Own = {}) => {
    const Retry = [...(own.retry ?? []), ...retries];
    const Catch = [...(own.catch ?? []), ...catchers];
    return { Type: 'Task', ...call, ResultPath, Retry, Catch, Next };
  };
  return {
    /** A function of serverless.yml, given 90 s (its own timeout is 60 s). */
    lambda: (fn: string, result: StatePath, next: StateName, Parameters?: TaskParameters) => {
      const call = { Resource: getAtt(fn), ...(Parameters && { Parameters }), TimeoutSeconds: 90 };
      return task(call, retry, result, next);
    },
    /** A function invoked with a task token: the execution waits for its callback, or the timeout. */
    callback: (fn: string, result: StatePath, next: StateName, own: Callback) => {
      const Payload = { 'token.$': '$$.Task.Token', ...own.payload };
      const Parameters = { FunctionName: getAtt(fn), Payload };
      const call = { Resource: WAIT_FOR_TOKEN, Parameters, ...own.timeout };
      return task(call, onCallback, result, next, own);
    },
  };
}

/** Where failures go, their error and cause written under `result`. */
export const catchAll = (result: StatePath, next: StateName, errors = ['States.ALL']): Catcher[] => [
  { ErrorEquals: errors, ResultPath: result, Next: next },
];
/** A callback's timeout when it is the wait ending, not a failure: go on to `next`. */
export const onTimeout = (result: StatePath, next: StateName) => catchAll(result, next, [TIMEOUT]);

export const wait = (SecondsPath: StatePath, Next: StateName) => ({ Type: 'Wait', SecondsPath, Next });
type Branch = Rule & { Next: StateName };
export const choice = (Choices: Branch[], Default: StateName) => ({ Type: 'Choice', Choices, Default });
/** A choice on one value: a string or a boolean it equals, or a test such as { IsNull: true }. */
export function is(path: StatePath, value: string | boolean | Test, next: StateName, otherwise: StateName) {
  const test = typeof value === 'string' ? { StringEquals: value } : value;
  const rule = typeof test === 'boolean' ? { BooleanEquals: test } : test;
  return choice([{ Variable: path, ...rule, Next: next }], otherwise);
}
export const fail = (error: string, CausePath: StatePath) => ({ Type: 'Fail', Error: error, CausePath });

/** Each state with its comment first, where it has one. */
export function commented(states: States, comments: Partial<Record<string, string>>): States {
  const say = (name: string) => (comments[name] ? { Comment: comments[name] } : {});
  return Object.fromEntries(Object.entries(states).map(([name, s]) => [name, { ...say(name), ...s }]));
}
