import { readFileSync } from 'node:fs';
import { loadFunctionHandlers } from '../definition.ts';
import { ACCOUNT, type ApiCall, callObservers, OPERATOR, SOMEONE_ELSE, type World } from '../world.ts';
import { evaluate } from './evaluate.ts';
import { type IamRequest, iamRequestsFor } from './requests.ts';
import { SIM_STACK } from './stack.ts';
import { type PolicyDocument, TemplateResolver } from './template.ts';

/** What one recording found: what was allowed, what was denied, which operations were reached. */
export interface RecordingResult {
  calls: number;
  /** Distinct (function, request) pairs evaluated allowed, as keys. */
  allowed: string[];
  denied: string[];
  /** `function Operation` of every call made. */
  reached: string[];
  /** Calls made outside any function's handler. */
  unattributed: string[];
}

/**
 * The role whose policies a caller's requests are judged by: a function's own, or for the command
 * line the operator's (examples/operator-policy.cfn.yml attached to it).
 */
export const roleArn = (fn: string) =>
  fn === OPERATOR
    ? `arn:aws:iam::${ACCOUNT}:role/operator`
    : `arn:aws:iam::${ACCOUNT}:role/${SIM_STACK.name}-${fn}`;
const roleId = (fn: string) => `${fn[0]?.toUpperCase()}${fn.slice(1)}IamRoleLambdaExecution`;

/** Each function's role in the packaged template, resolved as deployed into the simulated account. */
export function packagedPolicies(templatePath: string): Record<string, PolicyDocument[]> {
  const template = JSON.parse(readFileSync(templatePath, 'utf8')) as Record<string, unknown>;
  const resolver = new TemplateResolver(template, SIM_STACK);
  return Object.fromEntries(
    Object.keys(loadFunctionHandlers()).map((fn) => [fn, resolver.rolePolicies(roleId(fn))]),
  );
}

export function requestKey(fn: string, request: IamRequest): string {
  const context = Object.entries(request.context)
    .map(([k, v]) => [k, Array.isArray(v) ? [...v].sort() : v] as const)
    .sort(([x], [y]) => x.localeCompare(y));
  return JSON.stringify([fn, request.action, request.resource, context]);
}

/**
 * Records every call the handlers make into any simulated world while it runs, as the IAM requests
 * AWS would authorize (worked out at the moment of the call, from its input and the world then).
 */
export class IamRecorder {
  private calls = 0;
  private readonly requests = new Map<string, { fn: string; operation: string; request: IamRequest }>();
  private readonly reached = new Set<string>();
  private readonly unattributed: string[] = [];
  private readonly observe = (world: World, call: ApiCall, input: unknown) => {
    if (call.fn === SOMEONE_ELSE) return;
    this.calls += 1;
    if (!call.fn) {
      this.unattributed.push(`${call.service}:${call.operation}`);
      return;
    }
    this.reached.add(`${call.fn} ${call.operation}`);
    for (const request of iamRequestsFor(world, call, input)) {
      const key = requestKey(call.fn, request);
      if (!this.requests.has(key))
        this.requests.set(key, { fn: call.fn, operation: call.operation, request });
    }
  };

  start(): this {
    callObservers.add(this.observe);
    return this;
  }

  stop(): void {
    callObservers.delete(this.observe);
  }

  /** The distinct requests recorded so far. */
  recorded(): { fn: string; operation: string; request: IamRequest }[] {
    return [...this.requests.values()];
  }

  /** Evaluates every distinct request against its function's packaged role. */
  async evaluate(policies: Record<string, PolicyDocument[]>): Promise<RecordingResult> {
    const allowed: string[] = [];
    const denied: string[] = [];
    for (const [key, { fn, operation, request }] of this.requests) {
      const result = await evaluate(roleArn(fn), policies[fn] ?? [], request);
      if (result.decision === 'Allowed') allowed.push(key);
      else
        denied.push(
          `${fn} (${operation}): ${request.action} on ${request.resource} ${JSON.stringify(request.context)} -> ${result.decision}${result.invalid ? ` (invalid request: ${result.invalid})` : ''}`,
        );
    }
    return {
      calls: this.calls,
      allowed,
      denied,
      reached: [...this.reached],
      unattributed: [...new Set(this.unattributed)],
    };
  }
}
