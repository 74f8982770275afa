import { createHash } from 'node:crypto';
import escapeHtml from 'escape-html';
import {
  type ApprovalSummary,
  alarmStateText,
  alarmsAsOf,
  type DecisionRecord,
  MAX_COMMENT,
  STAGE_TITLES,
  stakeRows,
} from './approval.ts';
import {
  aheadLines,
  approvalTitle,
  ONE_ANSWER,
  otherApprovers,
  readableTime,
  rejectLine,
  rollbackWords,
  unansweredLine,
} from './approval-stakes.ts';
import { oneLine } from './text.ts';

/**
 * The approver's pages. Every interpolated value goes through escape-html; the pages load nothing
 * (no script, no third-party asset), the one stylesheet is inline and allowed by its hash, and the
 * form works without JavaScript.
 */

class Html {
  constructor(readonly text: string) {}
}

/** A template whose interpolations are escaped unless they are already Html. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    const rendered = Array.isArray(value)
      ? value.map((v) => (v instanceof Html ? v.text : escapeHtml(String(v)))).join('')
      : value instanceof Html
        ? value.text
        : escapeHtml(String(value ?? ''));
    out += rendered + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}textarea{width:100%;box-sizing:border-box;min-height:5rem;font:inherit}
.actions{display:flex;gap:1rem;margin-top:1rem}button{font:inherit;padding:.5rem 1.25rem;border-radius:.3rem;border:1px solid #888;cursor:pointer}
.approve{background:#1a7f37;color:#fff;border-color:#1a7f37}.reject{background:#cf222e;color:#fff;border-color:#cf222e}
.as{background:#f6f8fa;padding:.5rem .75rem;border-radius:.3rem}.status{font-size:1.2rem;font-weight:600}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}ul,ol{margin:.25rem 0;padding-left:1.5rem}.name{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
.state{font-weight:600;padding:0 .4rem;border-radius:.25rem}.OK{background:#dafbe1;color:#116329}.ALARM{background:#ffebe9;color:#a40e26}
.INSUFFICIENT_DATA,.MISSING{background:#fff8c5;color:#7d4e00}blockquote{margin:.5rem 0;padding:.25rem .75rem;border-left:.25rem solid #d0d7de;white-space:pre-wrap;overflow-wrap:anywhere}`;

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

export const SECURITY_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

function page(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${title}</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
${body}
</body>
</html>
`.text;
}

export interface FormFields {
  approver: string;
  expires: string;
  signature: string;
}

/** The watched alarms with their state when approval was asked. */
function alarmsSection(summary: ApprovalSummary): Html | string {
  if (!summary.alarms) return '';
  const items = summary.alarms.map(
    (alarm) =>
      html`<li><span class="name">${oneLine(alarm.name)}</span> <span class="state ${alarm.state}">${alarmStateText(alarm.state)}</span></li>
`,
  );
  return html`<h2>Watched alarms</h2>
<p>As read from CloudWatch: ${alarmsAsOf(summary)}.</p>
${
  summary.alarms.length === 0
    ? html`<p>None: the config watches no alarm.</p>`
    : html`<ul>
${items}${
  summary.alarmsNotShown
    ? html`<li>and ${summary.alarmsNotShown} more</li>
`
    : ''
}</ul>`
}`;
}

/** Who else is asked, and that the first answer decides. */
function approversSection(approvers: readonly string[], you: string): Html {
  const others = otherApprovers(approvers, you);
  return html`<h2>Approvers</h2>
<p class="as">You are acting as <strong>${you}</strong>.</p>
${
  others.length === 0
    ? html`<p>You are the only approver.</p>`
    : html`<p>Also asked:</p>
<ul>
${others.map(
  (other) => html`<li class="name">${other}</li>
`,
)}</ul>
<p>${ONE_ANSWER}</p>`
}`;
}

export interface PageContext {
  /** Everyone asked (the approval's record); the acting approver is left out of "also asked". */
  approvers?: readonly string[];
  /** What became of an earlier answer, when one was sent and never arrived. */
  note?: string;
}

/**
 * GET: the summary, what each answer (and none) does, who else is asked, and the two buttons.
 * Changes nothing.
 */
export function confirmationPage(
  summary: ApprovalSummary,
  fields: FormFields,
  context: PageContext = {},
): string {
  const what = STAGE_TITLES[summary.stage];
  const title = approvalTitle(summary);
  const ahead = aheadLines(summary);
  return page(
    title,
    html`<h1>${title}</h1>
<p>The deployment is waiting for approval to <strong>${what}</strong>.</p>
${context.note ? html`<p class="as">${context.note}</p>` : ''}
<dl>
<dt>App / env</dt><dd>${summary.app} / ${summary.env}</dd>
<dt>Version</dt><dd>${summary.version}</dd>
${stakeRows(summary, (text) => text).map(
  ([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>
`,
)}<dt>AMI</dt><dd>${summary.amiId}</dd>
<dt>Green health</dt><dd>${summary.greenHealth}</dd>
<dt>Weights now</dt><dd>${summary.weights}</dd>
<dt>Requested</dt><dd>${readableTime(summary.requestedAt)}</dd>
${
  summary.deadline
    ? html`<dt>Answer by</dt><dd>${readableTime(summary.deadline)}</dd>
`
    : ''
}<dt>Execution</dt><dd><a href="${summary.executionUrl}" rel="noreferrer noopener">${summary.deploymentId}</a></dd>
</dl>
${alarmsSection(summary)}
${
  ahead.length > 0
    ? html`<h2>If you approve</h2>
<ul>
${ahead.map(
  (line) => html`<li>${line}</li>
`,
)}</ul>`
    : ''
}
<h2>If you reject</h2>
<p>${rejectLine(summary)}</p>
<h2>If nobody answers</h2>
<p>${unansweredLine(summary)}</p>
${approversSection(context.approvers ?? [fields.approver], fields.approver)}
<form method="post">
<input type="hidden" name="approver" value="${fields.approver}">
<input type="hidden" name="expires" value="${fields.expires}">
<input type="hidden" name="signature" value="${fields.signature}">
<label for="comment">Comment (optional)</label>
<textarea id="comment" name="comment" maxlength="${MAX_COMMENT}"></textarea>
<div class="actions">
<button class="approve" type="submit" name="decision" value="approve">Approve</button>
<button class="reject" type="submit" name="decision" value="reject">Reject</button>
</div>
</form>`,
  );
}

/**
 * After the approver's own answer was taken: the decision, their comment, what happens now, and
 * the execution in the Step Functions console to follow it.
 */
export function decidedPage(summary: ApprovalSummary, record: DecisionRecord): string {
  const what = `${summary.app}/${summary.env} ${summary.version}`;
  const approved = record.decision === 'approved';
  const title = approved ? 'Approved' : 'Rejected';
  const then = approved ? 'The deployment continues.' : 'The deployment rolls back.';
  return page(
    title,
    html`<h1>${title}</h1>
<p class="status">You ${record.decision} ${what}. ${then}</p>
<p>Answered by <strong>${record.approver}</strong> at ${readableTime(record.at)}.</p>
${
  record.comment
    ? html`<p>Your comment:</p>
<blockquote>${record.comment}</blockquote>`
    : html`<p>You left no comment.</p>`
}
${approved ? '' : html`<p>What happens now: ${rollbackWords(summary)}</p>`}
<p>Follow the deployment in the Step Functions console: <a href="${summary.executionUrl}" rel="noreferrer noopener">${summary.deploymentId}</a></p>`,
  );
}

/** Every other answer: a title and a sentence, never a stack trace. */
export function messagePage(title: string, message: string, detail?: string): string {
  return page(
    title,
    html`<h1>${title}</h1>
<p class="status">${message}</p>
${detail ? html`<p>${detail}</p>` : ''}`,
  );
}
