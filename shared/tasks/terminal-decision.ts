import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ApprovalItem, getLatestApproval } from '../aws/dynamodb.ts';
import type { DecisionRecord } from '../domain/approval.ts';
import { verb } from '../domain/approval-outcome.ts';
import { matchingApprover } from '../domain/principal.ts';
import {
  DECISION_STATUS,
  type DecisionResponse,
  decisionRequestSchema,
  deploymentOf,
  MAX_DECISION_BODY_BYTES,
} from '../domain/terminal-decision.ts';
import { logger } from '../logger.ts';
import { type Answered, giveAnswer, openFor } from '../operations/approval-answer.ts';
import { parseWith } from '../validation.ts';
import { jsonBodyOf, jsonReply, verifiedCaller } from './signed-api.ts';

export interface TerminalSettings {
  table: string;
}

type Response = APIGatewayProxyStructuredResultV2;

export function respond(answer: DecisionResponse): Response {
  return jsonReply(DECISION_STATUS[answer.result], answer);
}

function badRequest(...problems: string[]): Response {
  return respond({ result: 'bad-request', problems });
}

function what(item: ApprovalItem): string {
  return `${item.summary.app}/${item.summary.env} ${item.summary.version}`;
}

/** What the terminal is told of where an answer (or the approval) ended. */
function answeredResponse(item: ApprovalItem, answered: Answered): DecisionResponse {
  const deployment = deploymentOf(item.summary);
  switch (answered.kind) {
    case 'yours':
      return { result: 'decided', deployment, ...answered.record };
    case 'decided':
      return { result: 'decided-already', deployment, ...answered.record };
    case 'ended': {
      const unused = answered.unused
        ? ` The answer from ${answered.unused.approver} (${verb(answered.unused)}) was not used.`
        : '';
      return {
        result: 'nothing-waiting',
        deployment,
        reason: answered.yours
          ? `${what(item)} ${answered.ending} before your answer arrived. Your answer was not used.`
          : `${what(item)} ${answered.ending}; it no longer waits for an answer.${unused}`,
      };
    }
    case 'expired':
      return {
        result: 'nothing-waiting',
        deployment,
        reason: `The approval of ${what(item)} expired; the deployment did not wait any longer.`,
      };
    case 'unknown':
      return {
        result: 'not-known',
        deployment,
        reason: answered.yours
          ? `Your answer (${verb(answered.attempt)}) may have reached the deployment, or not: Step Functions did not confirm it. Ask again in a minute: the answer then says what the deployment received.`
          : `An answer from ${answered.attempt.approver} (${verb(answered.attempt)}) sent at ${answered.attempt.at} may have reached the deployment; it is not confirmed yet. Ask again in a minute.`,
      };
    case 'refused':
      return {
        result: 'try-again',
        deployment,
        reason: 'Step Functions refused the answer for now. Nothing was decided; try again.',
      };
  }
}

/** The request's decision, or the problem with it. */
function requestOf(event: APIGatewayProxyEventV2WithIAMAuthorizer) {
  const body = jsonBodyOf(event, MAX_DECISION_BODY_BYTES);
  if ('problem' in body) return { problem: body.problem };
  return { parsed: parseWith(decisionRequestSchema, body.json) };
}

/**
 * Decides an approval from a terminal (`POST /decisions`, IAM authorization). The approver is the
 * principal AWS verified (`requestContext.authorizer.iam.userArn`), matched against the IAM
 * principals of the config the deployment pinned; the answer goes to the app/env's latest approval
 * and is recorded and delivered exactly as an answer by link (operations/approval-answer.ts):
 * single-use, the first answer of any approver decides.
 */
export async function serveTerminalDecision(
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
  settings: TerminalSettings,
): Promise<Response> {
  const verified = verifiedCaller(event);
  if ('problem' in verified) return badRequest(verified.problem);
  const { caller } = verified;
  const { problem, parsed } = requestOf(event);
  if (problem !== undefined) return badRequest(problem);
  if (!parsed?.ok) return badRequest(...(parsed?.problems ?? []));
  const { app, env, decision, comment, version, stage } = parsed.value;

  const item = await getLatestApproval(settings.table, app, env);
  if (!item) {
    return respond({ result: 'nothing-waiting', reason: `No approval was requested for ${app}/${env}.` });
  }
  if (!matchingApprover(item.approvers, caller)) {
    logger.warn('a decision from a principal who is not an approver', { approvalId: item.id, caller });
    return respond({ result: 'not-an-approver', principal: caller, app, env });
  }
  const now = Date.now();
  const opening = await openFor(settings.table, item, { now, write: decision !== 'show' });
  if (opening.kind !== 'open') return respond(answeredResponse(item, opening));
  const deployment = deploymentOf(item.summary);
  if (decision === 'show') return respond({ result: 'waiting', deployment });
  if ((version && version !== item.summary.version) || (stage && stage !== item.summary.stage)) {
    const asked = { ...(version ? { version } : {}), ...(stage ? { stage } : {}) };
    return respond({ result: 'not-this-approval', deployment, asked });
  }
  const record: DecisionRecord = {
    stage: item.summary.stage,
    decision: decision === 'approve' ? 'approved' : 'rejected',
    approver: caller,
    comment,
    at: new Date(now).toISOString(),
  };
  const answered = await giveAnswer(settings.table, item, record, {
    now,
    ...(opening.replacing !== undefined ? { replacing: opening.replacing } : {}),
  });
  return respond(answeredResponse(item, answered));
}
