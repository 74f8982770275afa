import * as v from 'valibot';
import type { SignedPost } from '../aws/signed-request.ts';
import { type PromoteResult, promoteText } from '../domain/promotion.ts';
import { type PromotionRequest, promoteResultSchema } from '../domain/promotion-api.ts';

/**
 * The client half of `bluegreen promote APP ENV`: one signed POST to the stack's promotion API
 * (output PromotionApiUrl), and its answer as a typed result with the line the command prints.
 * Who promotes is not sent: it is the IAM identity whose credentials sign the request, as AWS
 * verifies it; the promote itself runs in the service's function.
 */

export interface PromoteFromTerminalInput {
  /** The stack output PromotionApiUrl. */
  url: string;
  app: string;
  env: string;
}

export type TerminalPromotion =
  /** The service's answer: what the promote did, or why it did nothing. */
  | { kind: 'answered'; result: PromoteResult }
  /**
   * Not the service's answer: AWS refused the request before it (no execute-api:Invoke on the
   * route, unsigned, expired credentials), the URL is not the promotion API, or the service failed.
   */
  | { kind: 'refused'; status: number; message: string };

/** AWS's own refusals carry `message` (or `Message`); anything else is shown as it came, cut short. */
function refusal(status: number, body: string): TerminalPromotion {
  let message = body.slice(0, 300);
  try {
    const parsed = JSON.parse(body) as { message?: unknown; Message?: unknown };
    const said = parsed.message ?? parsed.Message;
    if (typeof said === 'string') message = said;
  } catch {
    // Not JSON: the text as it came.
  }
  return { kind: 'refused', status, message: message || `HTTP ${status}` };
}

/** Reads the reply: the service's answer when it is one, else AWS's refusal. */
export function readPromotionReply(status: number, body: string): TerminalPromotion {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return refusal(status, body);
  }
  const parsed = v.safeParse(promoteResultSchema, json);
  return parsed.success
    ? { kind: 'answered', result: parsed.output as PromoteResult }
    : refusal(status, body);
}

/** The promote's result as the command prints it (one line). */
export function terminalPromotionText(promotion: TerminalPromotion, app: string, env: string): string {
  return promotion.kind === 'answered'
    ? promoteText(promotion.result, app, env)
    : `nothing promoted: refused (HTTP ${promotion.status}): ${promotion.message}`;
}

/** Promotes the app/env's running deployment as the identity `post` signs with. */
export async function promoteFromTerminal(
  input: PromoteFromTerminalInput,
  post: SignedPost,
): Promise<TerminalPromotion & { text: string }> {
  const request: PromotionRequest = { app: input.app, env: input.env };
  const reply = await post(input.url, request);
  const promotion = readPromotionReply(reply.status, reply.body);
  return { ...promotion, text: terminalPromotionText(promotion, input.app, input.env) };
}
