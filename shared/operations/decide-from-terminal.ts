import { type Refusal, readReply, type SignedPost } from '../aws/signed-request.ts';
import type { ApprovalStage, DecisionRecord } from '../domain/approval.ts';
import {
  type DecisionDeployment,
  type DecisionRequest,
  decisionResponseSchema,
} from '../domain/terminal-decision.ts';

/**
 * The client half of `bluegreen approve|reject APP ENV [--comment TEXT]`: one signed POST to the
 * stack's decision API (output DecisionApiUrl), and its answer as a typed result. Who approves is
 * not sent: it is the IAM identity whose credentials sign the request, as AWS verifies it.
 */

export interface TerminalDecisionInput {
  /** The stack output DecisionApiUrl. */
  url: string;
  app: string;
  env: string;
  decision: 'approve' | 'reject';
  comment?: string;
  /**
   * The release and stage the caller means to answer. Without them the client first asks which
   * approval waits (`show`) and names that one in its answer, so an approval that came meanwhile
   * is never decided by it.
   */
  version?: string;
  stage?: ApprovalStage;
}

export type TerminalDecision =
  /** The deployment received this answer; `approver` is the principal the service recorded. */
  | ({ kind: 'decided'; deployment: DecisionDeployment } & DecisionRecord)
  /** An earlier answer (by link or from a terminal) decided; `approver` and `at` say whose, when. */
  | ({ kind: 'decided-already'; deployment: DecisionDeployment } & DecisionRecord)
  /** Another approval waits than the one named: nothing was decided; `deployment` says which. */
  | { kind: 'not-this-approval'; deployment: DecisionDeployment; asked: { version?: string; stage?: string } }
  /** `show` only: this approval waits (never returned by decideFromTerminal). */
  | { kind: 'waiting'; deployment: DecisionDeployment }
  /** The signing identity is not an approver of the deployment: nothing was decided. */
  | { kind: 'not-an-approver'; principal: string; app: string; env: string }
  /** No approval waits for an answer; `reason` says why (none requested, timed out, ended). */
  | { kind: 'nothing-waiting'; reason: string; deployment?: DecisionDeployment }
  /** The answer may or may not have arrived: asking again later says which. */
  | { kind: 'not-known'; reason: string; deployment?: DecisionDeployment }
  /** Step Functions refused it for now: nothing was decided, try again. */
  | { kind: 'try-again'; reason: string; deployment: DecisionDeployment }
  /** The service could not read the request: nothing was decided. */
  | { kind: 'bad-request'; problems: string[] }
  /**
   * Not the service's answer: AWS refused the request before it (no execute-api:Invoke on the
   * route, unsigned, expired credentials) or the URL is not the decision API.
   */
  | Refusal;

/** Reads the reply: the service's answer when it is one, else AWS's refusal. */
export function readDecisionReply(status: number, body: string): TerminalDecision {
  const reply = readReply(status, body, decisionResponseSchema);
  if (reply.kind === 'refused') return reply;
  const { result, ...rest } = reply.answer;
  return { kind: result, ...rest } as TerminalDecision;
}

/**
 * Approves or rejects the app/env's waiting approval as the identity `post` signs with: the one
 * named by `version` and `stage`, or else the one the service says waits now (asked first), so
 * the answer never lands on an approval that came after the caller looked.
 */
export async function decideFromTerminal(
  input: TerminalDecisionInput,
  post: SignedPost,
): Promise<TerminalDecision> {
  let { version, stage } = input;
  if (version === undefined || stage === undefined) {
    const shown = await post(input.url, { app: input.app, env: input.env, decision: 'show' });
    const waiting = readDecisionReply(shown.status, shown.body);
    if (waiting.kind !== 'waiting') return waiting;
    if (version !== undefined && version !== waiting.deployment.version)
      return { kind: 'not-this-approval', deployment: waiting.deployment, asked: { version } };
    version = waiting.deployment.version;
    stage ??= waiting.deployment.stage;
  }
  const request: DecisionRequest = {
    app: input.app,
    env: input.env,
    decision: input.decision,
    version,
    stage,
    ...(input.comment !== undefined ? { comment: input.comment } : {}),
  };
  const reply = await post(input.url, request);
  return readDecisionReply(reply.status, reply.body);
}
