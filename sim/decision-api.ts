import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { type Fetch, signer, unsignedPost } from '#shared/aws/signed-request.ts';
import { PROMOTIONS_PATH } from '#shared/domain/promotion-api.ts';
import { DECISIONS_PATH } from '#shared/domain/terminal-decision.ts';
import { decisionEvent } from './http.ts';
import { evaluate } from './iam/evaluate.ts';
import type { PolicyDocument } from './iam/template.ts';
import { ACCOUNT, REGION, type World } from './world.ts';

const API_BASE_URL = `https://simapi.execute-api.${REGION}.amazonaws.com`;
const routeArn = (path: string) => `arn:aws:execute-api:${REGION}:${ACCOUNT}:simapi/$default/POST${path}`;

/** The simulated stack's outputs DecisionApiUrl and DecisionRouteArn. */
export const DECISION_API_URL = `${API_BASE_URL}${DECISIONS_PATH}`;
export const DECISION_ROUTE_ARN = routeArn(DECISIONS_PATH);

/** The simulated stack's outputs PromotionApiUrl and PromotionRouteArn. */
export const PROMOTION_API_URL = `${API_BASE_URL}${PROMOTIONS_PATH}`;
export const PROMOTION_ROUTE_ARN = routeArn(PROMOTIONS_PATH);

/**
 * The identity policy the README gives an approver (examples/approver.policy.json), with the
 * simulated account's names in place of REGION, ACCOUNT, API_ID and STAGE.
 */
export function approverPolicy(): PolicyDocument {
  return examplePolicy('approver.policy.json');
}

/** The identity policy the README gives a promoter (examples/promoter.policy.json), likewise. */
export function promoterPolicy(): PolicyDocument {
  return examplePolicy('promoter.policy.json');
}

function examplePolicy(file: string): PolicyDocument {
  const text = readFileSync(new URL(`../examples/${file}`, import.meta.url), 'utf8');
  return JSON.parse(
    text
      .replaceAll('REGION', REGION)
      .replaceAll('ACCOUNT', ACCOUNT)
      .replaceAll('API_ID', 'simapi')
      .replaceAll('STAGE', 'sim'),
  ) as PolicyDocument;
}

export type DecisionHandler = (
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** How far a request's signing time may be from the clock (API Gateway allows 5 minutes). */
const MAX_SKEW_MS = 5 * 60_000;

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)\/\d{8}\/[a-z0-9-]+\/[a-z-]+\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=[0-9a-f]{64}$/;

function reply(status: number, body: unknown) {
  return { status, text: async () => (typeof body === 'string' ? body : JSON.stringify(body)) };
}

/** `20261202T060000Z` as milliseconds, or undefined. */
function signingTime(text: string): number | undefined {
  const m = text.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  return m
    ? Date.UTC(+(m[1] ?? 0), +(m[2] ?? 1) - 1, +(m[3] ?? 0), +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0))
    : undefined;
}

/** The decision API alone (`POST /decisions`), as approvers call it. */
export function decisionApiFetch(world: World, handler: () => DecisionHandler): Fetch {
  return signedApiFetch(world, { [DECISIONS_PATH]: handler });
}

/**
 * The stack's API routes with IAM authorization (`POST /decisions`, `POST /promotions`: path →
 * its function's handler) as API Gateway serves them, for a client's `fetch`: before the function runs, the
 * SigV4 signature is verified (signed again with the secret of the access key it names: the same
 * signature, or a forgery), the signing time checked, and execute-api:Invoke on the route evaluated
 * against the caller's identity policies (AWS's evaluation logic). Only then is the function
 * called, with the verified caller in `requestContext.authorizer.iam`. Refusals are API Gateway's.
 */
export function signedApiFetch(world: World, routes: Record<string, () => DecisionHandler>): Fetch {
  return async (url, init) => {
    const target = new URL(url);
    const handler = target.origin === API_BASE_URL ? routes[target.pathname] : undefined;
    if (!handler || init.method !== 'POST') return reply(404, { message: 'Not Found' });
    const route = routeArn(target.pathname);
    const headers: Record<string, string> = { host: target.host };
    for (const [name, value] of Object.entries(init.headers)) headers[name.toLowerCase()] = value;
    const auth = (headers.authorization ?? '').match(AUTHORIZATION);
    if (!auth) return reply(403, { message: 'Forbidden' });
    const identity = world.iam.byAccessKey(auth[1] ?? '');
    if (!identity) return reply(403, { message: 'The security token included in the request is invalid.' });
    const signedAt = signingTime(headers['x-amz-date'] ?? '');
    if (signedAt === undefined || Math.abs(world.now() - signedAt) > MAX_SKEW_MS) {
      return reply(403, { message: 'Signature expired or not yet valid.' });
    }
    // The signer takes a given x-amz-content-sha256 as the payload's hash: AWS hashes what arrived.
    const payloadHash = createHash('sha256').update(init.body, 'utf8').digest('hex');
    const claimedHash = headers['x-amz-content-sha256'];
    const request = unsignedPost(url, init.body);
    request.headers = Object.fromEntries((auth[2] ?? '').split(';').map((h) => [h, headers[h] ?? '']));
    delete request.headers.authorization;
    const expected = await signer(REGION, identity).sign(request, { signingDate: new Date(signedAt) });
    if (
      expected.headers.authorization !== headers.authorization ||
      (claimedHash !== undefined && claimedHash !== payloadHash)
    ) {
      return reply(403, {
        message:
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      });
    }
    const allowed = await evaluate(identity.arn, identity.policies, {
      action: 'execute-api:Invoke',
      resource: route,
      context: {},
    });
    if (allowed.decision !== 'Allowed') {
      return reply(403, {
        message: `User: ${identity.arn} is not authorized to perform: execute-api:Invoke on resource: ${route}`,
      });
    }
    const event = decisionEvent(
      { method: init.method, url, headers, body: init.body },
      {
        accessKey: identity.accessKeyId,
        accountId: ACCOUNT,
        callerId: identity.userId,
        cognitoIdentity: null,
        principalOrgId: '',
        userArn: identity.arn,
        userId: identity.userId,
      },
    );
    const result = await handler()(event, { awsRequestId: event.requestContext.requestId } as Context);
    return reply(result.statusCode ?? 200, result.body ?? '');
  };
}
