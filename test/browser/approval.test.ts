import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, VIEWPORT } from '../support/browser.ts';
import { APPROVER, ROOT, Simulation, WAIT_MS } from '../support/simulation.ts';

// A real browser on the approval page the simulator serves (`npm run simulate -- --scenario
// approval-manual --serve 0 --json`): the simulation's virtual clock holds while an approval is
// pending, so the browser answers in real time and the deployment then runs on to its end.

// Gitignored: a test run leaves the work tree as it found it. The README's picture is
// docs/approval-page.png, which only `npm run docs:screenshot` rewrites.
const ARTIFACTS = join(ROOT, 'test', '.artifacts');
/** A moment as the page writes it for people: `Wed 2 Dec 2026, 16:30 UTC`. */
const READABLE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC$/;

let browser: Browser;
let context: BrowserContext | undefined;
let sim: Simulation | undefined;

function startSimulation(): Simulation {
  sim = new Simulation('approval-manual');
  return sim;
}

async function openPage(): Promise<{ page: Page; messages: string[] }> {
  context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.setDefaultNavigationTimeout(WAIT_MS);
  const messages: string[] = [];
  page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));
  return { page, messages };
}

/** What the browser logged about content the page's Content-Security-Policy blocked. */
function cspViolations(messages: string[]): string[] {
  return messages.filter((m) => /Content[- ]Security[- ]Policy|Refused to/i.test(m));
}

/** Opens a link and fails unless the server answered with the given status. */
async function visit(page: Page, url: string, status = 200) {
  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response) throw new Error(`no response for ${url}`);
  expect(response.status(), `GET ${url}`).toBe(status);
  return response;
}

/** Presses a button of the approval form and waits for the page the form posts to. */
async function press(page: Page, button: 'Approve' | 'Reject', comment: string): Promise<void> {
  await page.getByLabel('Comment (optional)').fill(comment);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
    page.getByRole('button', { name: button }).click(),
  ]);
  await page.waitForLoadState('load');
  const sent = new URLSearchParams(response.request().postData() ?? '');
  expect(sent.get('decision')).toBe(button.toLowerCase());
  expect(sent.get('comment')).toBe(comment);
  expect(sent.get('approver')).toBe(APPROVER);
  expect(response.status()).toBe(200);
}

beforeAll(async () => {
  browser = await launchBrowser();
});

afterEach(async () => {
  sim?.stop();
  sim = undefined;
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
});

describe('the approval page in a real browser', () => {
  it('an approver opens the link, sees the deployment, approves, and the deploy shifts traffic', {
    timeout: 120_000,
  }, async () => {
    const run = startSimulation();
    const { page, messages } = await openPage();
    const first = await run.link(0);

    // Link scanners and previews fetch links: a GET shows the page and decides nothing.
    for (let i = 0; i < 2; i += 1) {
      const prefetch = await fetch(first, {
        headers: { 'user-agent': 'SafeLinks-Scanner/1.0' },
        signal: AbortSignal.timeout(WAIT_MS),
      });
      expect(prefetch.status).toBe(200);
      expect(await prefetch.text()).toContain('Shift web/prod to 1.1.0?');
    }

    const response = await visit(page, first);
    const headers = response.headers();
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['cache-control']).toBe('no-store');

    expect(await page.title()).toBe('Shift web/prod to 1.1.0?');
    await page.getByRole('heading', { level: 1, name: 'Shift web/prod to 1.1.0?' }).waitFor();
    expect(await page.getByText('shift traffic to the new release').isVisible()).toBe(true);
    expect(await page.getByText(`You are acting as ${APPROVER}`).isVisible()).toBe(true);
    const summary = page.locator('dl');
    expect(await summary.getByText('1.1.0', { exact: true }).isVisible()).toBe(true);
    expect(await summary.getByText(/^ami-[0-9a-f]+$/).isVisible()).toBe(true);
    // What is at stake: the live version and its replacement, and where the release came from
    // (the scenario's upload carries a commit and a change note as metadata).
    for (const shown of [
      '1.0.0 (slot a)',
      '1.1.0 (slot b)',
      'AWS:AIDAEXAMPLECI',
      '3f9c2ab',
      'Checkout retries a declined card once; the cart total is right for <3 items.',
    ]) {
      expect(await summary.getByText(shown, { exact: true }).isVisible(), shown).toBe(true);
    }
    // The watched alarm and its state when approval was asked.
    const alarms = page.getByRole('list').filter({ hasText: 'web-prod-5xx' });
    expect(await alarms.getByText('web-prod-5xx', { exact: true }).isVisible()).toBe(true);
    expect(await alarms.getByText('OK', { exact: true }).isVisible()).toBe(true);
    // The plan ahead: the config's steps with their waits, the window, the second approval.
    for (const step of [
      'Step 1 of 3: 10 % of traffic on green (1.1.0, slot b), watched for 5 min.',
      'Step 2 of 3: 50 % of traffic on green (1.1.0, slot b), watched for 5 min.',
      'Step 3 of 3: 100 % of traffic on green (1.1.0, slot b), watched for 5 min.',
      'Then the termination window: blue (1.0.0, slot a) stays up for 1 h from when green (1.1.0, slot b) carries all traffic (the watch of the last step is part of it), taking no traffic, ready for a rollback.',
      'Then a second approval is asked, to terminate blue.',
    ]) {
      expect(await page.getByText(step, { exact: true }).isVisible(), step).toBe(true);
    }
    // The deadline, readable with its zone, and what Reject and no answer do.
    expect(await summary.getByText(READABLE).count()).toBe(2);
    expect(
      await page
        .getByText(
          'The deployment rolls back: green (1.1.0, slot b) is terminated and blue (1.0.0, slot a) stays live; no traffic has moved to green.',
        )
        .isVisible(),
    ).toBe(true);
    expect(await page.getByText(/^If nobody answers by .+ UTC, the wait times out/).isVisible()).toBe(true);
    // The other approver, and that one answer decides.
    expect(await page.getByRole('listitem').filter({ hasText: 'bob@example.com' }).isVisible()).toBe(true);
    expect(await page.getByText(/^The first answer decides for everyone asked/).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Approve' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Reject' }).isVisible()).toBe(true);
    // The inline stylesheet is allowed by its hash: the Approve button is green, not unstyled.
    expect(
      await page.evaluate('getComputedStyle(document.querySelector("button.approve")).backgroundColor'),
    ).toBe('rgb(26, 127, 55)');
    expect(cspViolations(messages)).toEqual([]);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'approval-page.png'), fullPage: true });

    await press(page, 'Approve', 'Canary looks <fine> & "healthy"');
    await page.getByRole('heading', { level: 1, name: 'Approved' }).waitFor();
    expect(await page.getByText('You approved web/prod 1.1.0. The deployment continues.').isVisible()).toBe(
      true,
    );
    // The answer's page echoes the comment as typed (text, not markup) and links the execution.
    expect(await page.locator('blockquote').textContent()).toBe('Canary looks <fine> & "healthy"');
    const execution = page.getByRole('link', { name: /^web-prod-1_1_0-/ });
    expect(await execution.getAttribute('href')).toMatch(
      /^https:\/\/us-east-1\.console\.aws\.amazon\.com\/states\/home\?region=us-east-1#\/v2\/executions\/details\/arn:aws:states:us-east-1:\d{12}:execution:[^:]+:web-prod-1_1_0-/,
    );

    // Before blue is terminated the deployment asks again, with a fresh link.
    const second = await run.link(1);
    expect(second).not.toBe(first);

    // The first link is single-use: opening it again says who decided, and decides nothing.
    await visit(page, first, 409);
    await page.getByRole('heading', { level: 1, name: 'Already decided' }).waitFor();
    expect(await page.getByText(`already approved by ${APPROVER}`).isVisible()).toBe(true);
    expect(await page.getByText('Comment: "Canary looks <fine> & \\"healthy\\""').isVisible()).toBe(true);

    // The second stage has its own heading, and says where Reject sends the traffic.
    await visit(page, second);
    expect(await page.title()).toBe('Terminate blue (1.0.0) of web/prod?');
    await page.getByRole('heading', { level: 1, name: 'Terminate blue (1.0.0) of web/prod?' }).waitFor();
    expect(await page.getByText('terminate the previous fleet').isVisible()).toBe(true);
    expect(
      await page
        .getByText(
          /^The deployment rolls back: all traffic goes back to blue \(1\.0\.0, slot a\), which green replaced at .+ UTC \(.+ before approval was asked\), and green \(1\.1\.0, slot b\) is drained and terminated\./,
        )
        .isVisible(),
    ).toBe(true);
    await press(page, 'Approve', 'Green has served everything for an hour');
    await page.getByRole('heading', { level: 1, name: 'Approved' }).waitFor();

    const result = await run.summary();
    expect(result.status, run.tail()).toBe('SUCCEEDED');
    expect(result.approvals).toEqual([
      { stage: 'traffic-shift', decision: 'approved', approver: APPROVER },
      { stage: 'blue-termination', decision: 'approved', approver: APPROVER },
    ]);
    expect(result.weights.b).toBe(100);
    expect(result.violations).toEqual([]);
    expect(cspViolations(messages)).toEqual([]);
  });

  it('a second run: the approver clicks Reject and the deploy rolls back', { timeout: 120_000 }, async () => {
    const run = startSimulation();
    const { page, messages } = await openPage();
    const first = await run.link(0);

    await visit(page, first);
    await page.getByRole('heading', { level: 1, name: 'Shift web/prod to 1.1.0?' }).waitFor();
    await press(page, 'Reject', 'Error rate on the canary is too high');
    await page.getByRole('heading', { level: 1, name: 'Rejected' }).waitFor();
    expect(await page.getByText('You rejected web/prod 1.1.0. The deployment rolls back.').isVisible()).toBe(
      true,
    );
    expect(await page.locator('blockquote').textContent()).toBe('Error rate on the canary is too high');
    expect(
      await page
        .getByText(
          'What happens now: green (1.1.0, slot b) is terminated and blue (1.0.0, slot a) stays live; no traffic has moved to green.',
        )
        .isVisible(),
    ).toBe(true);
    expect(await page.getByRole('link', { name: /^web-prod-1_1_0-/ }).isVisible()).toBe(true);

    const result = await run.summary();
    expect(result.status, run.tail()).toBe('ROLLED_BACK');
    expect(result.approvals).toEqual([{ stage: 'traffic-shift', decision: 'rejected', approver: APPROVER }]);
    expect(result.weights).toEqual({ a: 100, b: 0 });
    expect(result.violations).toEqual([]);
    expect(run.links).toHaveLength(1);
    expect(cspViolations(messages)).toEqual([]);
  });
});
