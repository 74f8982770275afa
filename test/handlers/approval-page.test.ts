import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signLink } from '#shared/domain/approval.ts';
import { APPROVALS_TABLE } from '../../sim/world.ts';
import { approvalHarness } from '../support/approvals.ts';

// The approval link against the simulated account: the real request task stores the approval and
// publishes the links, the real page function answers, DynamoDB and Step Functions are the models.

type Harness = Awaited<ReturnType<typeof approvalHarness>>;
let h: Harness;

beforeEach(async () => {
  h = await approvalHarness();
});

afterEach(() => {
  h.world.faults.length = 0;
});

function tamper(url: string, param: string, value: string): string {
  const link = new URL(url);
  link.searchParams.set(param, value);
  return link.toString();
}

function withId(url: string, id: string): string {
  const link = new URL(url);
  link.pathname = `/approvals/${id}`;
  return link.toString();
}

function stateOf(id: string): unknown {
  return h.world.dynamodb.items(APPROVALS_TABLE).find((item) => item.id === id)?.state;
}

describe('an approval link', () => {
  it('sends each approver their own link, without the task token anywhere in it', async () => {
    const approval = await h.request();
    expect(Object.keys(approval.links).sort()).toEqual(['alice@example.com', 'bob@example.com']);
    for (const message of h.world.sns.messages) {
      expect(message.message).not.toContain(approval.token);
      expect(message.message).toContain('Opening the link changes nothing');
    }
    expect(approval.links['alice@example.com']).toMatch(
      /^https:\/\/approvals\.example\.test\/approvals\/[A-Za-z0-9_-]{32}\?approver=alice%40example\.com&expires=\d{10}&signature=[A-Za-z0-9_-]{43}$/,
    );
  });

  it('shows the deployment on GET with strict headers, and changes nothing', async () => {
    const approval = await h.request();
    const url = approval.links['alice@example.com'] ?? '';
    const first = await h.http({ method: 'GET', url });
    const second = await h.http({ method: 'GET', url });
    for (const response of [first, second]) {
      expect(response.status).toBe(200);
      expect(response.body).toContain('Approve web/prod 1.1.0?');
      expect(response.body).toContain('You are acting as <strong>alice@example.com</strong>');
      expect(response.body).toContain('ami-0123456789abcdef0');
      expect(response.body).not.toContain(approval.token);
      expect(response.body).not.toMatch(/<script/i);
      expect(response.headers['content-security-policy']).toMatch(
        /^default-src 'none'; style-src 'sha256-[^']+'; form-action 'self'/,
      );
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(await h.settled(approval.outcome)).toBe('pending');
    expect(stateOf(approval.id)).toBe('PENDING');
  });

  it('resumes the execution with who approved, when, and their comment', async () => {
    const approval = await h.request();
    const response = await h.post(approval.links['alice@example.com'] ?? '', {
      decision: 'approve',
      comment: 'Dashboards look fine',
    });
    expect(response.status).toBe(200);
    expect(response.body).toContain('You approved web/prod 1.1.0. The deployment continues.');
    await expect(approval.outcome).resolves.toEqual({
      stage: 'traffic-shift',
      decision: 'approved',
      approver: 'alice@example.com',
      comment: 'Dashboards look fine',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(stateOf(approval.id)).toBe('APPROVED');
  });

  it('fails the wait with ApprovalRejected naming the approver and their comment on reject', async () => {
    const approval = await h.request();
    const response = await h.post(approval.links['bob@example.com'] ?? '', {
      decision: 'reject',
      comment: 'Not during the sale',
    });
    expect(response.status).toBe(200);
    expect(response.body).toContain('The deployment rolls back.');
    await expect(approval.outcome).rejects.toMatchObject({
      name: 'ApprovalRejected',
      message: expect.stringMatching(/^rejected by "bob@example.com" at .+: "Not during the sale"$/),
    });
  });
});

describe('hostile requests are refused and resume nothing', () => {
  const cases: [string, (h: Harness, url: string, id: string) => Promise<{ status: number }>, number][] = [
    [
      'a forged signature',
      (h, url) => h.post(tamper(url, 'signature', `${'A'.repeat(42)}Q`), { decision: 'approve' }),
      403,
    ],
    [
      'a changed approver',
      (h, url) => h.post(tamper(url, 'approver', 'bob@example.com'), { decision: 'approve' }),
      403,
    ],
    [
      'a changed expiry',
      (h, url) => h.post(tamper(url, 'expires', '4102444800'), { decision: 'approve' }),
      403,
    ],
    ['a changed id', (h, url) => h.post(withId(url, 'B'.repeat(32)), { decision: 'approve' }), 403],
    [
      'a POST without a signature',
      (h, url) => h.post(tamper(url, 'signature', ''), { decision: 'approve' }),
      400,
    ],
    [
      'a malformed signature',
      (h, url) => h.post(tamper(url, 'signature', 'not a signature!'), { decision: 'approve' }),
      400,
    ],
    ['a POST without a decision', (h, url) => h.post(url, {}), 400],
    ['an unknown decision', (h, url) => h.post(url, { decision: 'maybe' }), 400],
    [
      'an id of the wrong shape',
      (h, url) => h.http({ method: 'GET', url: withId(url, '..%2F..%2Fetc') }),
      404,
    ],
    ['a PUT', (h, url) => h.http({ method: 'PUT', url }), 405],
    ['a DELETE', (h, url) => h.http({ method: 'DELETE', url }), 405],
    ['a HEAD (link scanners)', (h, url) => h.http({ method: 'HEAD', url }), 405],
    ['an oversized body', (h, url) => h.post(url, { decision: 'approve', comment: 'x'.repeat(9000) }), 413],
    [
      'a JSON body',
      (h, url) =>
        h.http({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ decision: 'approve' }),
        }),
      415,
    ],
    [
      'a comment over 1,000 characters',
      (h, url) => h.post(url, { decision: 'approve', comment: 'x'.repeat(1001) }),
      400,
    ],
  ];

  it.each(cases)('refuses %s', async (_what, send, status) => {
    const approval = await h.request();
    const url = approval.links['alice@example.com'] ?? '';
    const response = (await send(h, url, approval.id)) as {
      status: number;
      body?: string;
      headers?: Record<string, string>;
    };
    expect(response.status).toBe(status);
    if (status === 405) expect(response.headers?.allow).toBe('GET, POST');
    expect(response.body ?? '').not.toMatch(/at \w+ \(|Error:|stack/);
    expect(await h.settled(approval.outcome)).toBe('pending');
    expect(stateOf(approval.id)).toBe('PENDING');
  });

  it('refuses an expired link with 410', async () => {
    const approval = await h.request();
    const url = h.signed({
      id: approval.id,
      approver: 'alice@example.com',
      expires: Math.floor(Date.now() / 1000) - 1,
    });
    expect((await h.post(url, { decision: 'approve' })).status).toBe(410);
    expect((await h.http({ method: 'GET', url })).status).toBe(410);
    expect(await h.settled(approval.outcome)).toBe('pending');
  });

  it('refuses someone who is not an approver, even with a correctly signed link', async () => {
    const approval = await h.request();
    const url = h.signed({
      id: approval.id,
      approver: 'mallory@example.com',
      expires: Math.floor(Date.now() / 1000) + 600,
    });
    const response = await h.post(url, { decision: 'approve' });
    expect(response.status).toBe(403);
    expect(response.body).toContain('mallory@example.com may not decide on this deployment.');
    expect(await h.settled(approval.outcome)).toBe('pending');
  });

  it("refuses another deployment's id with this deployment's signature", async () => {
    const mine = await h.request('web-prod-1_1_0-aaaaaaaaaa');
    const theirs = await h.request('web-prod-1_2_0-bbbbbbbbbb');
    const forged = withId(mine.links['alice@example.com'] ?? '', theirs.id);
    expect((await h.post(forged, { decision: 'approve' })).status).toBe(403);
    expect(await h.settled(mine.outcome)).toBe('pending');
    expect(await h.settled(theirs.outcome)).toBe('pending');
  });

  it('is single-use: a replay after the decision gets 409 and resumes nothing twice', async () => {
    const approval = await h.request();
    const url = approval.links['alice@example.com'] ?? '';
    expect((await h.post(url, { decision: 'approve' })).status).toBe(200);
    const replay = await h.post(url, { decision: 'reject' });
    expect(replay.status).toBe(409);
    expect(replay.body).toContain('already approved by alice@example.com');
    const bobLate = await h.post(approval.links['bob@example.com'] ?? '', { decision: 'reject' });
    expect(bobLate.status).toBe(409);
    expect(h.world.calls.filter((c) => c.operation.startsWith('SendTask'))).toHaveLength(1);
    await expect(approval.outcome).resolves.toMatchObject({ decision: 'approved' });
  });

  it('says the approval expired when Step Functions no longer waits (TaskTimedOut), and marks it so', async () => {
    const approval = await h.request();
    h.world.sfn.closeTokens('web-prod-1_1_0-0123456789');
    const response = await h.post(approval.links['alice@example.com'] ?? '', { decision: 'approve' });
    expect(response.status).toBe(410);
    expect(response.body).toContain('stopped waiting before your answer arrived');
    expect(stateOf(approval.id)).toBe('EXPIRED');
  });

  it('keeps the link usable when Step Functions could not take the answer (503, try again)', async () => {
    const approval = await h.request();
    h.world.inject({ service: 'sfn', operation: 'SendTaskSuccess', kind: 'throttle', times: 1 });
    const url = approval.links['alice@example.com'] ?? '';
    const first = await h.post(url, { decision: 'approve' });
    expect(first.status).toBe(503);
    expect(stateOf(approval.id)).toBe('PENDING');
    const second = await h.post(url, { decision: 'approve' });
    expect(second.status).toBe(200);
    await expect(approval.outcome).resolves.toMatchObject({ decision: 'approved' });
  });

  it('escapes markup and script in every field that reaches the page', async () => {
    const approval = await h.request();
    const hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';
    const table = h.world.dynamodb.tables.get(APPROVALS_TABLE);
    const item = table?.get(approval.id);
    const summary = item?.summary?.M ?? {};
    for (const field of [
      'app',
      'env',
      'version',
      'deploymentId',
      'amiId',
      'greenHealth',
      'weights',
      'executionUrl',
      'requestedAt',
    ]) {
      summary[field] = { S: `${field}${hostile}` };
    }
    const page = await h.http({ method: 'GET', url: approval.links['alice@example.com'] ?? '' });
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('<script>');
    expect(page.body).not.toContain('<img');
    expect(page.body).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;',
    );

    // A comment with markup is stored as typed and shown escaped to whoever opens the link next.
    const reject = await h.post(approval.links['alice@example.com'] ?? '', {
      decision: 'reject',
      comment: hostile,
    });
    expect(reject.status).toBe(200);
    expect(reject.body).not.toContain('<script>');
    const later = await h.http({ method: 'GET', url: approval.links['bob@example.com'] ?? '' });
    expect(later.status).toBe(409);
    expect(later.body).not.toContain('<script>');
    expect(later.body).toContain('Comment: &quot;&lt;script&gt;');
  });

  it('signs over id, approver and expiry: changing any one breaks the signature', async () => {
    const fields = { id: 'A'.repeat(32), approver: 'alice@example.com', expires: 1900000000 };
    const signature = signLink(h.key, fields);
    expect(signLink(h.key, { ...fields, id: 'B'.repeat(32) })).not.toBe(signature);
    expect(signLink(h.key, { ...fields, approver: 'bob@example.com' })).not.toBe(signature);
    expect(signLink(h.key, { ...fields, expires: 1900000001 })).not.toBe(signature);
    expect(signLink(h.key, { ...fields, approver: 'ALICE@example.com' })).toBe(signature);
  });
});
