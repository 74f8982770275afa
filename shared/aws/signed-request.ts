import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import * as v from 'valibot';

/**
 * Requests to an API with IAM authorization (API Gateway, service `execute-api`), signed with
 * SigV4 by the SDK's own signer: the signature is what lets AWS establish who calls, so the
 * service never has to believe a name the caller sends.
 */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Credentials, or the SDK's provider of them (e.g. fromNodeProviderChain({ profile })). */
export type CredentialSource = Credentials | (() => Promise<Credentials>);

export interface HttpReply {
  status: number;
  body: string;
}

/** The part of `fetch` a signed request needs (globalThis.fetch, or the simulator's). */
export type Fetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<{ status: number; text(): Promise<string> }>;

/** Sends a JSON body to an API URL, signed; resolves with whatever status the API answered. */
export type SignedPost = (url: string, json: unknown) => Promise<HttpReply>;

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
}

/** SHA-256 and HMAC-SHA256 from node:crypto, as the signer takes them. */
class Sha256 {
  private readonly secret: string | Uint8Array | undefined;
  private hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytes(secret);
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

export function signer(region: string, credentials: CredentialSource): SignatureV4 {
  return new SignatureV4({
    service: 'execute-api',
    region,
    credentials: typeof credentials === 'function' ? credentials : async () => credentials,
    sha256: Sha256,
  });
}

/** The request a signed POST of `body` to `url` is, before it is signed. */
export function unsignedPost(url: string, body: string) {
  const target = new URL(url);
  return {
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname,
    ...(target.port ? { port: Number(target.port) } : {}),
    path: target.pathname,
    query: Object.fromEntries(target.searchParams),
    headers: {
      host: target.host,
      'content-type': 'application/json',
    } as Record<string, string>,
    body,
  };
}

/** A SignedPost for `region` with `credentials`, through `fetch`. */
export function signedPost(
  region: string,
  credentials: CredentialSource,
  fetch: Fetch = globalThis.fetch,
): SignedPost {
  const sigv4 = signer(region, credentials);
  return async (url, json) => {
    const body = JSON.stringify(json);
    const signed = await sigv4.sign(unsignedPost(url, body));
    // The host signed is the URL's, which fetch sends by itself (it sets no host header of ours).
    const { host: _host, ...headers } = signed.headers as Record<string, string>;
    const response = await fetch(url, { method: 'POST', headers, body });
    return { status: response.status, body: await response.text() };
  };
}

/** A reply that is not the service's answer: AWS refused the request before it reached it. */
export interface Refusal {
  kind: 'refused';
  status: number;
  message: string;
}

/** AWS's own refusals carry `message` (or `Message`); anything else is shown as it came, cut short. */
function refusal(status: number, body: string): Refusal {
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

/**
 * Reads a route's reply: the service's answer when `schema` takes it (anything else is not the
 * service speaking), else AWS's refusal.
 */
export function readReply<T>(
  status: number,
  body: string,
  schema: v.GenericSchema<unknown, T>,
): { kind: 'answer'; answer: T } | Refusal {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return refusal(status, body);
  }
  const parsed = v.safeParse(schema, json);
  return parsed.success ? { kind: 'answer', answer: parsed.output } : refusal(status, body);
}
