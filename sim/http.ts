import { createServer, type IncomingMessage, type Server } from 'node:http';
import type {
  APIGatewayEventRequestContextIAMAuthorizer,
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { ACCOUNT } from './world.ts';

export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const ROUTE = /^\/approvals\/([^/]+)$/;
let requests = 0;

/** The event API Gateway (HTTP API, payload 2.0, route `ANY /approvals/{id}`) hands the function. */
/**
 * What every HTTP API event (payload 2.0) of the request carries, on the route `routeKey`: the
 * path, the headers (lower case), the request context, and the body as API Gateway encodes it.
 */
function eventOf(request: HttpRequest, routeKey: string) {
  const url = new URL(request.url, 'http://localhost');
  requests += 1;
  const headers = Object.fromEntries(
    Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const now = Date.now();
  return {
    url,
    event: {
      version: '2.0',
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      headers: { host: url.host, ...headers },
      requestContext: {
        accountId: ACCOUNT,
        apiId: 'simapi',
        domainName: url.host,
        domainPrefix: 'simapi',
        http: {
          method: request.method.toUpperCase(),
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: headers['user-agent'] ?? 'simulated',
        },
        requestId: `sim-http-${requests}`,
        routeKey,
        stage: '$default',
        time: new Date(now).toISOString(),
        timeEpoch: now,
      },
      ...(request.body !== undefined
        ? { body: Buffer.from(request.body).toString('base64'), isBase64Encoded: true }
        : { isBase64Encoded: false }),
    },
  };
}

/** The event API Gateway (HTTP API, payload 2.0, route `ANY /approvals/{id}`) hands the function. */
export function apiGatewayEvent(request: HttpRequest): APIGatewayProxyEventV2 | undefined {
  const match = new URL(request.url, 'http://localhost').pathname.match(ROUTE);
  if (!match) return undefined;
  const { url, event } = eventOf(request, 'ANY /approvals/{id}');
  // API Gateway joins the values of a repeated parameter with commas (rawQueryString keeps them).
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = name in query ? `${query[name]},${value}` : value;
  }
  return {
    ...event,
    ...(url.searchParams.size > 0 ? { queryStringParameters: query } : {}),
    pathParameters: { id: decodeURIComponent(match[1] ?? '') },
  };
}

/**
 * The event of a route with IAM authorization (`POST /decisions`, `POST /promotions`): API Gateway
 * has verified the request's signature and names the caller in `requestContext.authorizer.iam`.
 */
export function decisionEvent(
  request: HttpRequest,
  iam: APIGatewayEventRequestContextIAMAuthorizer['iam'],
): APIGatewayProxyEventV2WithIAMAuthorizer {
  const path = new URL(request.url, 'http://localhost').pathname;
  const { event } = eventOf(request, `POST ${path}`);
  return { ...event, requestContext: { ...event.requestContext, authorizer: { iam } } };
}

/** Calls the function the way API Gateway would; unrouted paths get API Gateway's own 404. */
export async function callHttp(handler: HttpHandler, request: HttpRequest): Promise<HttpResponse> {
  const event = apiGatewayEvent(request);
  if (!event)
    return { status: 404, headers: { 'content-type': 'application/json' }, body: '{"message":"Not Found"}' };
  const result = await handler(event, { awsRequestId: event.requestContext.requestId } as Context);
  return {
    status: result.statusCode ?? 200,
    headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
    body: result.body ?? '',
  };
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // API Gateway caps payloads too; beyond this the function's own limit has long refused it.
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A local HTTP server in front of the function, standing in for the HTTP API. */
export function serveHttp(handler: () => HttpHandler, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer(async (req, res) => {
    try {
      const body = ['GET', 'HEAD'].includes(req.method ?? 'GET')
        ? undefined
        : await readBody(req, 1024 * 1024);
      const response = await callHttp(handler(), {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
        ),
        ...(body !== undefined ? { body } : {}),
      });
      res.writeHead(response.status, response.headers);
      res.end(req.method === 'HEAD' ? undefined : response.body);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`simulator error: ${(error as Error).message}`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
