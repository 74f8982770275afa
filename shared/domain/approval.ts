import { createHmac, timingSafeEqual } from 'node:crypto';
import * as v from 'valibot';
import { CALLBACK_ERRORS } from '../errors.ts';
import {
  aheadLines,
  approvalTitle,
  ONE_ANSWER,
  otherApprovers,
  readableTime,
  rejectLine,
  unansweredLine,
} from './approval-stakes.ts';
import { isIamApprover } from './principal.ts';
import { quoted } from './text.ts';
import type { Slot } from './traffic.ts';

/**
 * Approval links. A link names an approval by an opaque id and carries the approver, an expiry and
 * an HMAC-SHA256 over the three, keyed by a secret only the service holds. The Step Functions task
 * token stays in the approvals table: it never appears in a URL, a page or a log line.
 */

export const APPROVAL_STAGES = ['traffic-shift', 'blue-termination'] as const;
export type ApprovalStage = (typeof APPROVAL_STAGES)[number];

export const STAGE_TITLES: Record<ApprovalStage, string> = {
  'traffic-shift': 'shift traffic to the new release',
  'blue-termination': 'terminate the previous fleet',
};

/** The error SendTaskFailure reports when an approver rejects. */
export const APPROVAL_REJECTED = CALLBACK_ERRORS.approvalRejected;

export const ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export const MAX_COMMENT = 1000;

function hmac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('base64url');
}

/** The approval's id: derived from the token so a retried request task writes the same record. */
export function approvalId(key: Buffer, taskToken: string): string {
  return hmac(key, `approval-id\u0000${taskToken}`).slice(0, 32);
}

export interface LinkFields {
  id: string;
  approver: string;
  /** Expiry, seconds since the epoch. */
  expires: number;
}

export function normalizeApprover(email: string): string {
  return email.trim().toLowerCase();
}

/** A config's approver as records name it: an email address normalized, an IAM principal's ARN as written. */
export function approverName(approver: string): string {
  return isIamApprover(approver) ? approver : normalizeApprover(approver);
}

export function signLink(key: Buffer, link: LinkFields): string {
  return hmac(
    key,
    `approval-link\u0000${link.id}\u0000${normalizeApprover(link.approver)}\u0000${link.expires}`,
  );
}

/**
 * Constant-time check of a link's signature. The strings are compared, not the bytes they decode
 * to: 43 base64url characters hold 258 bits for the HMAC's 256, and a decoder ignores the last
 * character's two spare bits, so four strings would decode to the same bytes. Only the canonical
 * encoding (the one signLink writes) verifies.
 */
export function verifyLink(key: Buffer, link: LinkFields, signature: string): boolean {
  if (!SIGNATURE_PATTERN.test(signature)) return false;
  const expected = Buffer.from(signLink(key, link), 'ascii');
  const given = Buffer.from(signature, 'ascii');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function linkUrl(baseUrl: string, key: Buffer, link: LinkFields): string {
  const query = new URLSearchParams({
    approver: normalizeApprover(link.approver),
    expires: String(link.expires),
    signature: signLink(key, link),
  });
  return `${baseUrl.replace(/\/+$/, '')}/approvals/${link.id}?${query}`;
}

/** The link's fields as they arrive in a query string or a form. */
const linkShape = {
  approver: v.pipe(v.string(), v.rfcEmail('must be an email address'), v.maxLength(254)),
  expires: v.pipe(v.string(), v.regex(/^\d{10}$/, 'must be a time in seconds')),
  signature: v.pipe(v.string(), v.regex(SIGNATURE_PATTERN, 'is malformed')),
};
export const linkParamsSchema = v.object(linkShape);

/** An approver's comment, by link or from a terminal: trimmed, at most MAX_COMMENT characters. */
export const commentSchema = v.optional(
  v.pipe(
    v.string(),
    v.maxLength(MAX_COMMENT, `must be at most ${MAX_COMMENT} characters`),
    v.transform((c) => c.trim()),
  ),
  '',
);

export const decisionFormSchema = v.object({
  ...linkShape,
  decision: v.picklist(['approve', 'reject'], 'must be approve or reject'),
  comment: commentSchema,
});

/** The fields a link's query string carries, and the fields the page's form posts. */
export const LINK_FIELDS = ['approver', 'expires', 'signature'] as const;
export const FORM_FIELDS = [...LINK_FIELDS, 'decision', 'comment'] as const;

function fieldName(name: string): string {
  return name === '' ? 'an unnamed field' : `"${name}"`;
}

/**
 * A query string or form as one value per field, refusing a field that is repeated (which one
 * would count? `decision=reject&decision=approve` must not be read as either) or not one of
 * `allowed`. The problem names the field as sent; the page escapes it.
 */
export function strictFields(
  pairs: Iterable<[string, string]>,
  allowed: readonly string[],
): { ok: true; fields: Record<string, string> } | { ok: false; problem: string } {
  const fields: Record<string, string> = {};
  for (const [name, value] of pairs) {
    if (!allowed.includes(name))
      return { ok: false, problem: `${fieldName(name)} is not a field of this form` };
    if (Object.hasOwn(fields, name))
      return { ok: false, problem: `${fieldName(name)} was sent more than once` };
    fields[name] = value;
  }
  return { ok: true, fields };
}

/**
 * PENDING: waits for an answer. DECIDING: an answer was recorded and sent, and its outcome is not
 * confirmed yet (see approval-outcome.ts). APPROVED / REJECTED: the deployment received that answer.
 * EXPIRED: the deployment no longer waits (timed out, stopped, ended) and received no answer.
 */
export type ApprovalState = 'PENDING' | 'DECIDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';

/** A watched alarm's state when approval was asked; MISSING: CloudWatch has no alarm of that name. */
export type WatchedAlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'MISSING';
export interface WatchedAlarm {
  name: string;
  state: WatchedAlarmState;
}

/** At most this many alarms are kept in a summary (the config's own limit); the rest are counted. */
export const MAX_SUMMARY_ALARMS = 100;
/** An alarm name is at most 255 characters (CloudWatch's and the config's limit). */
export const MAX_ALARM_NAME = 255;

/** What follows an approval, from the plan: the traffic steps, the termination window, a second approval. */
export interface PlanAhead {
  /** The slot blue serves from; null on a first deploy. */
  blue: Slot | null;
  green: Slot;
  /** Percent on green after each step, and how long each step is watched. */
  steps: { percent: number; settleSeconds: number }[];
  /** How long blue stays up once green carries everything; null when there is no blue. */
  windowSeconds: number | null;
  /** Whether an approval to terminate blue follows the window. */
  terminationApproval: boolean;
}

/**
 * What an approver sees: a plain summary of the deployment they are asked about. The fields added
 * since the first release are optional: an approval stored before them still shows.
 */
export interface ApprovalSummary {
  app: string;
  env: string;
  version: string;
  deploymentId: string;
  stage: ApprovalStage;
  amiId: string;
  greenHealth: string;
  weights: string;
  executionUrl: string;
  requestedAt: string;
  /** The version serving traffic (blue's), with its slot; absent on a first deploy or when unknown. */
  liveVersion?: { version: string; slot: Slot };
  /** The version asked about (green's), with its slot. */
  replacingVersion?: { version: string; slot: Slot };
  /** Where the release came from, as Plan read it: one line each, bounded (text from people). */
  uploadedBy?: string;
  commit?: string;
  changes?: string;
  /** When the wait ends unanswered: the approval state's timeout (and the links' expiry). */
  deadline?: string;
  /** The watched alarms in the config's order, at most MAX_SUMMARY_ALARMS; their state when asked. */
  alarms?: WatchedAlarm[];
  /** How many watched alarms are beyond MAX_SUMMARY_ALARMS. */
  alarmsNotShown?: number;
  ahead?: PlanAhead;
  /** Blue-termination: since when green has carried all traffic (the termination window's start). */
  greenAllSince?: string;
}

/**
 * The watched alarms with their state, bounded: names kept as CloudWatch has them (each rendering
 * escapes once: the email quotes, the page writes one line), cut to MAX_ALARM_NAME characters.
 */
export function watchedAlarms(
  names: readonly string[],
  found: ReadonlyMap<string, { state: Exclude<WatchedAlarmState, 'MISSING'> }>,
): Pick<ApprovalSummary, 'alarms' | 'alarmsNotShown'> {
  const alarms = names.slice(0, MAX_SUMMARY_ALARMS).map((name) => ({
    name: Array.from(name).slice(0, MAX_ALARM_NAME).join(''),
    state: found.get(name)?.state ?? ('MISSING' as const),
  }));
  const rest = names.length - alarms.length;
  return { alarms, ...(rest > 0 ? { alarmsNotShown: rest } : {}) };
}

/** A version with the slot it runs in: `1.0.0 (slot a)`. */
function versionInSlot(running: { version: string; slot: Slot }): string {
  return `${running.version} (slot ${running.slot})`;
}

/** The rows of a summary that say what is at stake, each absent when unknown; people's text quoted. */
export function stakeRows(summary: ApprovalSummary, quote: (text: string) => string): [string, string][] {
  const rows: [string, string | undefined][] = [
    ['Live version', summary.liveVersion && versionInSlot(summary.liveVersion)],
    ['New version', summary.replacingVersion && versionInSlot(summary.replacingVersion)],
    ['Uploaded by', summary.uploadedBy && quote(summary.uploadedBy)],
    ['Commit', summary.commit && quote(summary.commit)],
    ['Changes', summary.changes && quote(summary.changes)],
  ];
  return rows.filter((row): row is [string, string] => row[1] !== undefined);
}

/** What the state of an alarm reads as. */
export function alarmStateText(state: WatchedAlarmState): string {
  return state === 'MISSING' ? 'MISSING (CloudWatch has no alarm of this name)' : state;
}

/** When the alarms' states were read: when approval was asked. */
export function alarmsAsOf(summary: ApprovalSummary): string {
  return `their state when approval was asked, ${readableTime(summary.requestedAt)}`;
}

export interface DecisionRecord {
  stage: ApprovalStage;
  decision: 'approved' | 'rejected';
  approver: string;
  comment: string;
  at: string;
}

/** A label and its value, as one line of the email. */
function row(label: string, value: string): string {
  return `${`${label}:`.padEnd(14)}${value}`;
}

/**
 * The email's text: what is asked, what is at stake, what each answer (and none) does, and who
 * else is asked. `approvers`: everyone asked; `you`: the one this copy is for (absent for the
 * terminal's message). Every line is one line: people's text (names, notes, alarm names) is quoted.
 */
export function summaryText(
  summary: ApprovalSummary,
  approvers: readonly string[] = [],
  you?: string,
): string {
  const lines = [
    approvalTitle(summary),
    `${summary.app}/${summary.env} ${summary.version} is waiting for approval to ${STAGE_TITLES[summary.stage]}.`,
    '',
    row('AMI', summary.amiId),
    row('Green health', summary.greenHealth),
    row('Weights', summary.weights),
    ...stakeRows(summary, quoted).map(([label, value]) => row(label, value)),
    row('Requested', readableTime(summary.requestedAt)),
    ...(summary.deadline ? [row('Answer by', readableTime(summary.deadline))] : []),
    row('Execution', summary.executionUrl),
  ];
  if (summary.alarms) {
    lines.push('', `Watched alarms (${alarmsAsOf(summary)}):`);
    if (summary.alarms.length === 0) lines.push('  none: the config watches no alarm');
    for (const alarm of summary.alarms) lines.push(`  ${quoted(alarm.name)}: ${alarmStateText(alarm.state)}`);
    if (summary.alarmsNotShown) lines.push(`  and ${summary.alarmsNotShown} more`);
  }
  const ahead = aheadLines(summary);
  if (ahead.length > 0) lines.push('', 'If you approve:', ...ahead.map((line) => `  ${line}`));
  lines.push('', `If you reject: ${rejectLine(summary)}`, '', unansweredLine(summary));
  if (approvers.length > 0) {
    const others = otherApprovers(approvers, you).map(quoted);
    lines.push(
      '',
      others.length === 0
        ? 'You are the only approver.'
        : `${you ? 'Also asked' : 'Asked'}: ${others.join(', ')}. ${ONE_ANSWER}`,
    );
  }
  return lines.join('\n');
}

/** The cause a rejection ends the wait with: who, when, and what they said (quoted, one line). */
export function rejectionCause(record: DecisionRecord): string {
  const said = record.comment ? `: ${quoted(record.comment)}` : ' (no comment)';
  return `rejected by ${quoted(record.approver)} at ${record.at}${said}`;
}
