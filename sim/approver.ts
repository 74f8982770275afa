import { signedPost } from '#shared/aws/signed-request.ts';
import { decideFromTerminal, type TerminalDecision } from '#shared/operations/decide-from-terminal.ts';
import type { SimIdentity } from './aws/iam.ts';
import { approverPolicy, DECISION_API_URL, type DecisionHandler, decisionApiFetch } from './decision-api.ts';
import type { HttpHandler, HttpRequest, HttpResponse } from './http.ts';
import { callHttp } from './http.ts';
import type { PolicyDocument } from './iam/template.ts';
import type { World } from './world.ts';

/** How the simulated people (and mail scanners) treat approval links. */
export type ApproverBehaviour =
  | { kind: 'approve' | 'reject'; afterMinutes: number; comment: string }
  | { kind: 'prefetch' }
  | { kind: 'ignore' };

export interface HttpExchange {
  at: number;
  request: HttpRequest;
  status: number;
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/** The hidden fields of the approval page's form, as a browser would submit them. */
export function formFields(page: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of page.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) {
    fields[match[1] ?? ''] = (match[2] ?? '').replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e] ?? e);
  }
  return fields;
}

export function approvalLinks(message: string): string[] {
  return [...message.matchAll(/https?:\/\/\S+\/approvals\/\S+/g)].map((m) => m[0]);
}

/**
 * Reads every approval request published to SNS and acts on its link through the real HTTP
 * handler: an approver opens the page (GET) and presses a button (POST of the page's own form);
 * a link scanner fetches every link the moment it is delivered and presses nothing.
 */
export function simulateApprovers(
  world: World,
  handler: () => HttpHandler,
  behaviour: ApproverBehaviour,
  onExchange: (exchange: HttpExchange) => void = () => undefined,
): HttpExchange[] {
  const exchanges: HttpExchange[] = [];
  const call = async (request: HttpRequest): Promise<HttpResponse> => {
    const response = await callHttp(handler(), request);
    const exchange = { at: world.now(), request, status: response.status };
    exchanges.push(exchange);
    onExchange(exchange);
    return response;
  };
  // The first approver to read each request answers it (one answer per approval id).
  const answered = new Set<string>();
  world.sns.subscribers.push((message) => {
    if (message.attributes.kind !== 'approval-request') return;
    const [url] = approvalLinks(message.message);
    if (!url) return;
    if (behaviour.kind === 'prefetch') {
      setTimeout(() => {
        void call({ method: 'HEAD', url, headers: { 'user-agent': 'SafeLinks-Scanner/1.0' } });
        void call({ method: 'GET', url, headers: { 'user-agent': 'SafeLinks-Scanner/1.0' } });
      }, 2_000);
      return;
    }
    const id = new URL(url).pathname;
    if (behaviour.kind === 'ignore' || answered.has(id)) return;
    answered.add(id);
    setTimeout(async () => {
      const page = await call({
        method: 'GET',
        url,
        headers: { 'user-agent': 'Mozilla/5.0 (simulated approver)' },
      });
      if (page.status !== 200) return;
      const form = new URLSearchParams({
        ...formFields(page.body),
        decision: behaviour.kind,
        comment: behaviour.comment,
      });
      await call({
        method: 'POST',
        url: url.split('?')[0] ?? url,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'user-agent': 'Mozilla/5.0 (simulated approver)',
        },
        body: form.toString(),
      });
    }, behaviour.afterMinutes * 60_000);
  });
  return exchanges;
}

/** Someone who answers from a terminal (`bluegreen approve|reject`), signing as an IAM identity. */
export interface TerminalAnswer {
  /** A session of this role (`session` names it), or this user. */
  as: { role: string; session: string } | { user: string };
  decision: 'approve' | 'reject';
  /** Minutes after the approval request was published. */
  afterMinutes: number;
  comment?: string;
  /** The release the approver means to answer (`bluegreen approve --version`); default: what waits. */
  version?: string;
  /** The identity's policies (default: the README's approver policy). */
  policies?: PolicyDocument[];
  /** Told what the command would have printed. */
  onResult?: (result: TerminalDecision) => void;
}

/**
 * Reads every approval request for terminal approvers published to SNS and, for each, has each
 * answer of `answers` given through the client function the command calls: a request signed with
 * the identity's credentials, served as API Gateway would (signature, IAM, then the real handler).
 */
export function simulateTerminalApprovers(
  world: World,
  handler: () => DecisionHandler,
  answers: readonly TerminalAnswer[],
  inFlight: <T>(work: () => Promise<T>) => Promise<T> = (work) => work(),
): void {
  const identities = answers.map((answer) => {
    const policies = answer.policies ?? [approverPolicy()];
    return 'role' in answer.as
      ? world.iam.assumeRole(answer.as.role, answer.as.session, policies)
      : world.iam.user(answer.as.user, policies);
  });
  world.sns.subscribers.push((message) => {
    if (message.attributes.kind !== 'approval-request' || message.attributes.approver !== 'terminal') return;
    const { app = '', env = '' } = message.attributes;
    answers.forEach((answer, i) => {
      const post = signedPost(world.region, identities[i] as SimIdentity, decisionApiFetch(world, handler));
      setTimeout(async () => {
        const input = {
          url: DECISION_API_URL,
          app,
          env,
          decision: answer.decision,
          ...(answer.comment !== undefined ? { comment: answer.comment } : {}),
          ...(answer.version !== undefined ? { version: answer.version } : {}),
        };
        // Answered in one virtual moment, as a page's button is.
        const result = await inFlight(() => decideFromTerminal(input, post));
        answer.onResult?.(result);
      }, answer.afterMinutes * 60_000);
    });
  });
}
