import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signLink } from '#shared/domain/approval.ts';
import { APPROVALS_TABLE, STATE_MACHINE_ARN } from '../../sim/world.ts';
import { APPROVER_ROLE } from '../../sim/worlds.ts';
import { approvalHarness } from '../support/approvals.ts';
import { expectFailure } from '../support/failures.ts';

// The approval link against the simulated account: the real request task stores the approval and
// publishes the links, the real page function answers, DynamoDB and Step Functions are the models.

type Harness = Awaited<ReturnType<typeof approvalHarness>>;
let h: Harness;

beforeEach(async () => {
  h = await approvalHarness();
});

afterEach(() => {
  h.world.faults.length = 0;
  vi.useRealTimers();
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

/** The link's signature with only the spare bits of its last character changed (same decoded bytes). */
function spareBitsChanged(url: string): string {
  const signature = new URL(url).searchParams.get('signature') ?? '';
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const twin = [...alphabet]
    .map((c) => signature.slice(0, -1) + c)
    .find((s) => s !== signature && Buffer.from(s, 'base64url').equals(Buffer.from(signature, 'base64url')));
  return tamper(url, 'signature', twin ?? '');
}

/** POSTs a form body exactly as written (repeated or unknown fields included) for a link. */
function postRaw(url: string, extra: string): Promise<{ status: number; body: string }> {
  const link = new URL(url);
  return h.http({
    method: 'POST',
    url: `${link.origin}${link.pathname}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `${link.searchParams.toString()}&${extra}`,
  });
}

function itemOf(id: string): Record<string, unknown> | undefined {
  return h.world.dynamodb.items(APPROVALS_TABLE).find((item) => item.id === id);
}

function stateOf(id: string): unknown {
  return itemOf(id)?.state;
}

/** The calls `action` makes into the simulated account, as `service:Operation`. */
async function callsDuring<T>(action: () => Promise<T>): Promise<{ result: T; calls: string[] }> {
  const before = h.world.calls.length;
  const result = await action();
  return { result, calls: h.world.calls.slice(before).map((c) => `${c.service}:${c.operation}`) };
}

const WRITES = /UpdateItem|PutItem|DeleteItem|SendTask/;
const CLAIMS_NOTHING_HAPPENED = /nothing was (decided|changed)/i;

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
      expect(response.body).toContain('Shift web/prod to 1.1.0?');
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
    await expectFailure(
      approval.outcome,
      'ApprovalRejected',
      /^rejected by "bob@example.com" at .+: "Not during the sale"$/,
    );
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
      'a signature whose last character differs only in its spare bits',
      (h, url) => h.post(spareBitsChanged(url), { decision: 'approve' }),
      403,
    ],
    [
      'the same signature trick on GET',
      (h, url) => h.http({ method: 'GET', url: spareBitsChanged(url) }),
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

  const ambiguous: [string, string, string][] = [
    ['a repeated decision (reject, then approve)', 'decision=reject&decision=approve', 'decision'],
    ['a repeated decision (approve, then reject)', 'decision=approve&decision=reject', 'decision'],
    ['a repeated decision with the same value', 'decision=approve&decision=approve', 'decision'],
    ['a repeated comment', 'decision=approve&comment=a&comment=b', 'comment'],
    ['a repeated approver', 'decision=approve&approver=bob%40example.com', 'approver'],
    ['a repeated signature', 'decision=approve&signature=x', 'signature'],
    ['an unknown field', 'decision=approve&force=yes', 'force'],
    [
      'an unknown field with markup in its name',
      'decision=approve&%3Cb%3Ex%3C%2Fb%3E=1',
      '&lt;b&gt;x&lt;/b&gt;',
    ],
    ['an empty field name', 'decision=approve&=1', 'an unnamed field'],
  ];

  it.each(ambiguous)(
    'refuses %s with 400 naming the field, and decides nothing',
    async (_what, extra, named) => {
      const approval = await h.request();
      const url = approval.links['alice@example.com'] ?? '';
      const response = await postRaw(url, extra);
      expect(response.status).toBe(400);
      expect(response.body).toContain(named);
      expect(response.body).not.toContain('<b>');
      expect(h.world.calls.filter((c) => c.operation.startsWith('SendTask'))).toHaveLength(0);
      expect(await h.settled(approval.outcome)).toBe('pending');
      expect(stateOf(approval.id)).toBe('PENDING');
    },
  );

  it('refuses a link whose query string repeats or adds a field (GET)', async () => {
    const approval = await h.request();
    const url = approval.links['alice@example.com'] ?? '';
    for (const [extra, named] of [
      ['approver=bob%40example.com', 'approver'],
      ['utm_source=mail', 'utm_source'],
    ]) {
      const response = await h.http({ method: 'GET', url: `${url}&${extra}` });
      expect(response.status).toBe(400);
      expect(response.body).toContain(named);
      expect(response.body).not.toContain('name="decision"');
    }
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

  it('says the approval timed out when Step Functions no longer waits (TaskTimedOut), and marks it so', async () => {
    const approval = await h.request();
    h.timeOut();
    const response = await h.post(approval.links['alice@example.com'] ?? '', { decision: 'approve' });
    expect(response.status).toBe(410);
    expect(response.body).toContain(
      'web/prod 1.1.0 timed out waiting for approval before your answer arrived',
    );
    expect(response.body).toContain('Your answer was not used.');
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
      'uploadedBy',
      'commit',
      'changes',
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
    // The release's provenance is shown, escaped, in rows of its own.
    for (const field of ['uploadedBy', 'commit', 'changes']) {
      expect(page.body).toContain(`<dd>${field}&lt;script&gt;alert(1)`);
    }

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

describe('a deployment that no longer waits', () => {
  it.each([
    ['ABORTED', 'was stopped'],
    ['TIMED_OUT', 'timed out'],
    ['FAILED', 'failed'],
    ['SUCCEEDED', 'has ended'],
  ] as const)(
    'GET after the execution ended %s says it %s, shows no buttons, and writes nothing',
    async (status, says) => {
      const approval = await h.request();
      h.end(status);
      const { result: page, calls } = await callsDuring(() =>
        h.http({ method: 'GET', url: approval.links['alice@example.com'] ?? '' }),
      );
      expect(page.status).toBe(410);
      expect(page.body).toContain(`web/prod 1.1.0 ${says}`);
      expect(page.body).toContain('no longer waits for an answer');
      expect(page.body).not.toContain('<form');
      expect(page.body).not.toContain('name="decision"');
      expect(calls).toContain('sfn:DescribeExecution');
      expect(calls.filter((c) => WRITES.test(c))).toEqual([]);
      expect(stateOf(approval.id)).toBe('PENDING');
    },
  );

  it('POST after a Stop answers 410: the deployment was stopped, the answer was not used; later pages say so too', async () => {
    const approval = await h.request();
    h.end('ABORTED');
    const response = await h.post(approval.links['alice@example.com'] ?? '', { decision: 'approve' });
    expect(response.status).toBe(410);
    expect(response.body).toContain('web/prod 1.1.0 was stopped before your answer arrived');
    expect(response.body).toContain('Your answer was not used.');
    expect(response.body).not.toMatch(CLAIMS_NOTHING_HAPPENED);
    expect(stateOf(approval.id)).toBe('EXPIRED');
    const later = await h.http({ method: 'GET', url: approval.links['bob@example.com'] ?? '' });
    expect(later.status).toBe(410);
    expect(later.body).toContain('web/prod 1.1.0 was stopped');
    expect(later.body).not.toContain('<form');
  });
});

describe('an answer whose outcome is not known at once', () => {
  it.each([
    [
      'approve',
      'SendTaskSuccess',
      'You approved web/prod 1.1.0',
      'APPROVED',
      'already approved by alice@example.com',
    ],
    [
      'reject',
      'SendTaskFailure',
      'You rejected web/prod 1.1.0',
      'REJECTED',
      'already rejected by alice@example.com',
    ],
  ] as const)(
    '%s: the call took effect, its response was lost and the SDK retry got TaskTimedOut: the history says what happened',
    async (decision, operation, told, state, toldLater) => {
      const approval = await h.request();
      h.world.inject({ service: 'sfn', operation, kind: 'response-lost-then-retried', times: 1 });
      const { result: response, calls } = await callsDuring(() =>
        h.post(approval.links['alice@example.com'] ?? '', { decision }),
      );
      // The call took effect, the SDK's retry met the used token, and the history told the page.
      expect(calls.filter((c) => c === `sfn:${operation}`)).toHaveLength(2);
      expect(h.world.calls.filter((c) => c.operation === operation).map((c) => c.error)).toEqual([
        'TimeoutError',
        'TaskTimedOut',
      ]);
      expect(calls).toContain('sfn:GetExecutionHistory');
      expect(response.status).toBe(200);
      expect(response.body).toContain(told);
      expect(response.body).not.toMatch(CLAIMS_NOTHING_HAPPENED);
      expect(await h.settled(approval.outcome)).toBe(decision === 'approve' ? 'resolved' : 'rejected');
      expect(stateOf(approval.id)).toBe(state);
      const bob = await h.post(approval.links['bob@example.com'] ?? '', {
        decision: decision === 'approve' ? 'reject' : 'approve',
      });
      expect(bob.status).toBe(409);
      expect(bob.body).toContain(toldLater);
      expect(bob.body).not.toMatch(CLAIMS_NOTHING_HAPPENED);
    },
  );

  it('sends the answer when the SDK retried its own record of it, whose first write took effect', async () => {
    const approval = await h.request();
    h.world.inject({
      service: 'dynamodb',
      operation: 'UpdateItem',
      kind: 'response-lost-then-retried',
      times: 1,
    });

    const response = await h.post(approval.links['alice@example.com'] ?? '', { decision: 'approve' });

    expect(response.status).toBe(200);
    expect(response.body).toContain('You approved web/prod 1.1.0');
    expect(await h.settled(approval.outcome)).toBe('resolved');
    expect(stateOf(approval.id)).toBe('APPROVED');
  });

  it('the response was lost and the history cannot be read yet: the page says the outcome is unknown, the record keeps the attempt, and a later request settles it', async () => {
    const approval = await h.request();
    h.world.inject({ service: 'sfn', operation: 'SendTaskSuccess', kind: 'response-lost', times: 1 });
    h.world.inject({ service: 'sfn', operation: 'GetExecutionHistory', kind: 'transient', times: 1000 });
    const response = await h.post(approval.links['alice@example.com'] ?? '', {
      decision: 'approve',
      comment: 'ship it',
    });
    expect(response.status).toBe(503);
    expect(response.body).toContain('Outcome not known yet');
    expect(response.body).toContain('Your answer (approve) may have reached the deployment');
    expect(response.body).not.toMatch(CLAIMS_NOTHING_HAPPENED);
    expect(itemOf(approval.id)).toMatchObject({
      state: 'DECIDING',
      decision: {
        decision: 'approved',
        approver: 'alice@example.com',
        comment: 'ship it',
        at: expect.any(String),
      },
    });

    // Bob opens his link while it is still unknown: no buttons, and nothing written.
    const { result: bobPage, calls } = await callsDuring(() =>
      h.http({ method: 'GET', url: approval.links['bob@example.com'] ?? '' }),
    );
    expect(bobPage.status).toBe(503);
    expect(bobPage.body).toContain('An answer from alice@example.com (approve)');
    expect(bobPage.body).not.toContain('name="decision"');
    expect(bobPage.body).not.toMatch(CLAIMS_NOTHING_HAPPENED);
    expect(calls.filter((c) => WRITES.test(c))).toEqual([]);

    // The history can be read again: it settles the approval, Bob's answer resumes nothing.
    h.world.faults.length = 0;
    const bob = await h.post(approval.links['bob@example.com'] ?? '', { decision: 'reject' });
    expect(bob.status).toBe(409);
    expect(bob.body).toContain('already approved by alice@example.com');
    expect(stateOf(approval.id)).toBe('APPROVED');
    expect(h.world.calls.filter((c) => c.operation === 'SendTaskFailure')).toHaveLength(0);
    await expect(approval.outcome).resolves.toMatchObject({
      decision: 'approved',
      approver: 'alice@example.com',
    });
  });

  it('an answer met by a server error (it did not take effect): unknown at first, then the link works again once the history shows the deployment still waits', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const approval = await h.request();
    h.world.inject({ service: 'sfn', operation: 'SendTaskSuccess', kind: 'transient', times: 1 });
    const first = await h.post(approval.links['alice@example.com'] ?? '', { decision: 'approve' });
    expect(first.status).toBe(503);
    expect(first.body).toContain('Outcome not known yet');
    expect(first.body).not.toMatch(CLAIMS_NOTHING_HAPPENED);
    expect(stateOf(approval.id)).toBe('DECIDING');
    expect(await h.settled(approval.outcome)).toBe('pending');

    // Within a minute the answer may still arrive: no buttons yet.
    const soon = await h.http({ method: 'GET', url: approval.links['bob@example.com'] ?? '' });
    expect(soon.status).toBe(503);
    expect(soon.body).not.toContain('name="decision"');

    // Later the history still shows the wait open: the earlier answer never arrived.
    vi.setSystemTime(Date.now() + 61_000);
    const { result: page, calls } = await callsDuring(() =>
      h.http({ method: 'GET', url: approval.links['bob@example.com'] ?? '' }),
    );
    expect(page.status).toBe(200);
    expect(page.body).toContain('name="decision"');
    expect(page.body).toContain(
      'An earlier answer from alice@example.com (approve) did not reach the deployment',
    );
    expect(calls.filter((c) => WRITES.test(c))).toEqual([]);
    expect(stateOf(approval.id)).toBe('DECIDING');

    const bob = await h.post(approval.links['bob@example.com'] ?? '', { decision: 'reject', comment: 'no' });
    expect(bob.status).toBe(200);
    expect(bob.body).toContain('You rejected web/prod 1.1.0');
    expect(stateOf(approval.id)).toBe('REJECTED');
    await expectFailure(approval.outcome, 'ApprovalRejected', /^rejected by "bob@example.com"/);
  });

  it('the approval times out while an answer is unconfirmed: later pages say it timed out and the answer was not used', async () => {
    const approval = await h.request();
    h.world.inject({ service: 'sfn', operation: 'SendTaskSuccess', kind: 'transient', times: 1 });
    expect((await h.post(approval.links['alice@example.com'] ?? '', { decision: 'approve' })).status).toBe(
      503,
    );
    h.timeOut();
    const page = await h.http({ method: 'GET', url: approval.links['alice@example.com'] ?? '' });
    expect(page.status).toBe(410);
    expect(page.body).toContain('web/prod 1.1.0 timed out waiting for approval');
    expect(page.body).toContain('The answer from alice@example.com (approve) was not used.');
    const bob = await h.post(approval.links['bob@example.com'] ?? '', { decision: 'reject' });
    expect(bob.status).toBe(410);
    expect(stateOf(approval.id)).toBe('EXPIRED');
  });

  it('a failure after the answer was sent never says nothing was decided, and a later GET shows the outcome', async () => {
    const approval = await h.request();
    h.world.inject({
      service: 'dynamodb',
      operation: 'UpdateItem',
      kind: 'permanent',
      times: 1,
      when: (input) => JSON.stringify(input).includes('"APPROVED"'),
    });
    const response = await h.post(approval.links['alice@example.com'] ?? '', { decision: 'approve' });
    expect(response.status).toBe(500);
    expect(response.body).not.toMatch(CLAIMS_NOTHING_HAPPENED);
    expect(response.body).toContain('Open the link again in a minute to see whether your answer was taken');
    await expect(approval.outcome).resolves.toMatchObject({ decision: 'approved' });
    const later = await h.http({ method: 'GET', url: approval.links['alice@example.com'] ?? '' });
    expect(later.status).toBe(409);
    expect(later.body).toContain('already approved by alice@example.com');
  });

  it('a GET that fails says that opening the link decides nothing', async () => {
    const approval = await h.request();
    h.world.inject({ service: 'sfn', operation: 'DescribeExecution', kind: 'permanent', times: 1 });
    const page = await h.http({ method: 'GET', url: approval.links['alice@example.com'] ?? '' });
    expect(page.status).toBe(500);
    expect(page.body).toContain('Opening this link never decides anything');
  });
});

describe('what the approver is told is at stake', () => {
  const HOSTILE_ALARM = 'web-prod-"quoted"<script>alert(1)</script>';
  const ALARMS = ['web-prod-5xx', 'web-prod-latency', 'web-prod-no-data', 'web-prod-deleted', HOSTILE_ALARM];
  /** A readable moment with its zone: `Wed 2 Dec 2026, 16:30 UTC`. */
  const READABLE = /(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC/;

  beforeEach(async () => {
    h = await approvalHarness({ alarms: ALARMS });
    for (const name of ['web-prod-5xx', 'web-prod-latency', 'web-prod-no-data', HOSTILE_ALARM]) {
      h.world.cloudwatch.addAlarm(name);
    }
    h.world.cloudwatch.setState('web-prod-latency', 'ALARM', 'Threshold Crossed: p99 above 800 ms');
    h.world.cloudwatch.setState('web-prod-no-data', 'INSUFFICIENT_DATA', 'Insufficient Data');
  });

  /** The message sent to one approver. */
  function messageTo(approver: string): string {
    return h.world.sns.messages.find((m) => m.attributes.approver === approver)?.message ?? '';
  }

  it("reads each watched alarm's state from CloudWatch once, and names a missing one as missing", async () => {
    const { result: approval, calls } = await callsDuring(() => h.request());
    expect(calls.filter((c) => c === 'cloudwatch:DescribeAlarms')).toHaveLength(1);
    const lines = messageTo('alice@example.com').split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        '  "web-prod-5xx": OK',
        '  "web-prod-latency": ALARM',
        '  "web-prod-no-data": INSUFFICIENT_DATA',
        '  "web-prod-deleted": MISSING (CloudWatch has no alarm of this name)',
        '  "web-prod-\\"quoted\\"<script>alert(1)</script>": OK',
      ]),
    );
    const page = await h.http({ method: 'GET', url: approval.links['alice@example.com'] ?? '' });
    expect(page.status).toBe(200);
    expect(page.body).toContain(
      '<li><span class="name">web-prod-latency</span> <span class="state ALARM">ALARM</span></li>',
    );
    expect(page.body).toContain(
      '<li><span class="name">web-prod-deleted</span> <span class="state MISSING">MISSING (CloudWatch has no alarm of this name)</span></li>',
    );
    // The hostile name is text on the page, and one quoted line in the email.
    expect(page.body).toContain('web-prod-&quot;quoted&quot;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.body).not.toContain('<script>');
  });

  it('says the plan ahead, the deadline with its zone, what Reject and no answer do, and who else is asked', async () => {
    const approval = await h.request();
    const page = await h.http({ method: 'GET', url: approval.links['alice@example.com'] ?? '' });
    expect(page.body).toContain('<h1>Shift web/prod to 1.1.0?</h1>');
    // The default config's steps (10, 50, 100 %), each watched 5 min, a 1 h window, no second approval.
    expect(page.body).toContain(
      '<li>Step 1 of 3: 10 % of traffic on green (1.1.0, slot b), watched for 5 min.</li>',
    );
    expect(page.body).toContain(
      '<li>Step 3 of 3: 100 % of traffic on green (1.1.0, slot b), watched for 5 min.</li>',
    );
    expect(page.body).toContain(
      'Then the termination window: blue (1.0.0, slot a) stays up for 1 h from when green (1.1.0, slot b) carries all traffic (the watch of the last step is part of it), taking no traffic, ready for a rollback.',
    );
    expect(page.body).toContain('Then blue is terminated without asking again.');
    expect(page.body).toMatch(new RegExp(`<dt>Answer by</dt><dd>${READABLE.source}</dd>`));
    expect(page.body).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:/);
    expect(page.body).toContain(
      'The deployment rolls back: green (1.1.0, slot b) is terminated and blue (1.0.0, slot a) stays live; no traffic has moved to green.',
    );
    expect(page.body).toMatch(
      new RegExp(
        `If nobody answers by ${READABLE.source}, the wait times out and the deployment rolls back just as on Reject\\.`,
      ),
    );
    expect(page.body).toContain('<li class="name">bob@example.com</li>');
    expect(page.body).not.toContain('<li class="name">alice@example.com</li>');
    expect(page.body).toContain('The first answer decides for everyone asked');

    const email = messageTo('alice@example.com');
    expect(email.split('\n')[0]).toBe('Shift web/prod to 1.1.0?');
    expect(email).toMatch(new RegExp(`^Answer by:    ${READABLE.source}$`, 'm'));
    expect(email).toContain('Also asked: "bob@example.com". The first answer decides for everyone asked');
    expect(email).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:/);
    expect(h.world.sns.messages[0]?.subject).toBe('Approval needed: Shift web/prod to 1.1.0?');
  });

  it('before blue is terminated: its own heading, and Reject sends traffic back to the version green replaced', async () => {
    const approval = await h.request('web-prod-1_1_0-0123456789', 'blue-termination');
    const page = await h.http({ method: 'GET', url: approval.links['bob@example.com'] ?? '' });
    expect(page.body).toContain('<title>Terminate blue (1.0.0) of web/prod?</title>');
    expect(page.body).toContain('<h1>Terminate blue (1.0.0) of web/prod?</h1>');
    expect(page.body).toMatch(
      new RegExp(
        `The deployment rolls back: all traffic goes back to blue \\(1\\.0\\.0, slot a\\), which green replaced at ${READABLE.source} \\(1 h 5 min before approval was asked\\), and green \\(1\\.1\\.0, slot b\\) is drained and terminated\\.`,
      ),
    );
    expect(page.body).toContain(
      'Green&#39;s alarms and health are checked once more, then blue (1.0.0, slot a) is deregistered, drained and terminated.',
    );
    expect(page.body).not.toContain('Step 1 of 3');
    expect(messageTo('bob@example.com').split('\n')[0]).toBe('Terminate blue (1.0.0) of web/prod?');
  });

  it('names an IAM approver as written, and says how that one answers', async () => {
    h = await approvalHarness({ approvers: ['Alice@Example.com', APPROVER_ROLE] });
    const approval = await h.request();
    const page = await h.http({ method: 'GET', url: approval.links['alice@example.com'] ?? '' });
    expect(page.body).toContain(`<li class="name">${APPROVER_ROLE}</li>`);
    expect(page.body).not.toContain('<li class="name">alice@example.com</li>');
    const terminal = messageTo('terminal');
    expect(terminal).toContain(`Asked: "alice@example.com", "${APPROVER_ROLE}". The first answer decides`);
    expect(terminal).toMatch(new RegExp(`as one of "${APPROVER_ROLE}", before ${READABLE.source}:`));
  });

  it('after the answer: the decision, the comment as typed (escaped), and the execution in the console', async () => {
    const approval = await h.request();
    const comment = 'Looks <b>fine</b> & "ready"';
    const response = await h.post(approval.links['alice@example.com'] ?? '', { decision: 'reject', comment });
    expect(response.status).toBe(200);
    expect(response.body).toContain('<h1>Rejected</h1>');
    expect(response.body).toContain('You rejected web/prod 1.1.0. The deployment rolls back.');
    expect(response.body).toContain(
      '<blockquote>Looks &lt;b&gt;fine&lt;/b&gt; &amp; &quot;ready&quot;</blockquote>',
    );
    expect(response.body).toContain(
      'What happens now: green (1.1.0, slot b) is terminated and blue (1.0.0, slot a) stays live',
    );
    expect(response.body).toContain(
      `<a href="https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:web-prod-1_1_0-0123456789" rel="noreferrer noopener">web-prod-1_1_0-0123456789</a>`,
    );
    // Bob's link now shows the decision, and decides nothing.
    const bob = await h.http({ method: 'GET', url: approval.links['bob@example.com'] ?? '' });
    expect(bob.status).toBe(409);
    expect(bob.body).toMatch(new RegExp(`already rejected by alice@example.com at ${READABLE.source}\\.`));
  });
});
