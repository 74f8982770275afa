import { type Refusal, readReply, type SignedPost } from '../aws/signed-request.ts';
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
  | Refusal;

/** Reads the reply: the service's answer when it is one, else AWS's refusal. */
export function readPromotionReply(status: number, body: string): TerminalPromotion {
  const reply = readReply(status, body, promoteResultSchema);
  return reply.kind === 'refused' ? reply : { kind: 'answered', result: reply.answer as PromoteResult };
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
