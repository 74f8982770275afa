import type { HttpHandler, HttpRequest, HttpResponse } from './http.ts';
import { callHttp } from './http.ts';
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
