import { createHash } from 'node:crypto';
import escapeHtml from 'escape-html';
import { type ApprovalSummary, MAX_COMMENT, STAGE_TITLES, stakeRows } from './approval.ts';

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
.as{background:#f6f8fa;padding:.5rem .75rem;border-radius:.3rem}.status{font-size:1.2rem;font-weight:600}`;

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

/**
 * GET: the summary, who the approver acts as, and the two buttons. Changes nothing. `note`: what
 * became of an earlier answer, when one was sent and never arrived.
 */
export function confirmationPage(summary: ApprovalSummary, fields: FormFields, note?: string): string {
  const what = STAGE_TITLES[summary.stage];
  return page(
    `Approve ${summary.app}/${summary.env} ${summary.version}?`,
    html`<h1>Approve ${summary.app}/${summary.env} ${summary.version}?</h1>
<p>The deployment is waiting for approval to <strong>${what}</strong>.</p>
${note ? html`<p class="as">${note}</p>` : ''}
<dl>
<dt>App / env</dt><dd>${summary.app} / ${summary.env}</dd>
<dt>Version</dt><dd>${summary.version}</dd>
${stakeRows(summary, (text) => text).map(
  ([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>
`,
)}<dt>AMI</dt><dd>${summary.amiId}</dd>
<dt>Green health</dt><dd>${summary.greenHealth}</dd>
<dt>Weights now</dt><dd>${summary.weights}</dd>
<dt>Requested</dt><dd>${summary.requestedAt}</dd>
<dt>Execution</dt><dd><a href="${summary.executionUrl}" rel="noreferrer noopener">${summary.deploymentId}</a></dd>
</dl>
<p class="as">You are acting as <strong>${fields.approver}</strong>.</p>
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

/** Every other answer: a title and a sentence, never a stack trace. */
export function messagePage(title: string, message: string, detail?: string): string {
  return page(
    title,
    html`<h1>${title}</h1>
<p class="status">${message}</p>
${detail ? html`<p>${detail}</p>` : ''}`,
  );
}
