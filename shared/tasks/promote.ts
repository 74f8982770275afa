import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { PromoteResult } from '../domain/promotion.ts';
import { MAX_PROMOTION_BODY_BYTES, PROMOTE_STATUS, promotionRequestSchema } from '../domain/promotion-api.ts';
import { logger } from '../logger.ts';
import { type PromoteSettings, promoteDeployment } from '../operations/promote.ts';
import { parseWith } from '../validation.ts';
import { jsonBodyOf, jsonReply, verifiedCaller } from './signed-api.ts';

type Response = APIGatewayProxyStructuredResultV2;

export function respondPromote(result: PromoteResult): Response {
  return jsonReply(PROMOTE_STATUS[result.outcome], result);
}

const invalid = (...problems: string[]) => respondPromote({ outcome: 'invalid', problems });

/**
 * Promotes from a terminal (`POST /promotions`, IAM authorization): the app/env's running
 * deployment's current wait ends (operations/promote.ts), with the principal AWS verified
 * (`requestContext.authorizer.iam.userArn`) as who promoted. The body names the app and env and
 * nothing else: a body naming a caller is refused, so no client can speak for anyone.
 */
export async function servePromotion(
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
  settings: PromoteSettings,
  now: Date,
): Promise<Response> {
  const verified = verifiedCaller(event);
  if ('problem' in verified) return invalid(verified.problem);
  const body = jsonBodyOf(event, MAX_PROMOTION_BODY_BYTES);
  if ('problem' in body) return invalid(body.problem);
  const parsed = parseWith(promotionRequestSchema, body.json);
  if (!parsed.ok) return invalid(...parsed.problems);
  const { app, env } = parsed.value;
  const result = await promoteDeployment(settings, app, env, verified.caller, now);
  logger.info('promote', { app, env, by: verified.caller, outcome: result.outcome });
  return respondPromote(result);
}
