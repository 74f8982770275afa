import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ApprovalItem, getApproval, recordDecision, setState } from '../aws/dynamodb.ts';
import { signingKey } from '../aws/secrets.ts';
import { sendTaskFailure, sendTaskSuccess } from '../aws/sfn.ts';
import {
  APPROVAL_REJECTED,
  type DecisionRecord,
  decisionFormSchema,
  ID_PATTERN,
  type LinkFields,
  linkParamsSchema,
  normalizeApprover,
  rejectionCause,
  verifyLink,
} from '../domain/approval.ts';
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

function decidedPage(item: ApprovalItem): Response {
  const d = item.decision;
  if (item.state === 'EXPIRED' || !d) {
    return refuse(410, 'Approval expired', 'This approval is no longer waiting for an answer.');
  }
  return refuse(
    409,
    'Already decided',
    `This deployment was already ${d.decision} by ${d.approver} at ${d.at}.`,
    d.comment ? `Comment: ${quoted(d.comment)}` : undefined,
  );
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

  let fields: Record<string, string>;
  if (method === 'POST') {
    const type = header(event, 'content-type').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      return refuse(415, 'Unsupported form', 'Use the buttons on the approval page.');
    }
    const body = bodyOf(event);
    if (typeof body !== 'string') return body;
    fields = Object.fromEntries(new URLSearchParams(body));
  } else {
    fields = { ...(event.queryStringParameters ?? {}) } as Record<string, string>;
  }

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
  if (linkFields.expires * 1000 <= now) {
    return refuse(
      410,
      'Link expired',
      'This approval link has expired; the deployment did not wait any longer.',
    );
  }
  const item = await getApproval(settings.table, id);
  if (!item) return refuse(404, 'No such approval', 'This approval no longer exists.');
  const approver = normalizeApprover(linkFields.approver);
  if (!item.approvers.map(normalizeApprover).includes(approver)) {
    return refuse(403, 'Not an approver', `${approver} may not decide on this deployment.`);
  }
  if (item.state !== 'PENDING') return decidedPage(item);
  if (item.expiresAt * 1000 <= now) {
    return refuse(
      410,
      'Link expired',
      'This approval link has expired; the deployment did not wait any longer.',
    );
  }

  if (method === 'GET') {
    return respond(
      200,
      confirmationPage(item.summary, {
        approver,
        expires: link.value.expires,
        signature: link.value.signature,
      }),
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
  if (!(await recordDecision(settings.table, id, record, Math.floor(now / 1000)))) {
    const latest = await getApproval(settings.table, id);
    return latest && latest.state !== 'PENDING'
      ? decidedPage(latest)
      : refuse(
          410,
          'Link expired',
          'This approval link has expired; the deployment did not wait any longer.',
        );
  }
  let delivered: boolean;
  try {
    delivered =
      record.decision === 'approved'
        ? await sendTaskSuccess(item.taskToken, record)
        : await sendTaskFailure(item.taskToken, APPROVAL_REJECTED, rejectionCause(record));
  } catch (error) {
    // Step Functions did not take the answer: make the link usable again.
    await setState(settings.table, id, 'PENDING');
    logger.error('could not resume the execution', { approvalId: id, error });
    return refuse(
      503,
      'Try again',
      'Your answer could not be delivered. Nothing was decided; please try again.',
    );
  }
  if (!delivered) {
    await setState(settings.table, id, 'EXPIRED');
    return refuse(
      410,
      'Approval expired',
      'The deployment stopped waiting before your answer arrived; nothing was changed.',
    );
  }
  logger.info('approval decided', { approvalId: id, decision: record.decision, approver });
  const s = item.summary;
  return record.decision === 'approved'
    ? respond(
        200,
        messagePage('Approved', `You approved ${s.app}/${s.env} ${s.version}. The deployment continues.`),
      )
    : respond(
        200,
        messagePage('Rejected', `You rejected ${s.app}/${s.env} ${s.version}. The deployment rolls back.`),
      );
}
