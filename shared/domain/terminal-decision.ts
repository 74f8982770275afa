import * as v from 'valibot';
import { type ApprovalStage, type ApprovalSummary, commentSchema, type DecisionRecord } from './approval.ts';
import { NAME_PATTERN, VERSION_PATTERN } from './artifact-key.ts';

/**
 * The decision API an approver calls from a terminal (`bluegreen approve|reject APP ENV`): one
 * route, `POST /decisions`, with IAM authorization, so the approver is the IAM identity AWS
 * verified from the request's SigV4 signature, never a name the client sends. Its request and
 * its answers are stated here once, for the service and for the client.
 */

export const DECISIONS_PATH = '/decisions';

/** Larger bodies are refused before they are parsed. */
export const MAX_DECISION_BODY_BYTES = 8192;

export const decisionRequestSchema = v.strictObject({
  app: v.pipe(v.string(), v.regex(NAME_PATTERN, 'must be an app name such as web')),
  env: v.pipe(v.string(), v.regex(NAME_PATTERN, 'must be an environment name such as prod')),
  /** `show` decides nothing: it says which approval waits, for the caller to name it in its answer. */
  decision: v.picklist(['approve', 'reject', 'show'], 'must be approve, reject or show'),
  /**
   * The approval the caller means, as `show` named it: an answer is taken only while this release
   * and stage wait, so it never decides another approval that came meanwhile (or, replayed, a
   * later one). An answer without them takes whatever waits.
   */
  version: v.optional(
    v.pipe(v.string(), v.regex(VERSION_PATTERN, 'must be a release version such as 1.2.0')),
  ),
  stage: v.optional(
    v.picklist(['traffic-shift', 'blue-termination'], 'must be traffic-shift or blue-termination'),
  ),
  comment: commentSchema,
});

export type DecisionRequest = v.InferInput<typeof decisionRequestSchema>;

/** The deployment an answer is about, as the approval summary names it. */
export interface DecisionDeployment {
  app: string;
  env: string;
  version: string;
  stage: ApprovalStage;
  executionUrl: string;
}

/** What the service answers; `result` says which, the status code agrees. */
export type DecisionResponse =
  /** The deployment received this answer, given by `approver` (the verified principal). */
  | ({ result: 'decided'; deployment: DecisionDeployment } & DecisionRecord)
  /** An earlier answer decided (by link or from a terminal); this one was not used. */
  | ({ result: 'decided-already'; deployment: DecisionDeployment } & DecisionRecord)
  /** `show`: this approval waits for an answer; nothing was decided. */
  | { result: 'waiting'; deployment: DecisionDeployment }
  /** Another approval waits than the one the answer named: nothing was decided. */
  | {
      result: 'not-this-approval';
      deployment: DecisionDeployment;
      asked: { version?: string; stage?: string };
    }
  /** The caller is not one of the config's IAM approvers: nothing was decided. */
  | { result: 'not-an-approver'; principal: string; app: string; env: string }
  /** No approval waits for an answer (none was requested, it timed out, the deployment ended). */
  | { result: 'nothing-waiting'; reason: string; deployment?: DecisionDeployment }
  /** An answer was sent and Step Functions did not confirm it: ask again in a minute. */
  | { result: 'not-known'; reason: string; deployment?: DecisionDeployment }
  /** Step Functions refused the answer for now: nothing was decided, try again. */
  | { result: 'try-again'; reason: string; deployment: DecisionDeployment }
  /** The request could not be read, or carries no verified identity: nothing was decided. */
  | { result: 'bad-request'; problems: string[] };

export type DecisionResult = DecisionResponse['result'];

/** The HTTP status each answer is sent with. */
export const DECISION_STATUS: Record<DecisionResult, number> = {
  decided: 200,
  waiting: 200,
  'not-this-approval': 409,
  'decided-already': 409,
  'not-an-approver': 403,
  'nothing-waiting': 404,
  'not-known': 503,
  'try-again': 503,
  'bad-request': 400,
};

export function deploymentOf(summary: ApprovalSummary): DecisionDeployment {
  const { app, env, version, stage, executionUrl } = summary;
  return { app, env, version, stage, executionUrl };
}

const deploymentSchema = v.object({
  app: v.string(),
  env: v.string(),
  version: v.string(),
  stage: v.picklist(['traffic-shift', 'blue-termination']),
  executionUrl: v.string(),
});

const recordEntries = {
  deployment: deploymentSchema,
  stage: v.picklist(['traffic-shift', 'blue-termination']),
  decision: v.picklist(['approved', 'rejected']),
  approver: v.string(),
  comment: v.string(),
  at: v.string(),
};

/** The service's answers as the client reads them (anything else is not the service speaking). */
export const decisionResponseSchema = v.variant('result', [
  v.object({ result: v.literal('decided'), ...recordEntries }),
  v.object({ result: v.literal('decided-already'), ...recordEntries }),
  v.object({ result: v.literal('waiting'), deployment: deploymentSchema }),
  v.object({
    result: v.literal('not-this-approval'),
    deployment: deploymentSchema,
    asked: v.object({ version: v.optional(v.string()), stage: v.optional(v.string()) }),
  }),
  v.object({ result: v.literal('not-an-approver'), principal: v.string(), app: v.string(), env: v.string() }),
  v.object({
    result: v.literal('nothing-waiting'),
    reason: v.string(),
    deployment: v.optional(deploymentSchema),
  }),
  v.object({ result: v.literal('not-known'), reason: v.string(), deployment: v.optional(deploymentSchema) }),
  v.object({ result: v.literal('try-again'), reason: v.string(), deployment: deploymentSchema }),
  v.object({ result: v.literal('bad-request'), problems: v.array(v.string()) }),
]);
