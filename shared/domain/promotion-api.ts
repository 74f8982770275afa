import * as v from 'valibot';
import { NAME_PATTERN } from './artifact-key.ts';
import type { PromoteResult } from './promotion.ts';

/**
 * The promotion API an operator calls (`bluegreen promote APP ENV`): one route, `POST /promotions`,
 * with IAM authorization, beside the decision API's `POST /decisions`. Who promotes is the IAM
 * identity AWS verified from the request's SigV4 signature, never a name the client sends, and the
 * promote runs in the service's own function: an operator needs execute-api:Invoke on the route,
 * not the tokens of the waits. Its request and its answers are stated here once, for the service
 * and for the client.
 */

export const PROMOTIONS_PATH = '/promotions';

/** Larger bodies are refused before they are parsed. */
export const MAX_PROMOTION_BODY_BYTES = 1024;

export const promotionRequestSchema = v.strictObject({
  app: v.pipe(v.string('must be a string'), v.regex(NAME_PATTERN, 'must be an app name such as web')),
  env: v.pipe(
    v.string('must be a string'),
    v.regex(NAME_PATTERN, 'must be an environment name such as prod'),
  ),
});

export type PromotionRequest = v.InferInput<typeof promotionRequestSchema>;

/** The HTTP status each outcome is sent with. */
export const PROMOTE_STATUS: Record<PromoteResult['outcome'], number> = {
  promoted: 200,
  'already-promoted': 200,
  invalid: 400,
  'nothing-running': 404,
  'not-promotable': 409,
  'not-ready': 409,
  'wait-ended': 409,
};

const waitSchema = v.variant('kind', [
  v.object({ kind: v.literal('step'), step: v.number(), of: v.number(), percent: v.number() }),
  v.object({ kind: v.literal('termination-window') }),
]);

const promotionSchema = v.object({
  by: v.string(),
  at: v.string(),
  wait: waitSchema,
  waitEndsAt: v.optional(v.string()),
});

const running = { deployment: v.string(), executionArn: v.string() };

/** The service's answers as the client reads them (anything else is not the service speaking). */
export const promoteResultSchema = v.variant('outcome', [
  v.object({ outcome: v.literal('invalid'), problems: v.array(v.string()) }),
  v.object({
    outcome: v.literal('nothing-running'),
    lock: v.string(),
    ended: v.optional(v.object({ ...running, status: v.string() })),
  }),
  v.object({
    outcome: v.picklist(['promoted', 'already-promoted']),
    ...running,
    promotion: promotionSchema,
    state: v.optional(v.string()),
  }),
  v.object({ outcome: v.literal('not-promotable'), ...running, state: v.optional(v.string()) }),
  v.object({
    outcome: v.literal('not-ready'),
    ...running,
    state: v.string(),
    readyAt: v.optional(v.string()),
  }),
  v.object({
    outcome: v.literal('wait-ended'),
    ...running,
    wait: waitSchema,
    how: v.picklist(['timed-out', 'failed']),
    error: v.optional(v.string()),
  }),
]);
