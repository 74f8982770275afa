import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  type ApprovalItem,
  claimDecision,
  getApproval,
  type Settled,
  settleDecision,
} from '../aws/dynamodb.ts';
import { signingKey } from '../aws/secrets.ts';
import { callbackOutcome, deliverAnswer, executionState } from '../aws/sfn.ts';
import {
  APPROVAL_REJECTED,
  type DecisionRecord,
  decisionFormSchema,
  FORM_FIELDS,
  ID_PATTERN,
  LINK_FIELDS,
  type LinkFields,
  linkParamsSchema,
  normalizeApprover,
  rejectionCause,
  strictFields,
  verifyLink,
} from '../domain/approval.ts';
import {
  APPROVAL_STATE_NAMES,
  executionEnding,
  SETTLE_AFTER_MS,
  type Settlement,
  sameAnswer,
  settle,
  verb,
} from '../domain/approval-outcome.ts';
import { confirmationPage, messagePage, SECURITY_HEADERS } from '../domain/approval-page.ts';
import { quoted } from '../domain/text.ts';
import { logger } from '../logger.ts';
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

/** An approval that is over: who decided what, or how the deployment stopped waiting. */
function decidedPage(item: ApprovalItem): Response {
  const d = item.decision;
  if (item.state === 'EXPIRED' || !d) {
    return item.ended
      ? endedPage(item, item.ended, false, item.unusedAnswer)
      : refuse(410, 'Approval expired', 'This approval is no longer waiting for an answer.');
  }
  return alreadyDecided(d);
}

function alreadyDecided(d: DecisionRecord): Response {
  return refuse(
    409,
    'Already decided',
    `This deployment was already ${d.decision} by ${d.approver} at ${d.at}.`,
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
        : `An answer from ${attempt.approver} (${verb(attempt)}) sent at ${attempt.at} may have reached the deployment; it is not confirmed yet.`,
      'Do not assume either way. Open the link again in a minute: the page then shows what the deployment received.',
    ),
    { 'retry-after': '60' },
  );
}

function youDecided(item: ApprovalItem, record: DecisionRecord): Response {
  return record.decision === 'approved'
    ? respond(200, messagePage('Approved', `You approved ${what(item)}. The deployment continues.`))
    : respond(200, messagePage('Rejected', `You rejected ${what(item)}. The deployment rolls back.`));
}

/**
 * What the execution says became of the approval: its status, then the approval state's events in
 * its history. Read-only. A failing read is `unknown`, never a guess.
 */
async function settlementOf(item: ApprovalItem, attempt?: DecisionRecord): Promise<Settlement> {
  try {
    const execution = await executionState(item.executionArn);
    const outcome = execution
      ? await callbackOutcome(item.executionArn, APPROVAL_STATE_NAMES[item.summary.stage])
      : ({ kind: 'not-entered' } as const);
    return settle(execution, outcome, item.summary.stage, attempt);
  } catch (error) {
    logger.warn('could not read how the approval went', { approvalId: item.id, error });
    return { kind: 'unknown' };
  }
}

/** Where a settlement takes a DECIDING record (undefined: it stays DECIDING). */
function settledState(settlement: Settlement, attempt: DecisionRecord): Settled | undefined {
  switch (settlement.kind) {
    case 'decided':
      return {
        state: settlement.record.decision === 'approved' ? 'APPROVED' : 'REJECTED',
        decision: settlement.record,
      };
    case 'ended':
      return { state: 'EXPIRED', ended: settlement.ending, unused: attempt };
    default:
      return undefined;
  }
}

/** Whether an unconfirmed attempt is old enough that a wait still open means it never arrived. */
function stale(attempt: DecisionRecord, now: number): boolean {
  return Date.parse(attempt.at) + SETTLE_AFTER_MS <= now;
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

  // An answer recorded earlier whose outcome was not confirmed: the execution says what became of it.
  let replacing: string | undefined;
  let note: string | undefined;
  if (item.state === 'DECIDING' && item.decision) {
    const attempt = item.decision;
    const settlement = await settlementOf(item, attempt);
    if (settlement.kind === 'waiting' && stale(attempt, now)) {
      // Still waiting a minute later: that answer never arrived, and the approval is open again.
      replacing = item.attempt ?? '';
      note = `An earlier answer from ${attempt.approver} (${verb(attempt)}) did not reach the deployment; it still waits for a decision.`;
    } else {
      const next = settledState(settlement, attempt);
      // GET changes nothing; a POST writes down what the execution said (unless someone just did).
      if (method === 'POST' && next) await settleDecision(settings.table, id, item.attempt ?? '', next);
      if (settlement.kind === 'decided') return alreadyDecided(settlement.record);
      if (settlement.kind === 'ended') return endedPage(item, settlement.ending, method === 'POST', attempt);
      return unknownPage(attempt, false);
    }
  } else if (item.state !== 'PENDING') {
    return decidedPage(item);
  }
  // No answer is pending or unconfirmed: an expired link (or approval) asks for nothing.
  if (linkFields.expires * 1000 <= now || item.expiresAt * 1000 <= now) {
    return refuse(
      410,
      'Link expired',
      'This approval link has expired; the deployment did not wait any longer.',
    );
  }

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
        note,
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
  // Written down before Step Functions hears it, so no outcome can go unrecorded.
  const attempt = randomUUID();
  const claimed = await claimDecision(settings.table, id, {
    record,
    attempt,
    nowSeconds: Math.floor(now / 1000),
    ...(replacing !== undefined ? { replacing } : {}),
  });
  const latest = claimed ? undefined : await getApproval(settings.table, id);
  // Our own attempt when the SDK retried an update that took effect: it is ours to send.
  if (!claimed && latest?.attempt !== attempt) {
    if (latest?.state === 'DECIDING' && latest.decision) return unknownPage(latest.decision, false);
    return latest && latest.state !== 'PENDING'
      ? decidedPage(latest)
      : refuse(
          410,
          'Link expired',
          'This approval link has expired; the deployment did not wait any longer.',
        );
  }
  const delivery = await deliverAnswer(
    item.taskToken,
    record.decision === 'approved'
      ? { output: record }
      : { error: APPROVAL_REJECTED, cause: rejectionCause(record) },
  );
  if (delivery.delivery === 'delivered') {
    await settleDecision(settings.table, id, attempt, {
      state: record.decision === 'approved' ? 'APPROVED' : 'REJECTED',
      decision: record,
    });
    logger.info('approval decided', { approvalId: id, decision: record.decision, approver });
    return youDecided(item, record);
  }
  if (delivery.delivery === 'refused') {
    // Step Functions answered the one attempt with a refusal: it did nothing, the link stays usable.
    await settleDecision(settings.table, id, attempt, { state: 'PENDING' });
    logger.error('Step Functions refused the answer', { approvalId: id, error: delivery.error });
    return refuse(
      503,
      'Try again',
      'Step Functions refused your answer for now. Nothing was decided; please try again.',
    );
  }
  // The answer may or may not have arrived: ask the execution, and say only what it says.
  logger.warn('the outcome of an answer is not known', { approvalId: id, error: delivery.error });
  const settlement = await settlementOf(item, record);
  const next = settledState(settlement, record);
  if (next) await settleDecision(settings.table, id, attempt, next);
  if (settlement.kind === 'decided') {
    return sameAnswer(settlement.record, record)
      ? youDecided(item, record)
      : alreadyDecided(settlement.record);
  }
  if (settlement.kind === 'ended') return endedPage(item, settlement.ending, true);
  return unknownPage(record, true);
}
