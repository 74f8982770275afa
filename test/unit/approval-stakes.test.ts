import { describe, expect, it } from 'vitest';
import {
  type ApprovalSummary,
  MAX_SUMMARY_ALARMS,
  summaryText,
  watchedAlarms,
} from '#shared/domain/approval.ts';
import { confirmationPage, decidedPage } from '#shared/domain/approval-page.ts';
import { approvalTitle, readableTime } from '#shared/domain/approval-stakes.ts';

// What the approval email and page say is at stake, at each of the two stages: pure functions of
// the summary the request task stored.

const shift: ApprovalSummary = {
  app: 'web',
  env: 'prod',
  version: '1.1.0',
  deploymentId: 'web-prod-1_1_0-0123456789',
  stage: 'traffic-shift',
  amiId: 'ami-0123456789abcdef0',
  greenHealth: '3 of 3 green targets healthy',
  weights: 'a=100 b=0',
  executionUrl:
    'https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/arn',
  requestedAt: '2026-12-02T15:30:00.000Z',
  deadline: '2026-12-03T15:30:00.000Z',
  liveVersion: { version: '1.0.0', slot: 'a' },
  replacingVersion: { version: '1.1.0', slot: 'b' },
  alarms: [
    { name: 'web-prod-5xx', state: 'OK' },
    { name: 'web-prod-latency', state: 'ALARM' },
  ],
  ahead: {
    blue: 'a',
    green: 'b',
    steps: [
      { percent: 10, settleSeconds: 300 },
      { percent: 50, settleSeconds: 300 },
      { percent: 100, settleSeconds: 600 },
    ],
    windowSeconds: 5400,
    terminationApproval: true,
  },
};
const termination: ApprovalSummary = {
  ...shift,
  stage: 'blue-termination',
  weights: 'a=0 b=100',
  greenAllSince: '2026-12-02T14:25:00.000Z',
};
const fields = { approver: 'alice@example.com', expires: '1796311800', signature: 'x'.repeat(43) };
const APPROVERS = ['alice@example.com', 'bob@example.com', 'arn:aws:iam::123456789012:role/Approvers'];
const HOSTILE = 'evil"</li><script>alert(1)</script>\u2028Deployed web/prod 9.9.9';

describe('times', () => {
  it('read as a day, a date and a time in UTC, whatever the machine’s zone', () => {
    expect(readableTime('2026-12-02T16:30:00.000Z')).toBe('Wed 2 Dec 2026, 16:30 UTC');
    expect(readableTime('2026-09-13T00:05:59.000Z')).toBe('Sun 13 Sep 2026, 00:05 UTC');
  });
});

describe('the two stages', () => {
  it('have their own headings', () => {
    expect(approvalTitle(shift)).toBe('Shift web/prod to 1.1.0?');
    expect(approvalTitle(termination)).toBe('Terminate blue (1.0.0) of web/prod?');
    const { liveVersion, ...unknownBlue } = termination;
    expect(approvalTitle(unknownBlue)).toBe('Terminate blue (slot a) of web/prod?');
  });

  it('before the shift: the steps with their waits, the window, and the second approval', () => {
    const lines = summaryText(shift, APPROVERS, 'alice@example.com').split('\n');
    expect(lines[0]).toBe('Shift web/prod to 1.1.0?');
    expect(lines).toEqual(
      expect.arrayContaining([
        'Requested:    Wed 2 Dec 2026, 15:30 UTC',
        'Answer by:    Thu 3 Dec 2026, 15:30 UTC',
        '  Step 1 of 3: 10 % of traffic on green (1.1.0, slot b), watched for 5 min.',
        '  Step 3 of 3: 100 % of traffic on green (1.1.0, slot b), watched for 10 min.',
        '  Then the termination window: blue (1.0.0, slot a) stays up for 1 h 30 min from when green (1.1.0, slot b) carries all traffic (the watch of the last step is part of it), taking no traffic, ready for a rollback.',
        '  Then a second approval is asked, to terminate blue.',
        'If you reject: The deployment rolls back: green (1.1.0, slot b) is terminated and blue (1.0.0, slot a) stays live; no traffic has moved to green.',
        'If nobody answers by Thu 3 Dec 2026, 15:30 UTC, the wait times out and the deployment rolls back just as on Reject.',
        '  "web-prod-latency": ALARM',
      ]),
    );
    const none = summaryText({
      ...shift,
      ahead: { ...(shift.ahead as NonNullable<ApprovalSummary['ahead']>), terminationApproval: false },
    });
    expect(none).toContain('Then blue is terminated without asking again.');
  });

  it('a first deployment: no window, nothing to keep serving', () => {
    const { liveVersion, ...first } = shift;
    const text = summaryText({
      ...first,
      replacingVersion: { version: '1.1.0', slot: 'a' },
      ahead: {
        blue: null,
        green: 'a',
        steps: [{ percent: 100, settleSeconds: 300 }],
        windowSeconds: null,
        terminationApproval: false,
      },
    });
    expect(text).toContain('  Step 1 of 1: 100 % of traffic on green (1.1.0, slot a), watched for 5 min.');
    expect(text).toContain('This is the first deployment: there is no blue to keep or terminate');
    expect(text).toContain(
      'The deployment rolls back: green (1.1.0, slot a) is terminated. This is the first deployment: no record weighs more than 0 yet, and Route 53 then answers with every record, so green may already have served requests; there is no earlier release to return to.',
    );
  });

  it('before blue is terminated: Reject sends all traffic back to the version green replaced, and when', () => {
    const text = summaryText(termination);
    expect(text.split('\n')[0]).toBe('Terminate blue (1.0.0) of web/prod?');
    expect(text).toContain(
      'all traffic goes back to blue (1.0.0, slot a), which green replaced at Wed 2 Dec 2026, 14:25 UTC (1 h 5 min before approval was asked), and green (1.1.0, slot b) is drained and terminated.',
    );
    expect(text).toContain('then blue (1.0.0, slot a) is deregistered, drained and terminated.');
    expect(text).not.toContain('Step 1 of 3');
    const page = confirmationPage(termination, fields, { approvers: APPROVERS });
    expect(page).toContain('<h1>Terminate blue (1.0.0) of web/prod?</h1>');
    expect(page).toContain('<h2>If you reject</h2>');
  });
});

describe('a summary stored before these fields', () => {
  it('shows without the sections it lacks, and claims nothing of blue', () => {
    const { liveVersion, ahead, alarms, deadline, ...older } = shift;
    const text = summaryText(older);
    expect(text).toContain(
      'If you reject: The deployment rolls back: green (1.1.0, slot b) is terminated; no traffic has moved to it.',
    );
    expect(text).toContain('If nobody answers in time, the wait times out');
    expect(text).not.toContain('If you approve');
    expect(text).not.toContain('Watched alarms');
    const page = confirmationPage(older, fields);
    expect(page).not.toContain('<h2>Watched alarms</h2>');
    expect(page).toContain('You are the only approver.');
  });
});

describe('the other approvers', () => {
  it('are named, each approver without themselves, and the first answer decides', () => {
    const email = summaryText(shift, APPROVERS, 'bob@example.com');
    expect(email).toContain(
      'Also asked: "alice@example.com", "arn:aws:iam::123456789012:role/Approvers". The first answer decides for everyone asked',
    );
    const page = confirmationPage(
      shift,
      { ...fields, approver: 'bob@example.com' },
      { approvers: APPROVERS },
    );
    expect(page).toContain('<li class="name">alice@example.com</li>');
    expect(page).toContain('<li class="name">arn:aws:iam::123456789012:role/Approvers</li>');
    expect(page).not.toContain('<li class="name">bob@example.com</li>');
    expect(confirmationPage(shift, fields, { approvers: ['alice@example.com'] })).toContain(
      'You are the only approver.',
    );
  });
});

describe('hostile text', () => {
  const hostile: ApprovalSummary = {
    ...shift,
    alarms: [{ name: HOSTILE, state: 'OK' }],
    commit: HOSTILE,
    changes: HOSTILE,
    uploadedBy: HOSTILE,
  };

  it('is escaped on the page: alarm names, approvers, commit notes, comments', () => {
    const page = confirmationPage(hostile, fields, { approvers: ['alice@example.com', HOSTILE] });
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('</li><script>');
    expect(page).toContain('evil&quot;&lt;/li&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    const decided = decidedPage(hostile, {
      stage: 'traffic-shift',
      decision: 'approved',
      approver: 'alice@example.com',
      comment: HOSTILE,
      at: '2026-12-02T15:40:00.000Z',
    });
    expect(decided).not.toContain('<script>');
    expect(decided).toContain('<blockquote>evil&quot;&lt;/li&gt;&lt;script&gt;');
    expect(decided).toContain('at Wed 2 Dec 2026, 15:40 UTC');
  });

  it('is one quoted line in the email: no name starts a line of its own', () => {
    const text = summaryText(hostile, ['alice@example.com', HOSTILE], 'alice@example.com');
    const lines = text.split('\n');
    expect(lines.some((line) => line.startsWith('Deployed'))).toBe(false);
    expect(text).not.toContain('\u2028');
    expect(lines).toContain('  "evil\\"</li><script>alert(1)</script>\\u2028Deployed web/prod 9.9.9": OK');
  });

  it('is escaped once, however it reached the summary: an alarm name read back from its quoting', () => {
    const name = 'web-prod-\u202e5xx\u2028line';
    const kept = watchedAlarms([name], new Map([[name, { state: 'ALARM' as const }]]));
    const line = summaryText({ ...shift, ...kept })
      .split('\n')
      .find((l) => l.endsWith(': ALARM'));
    expect(JSON.parse(line?.trim().replace(/: ALARM$/, '') ?? '')).toBe(name);
    const page = confirmationPage({ ...shift, ...kept }, fields, { approvers: ['alice@example.com'] });
    expect(page).toContain('web-prod-\\u202e5xx\\u2028line');
    expect(page).not.toContain('\u202e');
  });
});

describe('the alarms kept in a summary', () => {
  it('keep the config’s order, name the missing ones, and are bounded', () => {
    const found = new Map([['b', { state: 'ALARM' as const }]]);
    expect(watchedAlarms(['a', 'b'], found)).toEqual({
      alarms: [
        { name: 'a', state: 'MISSING' },
        { name: 'b', state: 'ALARM' },
      ],
    });
    const many = Array.from({ length: MAX_SUMMARY_ALARMS + 5 }, (_, i) => `alarm-${i}-${'x'.repeat(400)}`);
    const kept = watchedAlarms(many, new Map());
    expect(kept.alarms).toHaveLength(MAX_SUMMARY_ALARMS);
    expect(kept.alarmsNotShown).toBe(5);
    expect(Math.max(...(kept.alarms ?? []).map((a) => [...a.name].length))).toBe(255);
    expect(summaryText({ ...shift, ...kept })).toContain('  and 5 more');
  });
});
