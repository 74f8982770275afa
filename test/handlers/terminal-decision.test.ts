import { Sha256 as ReferenceSha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, Context } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type Fetch, signedPost, signer, unsignedPost } from '#shared/aws/signed-request.ts';
import { decideFromTerminal, type TerminalDecisionInput } from '#shared/operations/decide-from-terminal.ts';
import type { SimIdentity } from '../../sim/aws/iam.ts';
import {
  approverPolicy,
  DECISION_API_URL,
  type DecisionHandler,
  decisionApiFetch,
} from '../../sim/decision-api.ts';
import { decisionEvent } from '../../sim/http.ts';
import { loadHandlers } from '../../sim/simulate.ts';
import { APPROVALS_TABLE, REGION } from '../../sim/world.ts';
import { APPROVER_ROLE, APPROVERS } from '../../sim/worlds.ts';
import { approvalHarness } from '../support/approvals.ts';

// The decision API (`POST /decisions`, IAM authorization) against the simulated account: the real
// request task stores the approval, the client function signs as an IAM identity, the simulated
// API Gateway verifies the signature and the caller's policy, the real function decides.

type Harness = Awaited<ReturnType<typeof approvalHarness>>;
let h: Harness;
let handler: DecisionHandler;
let alice: SimIdentity;
let api: Fetch;

const SESSION = 'arn:aws:sts::123456789012:assumed-role/DeployApprover/alice';

beforeEach(async () => {
  h = await approvalHarness({ approvers: [...APPROVERS, APPROVER_ROLE] });
  handler = (await loadHandlers()).terminalDecision as unknown as DecisionHandler;
  alice = h.world.iam.assumeRole(APPROVER_ROLE, 'alice', [approverPolicy()]);
  api = decisionApiFetch(h.world, () => handler);
});

const approve: TerminalDecisionInput = {
  url: DECISION_API_URL,
  app: 'web',
  env: 'prod',
  decision: 'approve',
};

function decide(input: Partial<TerminalDecisionInput> = {}, as: SimIdentity = alice) {
  return decideFromTerminal({ ...approve, ...input }, signedPost(REGION, as, api));
}

function approvalState(id: string): unknown {
  return h.world.dynamodb.items(APPROVALS_TABLE).find((item) => item.id === id)?.state;
}

/** A request signed as `as`, then sent as `send` makes it (to tamper with it on the way). */
async function sendSigned(body: string, send: (headers: Record<string, string>) => { body: string }) {
  const signed = await signer(REGION, alice).sign(unsignedPost(DECISION_API_URL, body));
  const { host: _host, ...headers } = signed.headers as Record<string, string>;
  const response = await api(DECISION_API_URL, { method: 'POST', headers, ...send(headers) });
  return { status: response.status, body: JSON.parse(await response.text()) as Record<string, unknown> };
}

describe('a decision from a terminal', () => {
  it('approves as the verified session and resumes the execution with the record a link would send', async () => {
    const pending = await h.request();
    const result = await decide({ comment: '  Looks good.  ' });
    expect(result).toMatchObject({
      kind: 'decided',
      decision: 'approved',
      approver: SESSION,
      comment: 'Looks good.',
    });
    expect(await pending.outcome).toMatchObject({
      decision: 'approved',
      approver: SESSION,
      stage: 'traffic-shift',
    });
    expect(approvalState(pending.id)).toBe('APPROVED');
  });

  it('leaves a link that is used after it refused with the session that decided', async () => {
    const pending = await h.request();
    await decide();
    const link = pending.links['alice@example.com'] ?? '';
    const response = await h.post(link, { decision: 'reject', comment: '' });
    expect(response.status).toBe(409);
    expect(response.body).toContain(`already approved by ${SESSION}`);
    expect(approvalState(pending.id)).toBe('APPROVED');
  });

  it('sends no link when only IAM principals approve: one message with the command', async () => {
    const only = await approvalHarness({ approvers: [APPROVER_ROLE] });
    const before = only.world.sns.messages.length;
    const pending = await only.request();
    const sent = only.world.sns.messages.slice(before);
    expect(pending.links).toEqual({});
    expect(sent.map((m) => m.attributes.approver)).toEqual(['terminal']);
    expect(sent[0]?.message).toContain('bluegreen reject web prod --comment TEXT');
  });

  it('is refused by API Gateway when unsigned, and decides nothing', async () => {
    const pending = await h.request();
    const response = await api(DECISION_API_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ app: 'web', env: 'prod', decision: 'approve' }),
    });
    expect(response.status).toBe(403);
    expect(await h.settled(pending.outcome)).toBe('pending');
    expect(approvalState(pending.id)).toBe('PENDING');
  });

  it('is refused when the access key is someone’s and the secret is not (a forged signature)', async () => {
    const pending = await h.request();
    const forged = { ...alice, secretAccessKey: 'guessed' };
    const result = await decide({}, forged);
    expect(result).toMatchObject({
      kind: 'refused',
      status: 403,
      message: expect.stringMatching(/signature/),
    });
    expect(approvalState(pending.id)).toBe('PENDING');
  });

  it('is refused when the body was changed after it was signed (reject signed, approve sent)', async () => {
    const pending = await h.request();
    const response = await sendSigned(
      JSON.stringify({ app: 'web', env: 'prod', decision: 'reject' }),
      () => ({
        body: JSON.stringify({ app: 'web', env: 'prod', decision: 'approve' }),
      }),
    );
    expect(response.status).toBe(403);
    expect(approvalState(pending.id)).toBe('PENDING');
  });

  it('is refused when replayed ten minutes after it was signed', async () => {
    const pending = await h.request();
    const body = JSON.stringify({ app: 'web', env: 'prod', decision: 'approve' });
    const signed = await signer(REGION, alice).sign(unsignedPost(DECISION_API_URL, body), {
      signingDate: new Date(Date.now() - 10 * 60_000),
    });
    const { host: _host, ...headers } = signed.headers as Record<string, string>;
    const response = await api(DECISION_API_URL, { method: 'POST', headers, body });
    expect(response.status).toBe(403);
    expect(approvalState(pending.id)).toBe('PENDING');
  });

  it('refuses a principal the config does not name, with that principal, and decides nothing', async () => {
    const pending = await h.request();
    const developer = h.world.iam.assumeRole('arn:aws:iam::123456789012:role/Developer', 'bob', [
      approverPolicy(),
    ]);
    expect(await decide({}, developer)).toEqual({
      kind: 'not-an-approver',
      principal: 'arn:aws:sts::123456789012:assumed-role/Developer/bob',
      app: 'web',
      env: 'prod',
    });
    expect(approvalState(pending.id)).toBe('PENDING');
  });

  it('says nothing waits for an app/env that never asked for approval', async () => {
    await h.request();
    expect(await decide({ app: 'api' })).toEqual({
      kind: 'nothing-waiting',
      reason: 'No approval was requested for api/prod.',
    });
  });

  it('says the deployment was stopped before the answer arrived, and that it was not used', async () => {
    const pending = await h.request();
    h.end('ABORTED');
    const result = await decide();
    expect(result).toMatchObject({
      kind: 'nothing-waiting',
      reason: 'web/prod 1.1.0 was stopped before your answer arrived. Your answer was not used.',
    });
    expect(approvalState(pending.id)).toBe('EXPIRED');
  });

  it('says the approval expired once its time is up', async () => {
    await h.request();
    vi.useFakeTimers({ now: Date.now() + 3601_000, toFake: ['Date'] });
    try {
      // Signed now (the clock moved for both sides).
      expect(await decide()).toMatchObject({
        kind: 'nothing-waiting',
        reason: expect.stringMatching(/expired/),
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    [
      'a decision it does not know',
      { app: 'web', env: 'prod', decision: 'maybe' },
      /^decision: must be approve, reject or show$/,
    ],
    [
      'a field it does not have',
      { app: 'web', env: 'prod', decision: 'approve', approver: 'alice@example.com' },
      /unknown field "approver"/,
    ],
    [
      'an app that is no app name',
      { app: '../web', env: 'prod', decision: 'approve' },
      /^app: must be an app name/,
    ],
    [
      'a comment over 1,000 characters',
      { app: 'web', env: 'prod', decision: 'approve', comment: 'x'.repeat(1001) },
      /^comment: must be at most 1000/,
    ],
  ])('refuses %s, naming the field, and decides nothing', async (_what, body, problem) => {
    const pending = await h.request();
    const response = await sendSigned(JSON.stringify(body), () => ({ body: JSON.stringify(body) }));
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      result: 'bad-request',
      problems: [expect.stringMatching(problem)],
    });
    expect(approvalState(pending.id)).toBe('PENDING');
  });

  it('refuses a body that is not JSON', async () => {
    const response = await sendSigned('app=web', () => ({ body: 'app=web' }));
    expect(response.body).toEqual({ result: 'bad-request', problems: ['the body is not valid JSON'] });
  });

  it('decides nothing for an event without a verified identity (the function invoked some other way)', async () => {
    const pending = await h.request();
    const event = decisionEvent(
      {
        method: 'POST',
        url: DECISION_API_URL,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ app: 'web', env: 'prod', decision: 'approve' }),
      },
      undefined as never,
    ) as APIGatewayProxyEventV2WithIAMAuthorizer;
    (event.requestContext as { authorizer?: unknown }).authorizer = undefined;
    const response = await handler(event, { awsRequestId: 'direct' } as Context);
    expect(response.statusCode).toBe(400);
    expect(approvalState(pending.id)).toBe('PENDING');
  });
});

describe('the request signature', () => {
  it('is the one the SDK’s own SHA-256 gives (the node:crypto hash the signer is handed is right)', async () => {
    const request = unsignedPost(
      DECISION_API_URL,
      JSON.stringify({ app: 'web', env: 'prod', decision: 'approve' }),
    );
    const signingDate = new Date('2026-12-02T06:00:00Z');
    const ours = await signer(REGION, alice).sign(structuredClone(request), { signingDate });
    const reference = await new SignatureV4({
      service: 'execute-api',
      region: REGION,
      credentials: alice,
      sha256: ReferenceSha256,
    }).sign(structuredClone(request), { signingDate });
    expect(ours.headers.authorization).toBe(reference.headers.authorization);
    expect(ours.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIA\d+\/20261202\/us-east-1\/execute-api\/aws4_request/,
    );
  });
});
