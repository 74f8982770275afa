import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ApprovalItem, getApproval } from '../aws/dynamodb.ts';
import { signingKey } from '../aws/secrets.ts';
import { executionState } from '../aws/sfn.ts';
import {
  type DecisionRecord,
  decisionFormSchema,
  FORM_FIELDS,
  ID_PATTERN,
  LINK_FIELDS,
  type LinkFields,
  linkParamsSchema,
  normalizeApprover,
  strictFields,
  verifyLink,
} from '../domain/approval.ts';
import { executionEnding, verb } from '../domain/approval-outcome.ts';
import { confirmationPage, decidedPage, messagePage, SECURITY_HEADERS } from '../domain/approval-page.ts';
import { readableTime } from '../domain/approval-stakes.ts';
import { quoted } from '../domain/text.ts';
import { logger } from '../logger.ts';
import { type Answered, giveAnswer, openFor } from '../operations/approval-answer.ts';
import { parseWith } from '../validation.ts';

export interface PageSettings {
  table: string;
  secretId: string;
}

/** Larger form bodies are refused before they are parsed. */
export const MAX_BODY_BYTES = 8192;

type Response = APIGatewayProxyStructuredResultV2;

function respond(statusCode: number, body: string, extra: Record<string, string> = {}): Response {
  return { statusCode, headers: { ...SECURITY_HEADERS, ...extra }, body };
}

function refuse(statusCode: number, title: string, message: string, detail?: string): Response {
  return respond(statusCode, messagePage(title, message, detail));
}

function what(item: ApprovalItem): string {
  return `${item.summary.app}/${item.summary.env} ${item.summary.version}`;
}

function unusedLine(answer: DecisionRecord | undefined): string | undefined {
  return answer ? `The answer from ${answer.approver} (${verb(answer)}) was not used.` : undefined;
}

/**
 * The deployment no longer waits (`ending` completes "web/prod 1.1.0 …"). `yours`: said to the
 * approver whose answer this request carried; `unused`: an earlier answer that never arrived.
 */
function endedPage(item: ApprovalItem, ending: string, yours: boolean, unused?: DecisionRecord): Response {
  return refuse(
    410,
    'No longer waiting',
    yours
      ? `${what(item)} ${ending} before your answer arrived. Your answer was not used.`
      : `${what(item)} ${ending}; it no longer waits for an answer.`,
    unusedLine(unused),
  );
}

function alreadyDecided(d: DecisionRecord): Response {
  return refuse(
    409,
    'Already decided',
    `This deployment was already ${d.decision} by ${d.approver} at ${readableTime(d.at)}.`,
    d.comment ? `Comment: ${quoted(d.comment)}` : undefined,
  );
}

/** An answer is recorded but not confirmed: nobody may assume it arrived, or that it did not. */
function unknownPage(attempt: DecisionRecord, yours: boolean): Response {
  return respond(
    503,
    messagePage(
      'Outcome not known yet',
      yours
        ? `Your answer (${verb(attempt)}) may have reached the deployment, or not: Step Functions did not confirm it.`
        : `An answer from ${attempt.approver} (${verb(attempt)}) sent at ${readableTime(attempt.at)} may have reached the deployment; it is not confirmed yet.`,
      'Do not assume either way. Open the link again in a minute: the page then shows what the deployment received.',
    ),
    { 'retry-after': '60' },
  );
}

function youDecided(item: ApprovalItem, record: DecisionRecord): Response {
  return respond(200, decidedPage(item.summary, record));
}

const LINK_EXPIRED = 'This approval link has expired; the deployment did not wait any longer.';

/** What the page says of where an answer (or the approval) ended. */
function answeredPage(item: ApprovalItem, answered: Answered): Response {
  switch (answered.kind) {
    case 'yours':
      return youDecided(item, answered.record);
    case 'decided':
      return alreadyDecided(answered.record);
    case 'ended':
      return endedPage(item, answered.ending, answered.yours, answered.unused);
    case 'expired':
      return answered.by === 'record'
        ? refuse(410, 'Approval expired', 'This approval is no longer waiting for an answer.')
        : refuse(410, 'Link expired', LINK_EXPIRED);
    case 'unknown':
      return unknownPage(answered.attempt, answered.yours);
    case 'refused':
      return refuse(
        503,
        'Try again',
        'Step Functions refused your answer for now. Nothing was decided; please try again.',
      );
  }
}

function bodyOf(event: APIGatewayProxyEventV2): string | Response {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    return refuse(413, 'Request too large', `The form may be at most ${MAX_BODY_BYTES} bytes.`);
  }
  return bytes.toString('utf8');
}

function header(event: APIGatewayProxyEventV2, name: string): string {
  const headers = event.headers ?? {};
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  return found?.[1] ?? '';
}

/**
 * Serves an approval link. GET shows the deployment and the two buttons and changes nothing, so a
 * mail scanner that prefetches links approves nothing. POST checks the signature, the expiry, the
 * approver and that the approval is still pending (a conditional write: single-use), then resumes
 * the execution with SendTaskSuccess or SendTaskFailure.
 */
export async function serveApproval(
  event: APIGatewayProxyEventV2,
  settings: PageSettings,
): Promise<Response> {
  const method = event.requestContext?.http?.method ?? 'GET';
  if (method !== 'GET' && method !== 'POST') {
    return {
      ...refuse(405, 'Method not allowed', 'Open the link in a browser.'),
      headers: { ...SECURITY_HEADERS, allow: 'GET, POST' },
    };
  }
  const id = event.pathParameters?.id ?? '';
  if (!ID_PATTERN.test(id)) return refuse(404, 'No such approval', 'This link does not name an approval.');

  let pairs: Iterable<[string, string]>;
  if (method === 'POST') {
    const type = header(event, 'content-type').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      return refuse(415, 'Unsupported form', 'Use the buttons on the approval page.');
    }
    const body = bodyOf(event);
    if (typeof body !== 'string') return body;
    pairs = new URLSearchParams(body);
  } else {
    // rawQueryString keeps a repeated parameter apart; queryStringParameters joins it with commas.
    pairs =
      event.rawQueryString !== undefined
        ? new URLSearchParams(event.rawQueryString)
        : Object.entries(event.queryStringParameters ?? {}).map(([k, v]): [string, string] => [k, v ?? '']);
  }
  const strict = strictFields(pairs, method === 'POST' ? FORM_FIELDS : LINK_FIELDS);
  if (!strict.ok) {
    return method === 'POST'
      ? refuse(
          400,
          'Unreadable form',
          `The decision could not be read: ${strict.problem}. Nothing was decided.`,
        )
      : refuse(
          400,
          'Damaged link',
          `This link is damaged: ${strict.problem}. Open it again from the message you received.`,
        );
  }
  const fields = strict.fields;

  const link = parseWith(linkParamsSchema, fields);
  if (!link.ok) {
    return refuse(
      400,
      'Incomplete link',
      'This link is incomplete or damaged. Open it again from the message you received.',
    );
  }
  const linkFields: LinkFields = { id, approver: link.value.approver, expires: Number(link.value.expires) };
  const key = await signingKey(settings.secretId);
  if (!verifyLink(key, linkFields, link.value.signature)) {
    logger.warn('approval link with a bad signature', { approvalId: id });
    return refuse(
      403,
      'Invalid link',
      'This link is not valid. Open it again from the message you received.',
    );
  }
  const now = Date.now();
  const item = await getApproval(settings.table, id);
  if (!item) return refuse(404, 'No such approval', 'This approval no longer exists.');
  const approver = normalizeApprover(linkFields.approver);
  if (!item.approvers.map(normalizeApprover).includes(approver)) {
    return refuse(403, 'Not an approver', `${approver} may not decide on this deployment.`);
  }

  const opening = await openFor(settings.table, item, { now, write: method === 'POST' });
  if (opening.kind !== 'open') return answeredPage(item, opening);
  // No answer is pending or unconfirmed: an expired link asks for nothing.
  if (linkFields.expires * 1000 <= now) return refuse(410, 'Link expired', LINK_EXPIRED);

  if (method === 'GET') {
    if (item.state === 'PENDING') {
      // A stopped (or otherwise ended) deployment asks for nothing: DescribeExecution, read-only.
      const ending = executionEnding(await executionState(item.executionArn));
      if (ending) return endedPage(item, ending, false);
    }
    return respond(
      200,
      confirmationPage(
        item.summary,
        { approver, expires: link.value.expires, signature: link.value.signature },
        // As records name them (emails in lower case, IAM ARNs as written): the link's approver is one.
        { approvers: item.approvers, ...(opening.note ? { note: opening.note } : {}) },
      ),
    );
  }

  const form = parseWith(decisionFormSchema, fields);
  if (!form.ok) {
    return refuse(400, 'Incomplete form', `The decision could not be read: ${form.problems.join('; ')}.`);
  }
  const record: DecisionRecord = {
    stage: item.summary.stage,
    decision: form.value.decision === 'approve' ? 'approved' : 'rejected',
    approver,
    comment: form.value.comment,
    at: new Date(now).toISOString(),
  };
  const answered = await giveAnswer(settings.table, item, record, {
    now,
    ...(opening.replacing !== undefined ? { replacing: opening.replacing } : {}),
  });
  return answeredPage(item, answered);
}
