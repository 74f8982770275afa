import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/**
 * What the routes with IAM authorization (`POST /decisions`, `POST /promotions`) read of a request
 * before its own rules: the caller AWS verified, and the JSON body.
 */

type Event = APIGatewayProxyEventV2WithIAMAuthorizer;

/** The caller's ARN as API Gateway verified it from the SigV4 signature, or the problem. */
export function verifiedCaller(event: Event): { caller: string } | { problem: string } {
  const caller = event.requestContext?.authorizer?.iam?.userArn;
  if (!caller) return { problem: 'the request carries no IAM identity verified by AWS; sign it with SigV4' };
  return { caller };
}

function bodyOf(event: Event, maxBytes: number): string | undefined {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  return bytes.length > maxBytes ? undefined : bytes.toString('utf8');
}

function contentType(event: Event): string {
  const found = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === 'content-type');
  return found?.[1]?.split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The request's JSON body (a POST of application/json, at most `maxBytes`), or the problem. */
export function jsonBodyOf(event: Event, maxBytes: number): { json: unknown } | { problem: string } {
  if (event.requestContext.http?.method !== 'POST') return { problem: 'the request must be a POST' };
  if (contentType(event) !== 'application/json') return { problem: 'the body must be application/json' };
  const body = bodyOf(event, maxBytes);
  if (body === undefined) return { problem: `the body may be at most ${maxBytes} bytes` };
  try {
    return { json: JSON.parse(body) };
  } catch {
    return { problem: 'the body is not valid JSON' };
  }
}

/** A route's JSON answer, with the status code its kind is sent with, never cached. */
export function jsonReply(statusCode: number, answer: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(answer),
  };
}
