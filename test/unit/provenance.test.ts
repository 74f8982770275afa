import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ApprovalSummary, summaryText } from '#shared/domain/approval.ts';
import { confirmationPage } from '#shared/domain/approval-page.ts';
import {
  fleetVersion,
  MAX_CHANGES,
  MAX_COMMIT,
  PROVENANCE_LIMITS,
  provenanceProblem,
  releaseProvenance,
  uploaderOf,
} from '#shared/domain/provenance.ts';
import { TAG } from '#shared/domain/tags.ts';
import { oneLineWithin } from '#shared/domain/text.ts';

// Where a release came from reaches the approver's email and page: the uploader from the S3
// event, the commit and change note from the object's metadata, which anyone allowed to upload
// writes. Each is one line and bounded before the plan carries it.

const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const FAKE = 'Approved by the release manager';

describe('oneLineWithin: one line, at most so many characters', () => {
  it('keeps short text as oneLine writes it', () => {
    expect(oneLineWithin('fix: retry once', 100)).toBe('fix: retry once');
    expect(oneLineWithin(`one\n${FAKE}`, 100)).toBe(`one\\u000a${FAKE}`);
  });

  it('cuts long text to the bound, ending in an ellipsis', () => {
    const cut = oneLineWithin('a'.repeat(120), 100);
    expect(Array.from(cut)).toHaveLength(100);
    expect(cut).toBe(`${'a'.repeat(99)}…`);
  });

  it('never cuts inside an escape, nor inside a character of two UTF-16 units', () => {
    // The 99th kept character would fall inside the escape of the newline.
    expect(oneLineWithin(`${'a'.repeat(96)}\nbbbb`, 100)).toBe(`${'a'.repeat(96)}…`);
    expect(oneLineWithin(`${'😀'.repeat(120)}`, 10)).toBe(`${'😀'.repeat(9)}…`);
  });

  it('is one line and within the bound for any text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.integer({ min: 1, max: 200 }),
        (text, max) => {
          const line = oneLineWithin(text, max);
          expect(line).not.toMatch(UNSAFE);
          expect(Array.from(line).length).toBeLessThanOrEqual(max);
        },
      ),
    );
  });
});

describe("a release's provenance", () => {
  it('takes the commit and change note from the metadata, one line and bounded', () => {
    const release = releaseProvenance('AWS:AIDAEXAMPLECI', {
      commit: ` 3f9c2ab\n${FAKE} `,
      changes: `${'x'.repeat(600)}`,
      other: 'ignored',
    });
    expect(release).toEqual({
      uploadedBy: 'AWS:AIDAEXAMPLECI',
      commit: `3f9c2ab\\u000a${FAKE}`,
      changes: `${'x'.repeat(MAX_CHANGES - 1)}…`,
    });
    expect(Array.from(release?.commit ?? '').length).toBeLessThanOrEqual(MAX_COMMIT);
  });

  it('is absent when nothing says anything (blank metadata counts as none)', () => {
    expect(releaseProvenance(undefined, undefined)).toBeUndefined();
    expect(releaseProvenance(undefined, { commit: '  ', changes: '' })).toBeUndefined();
  });

  it('names the uploader S3 names, and no other', () => {
    expect(uploaderOf('AWS:AROAEXAMPLEID:ci-session@build.42')).toBe('AWS:AROAEXAMPLEID:ci-session@build.42');
    expect(uploaderOf('A3NL1KOZZKExample')).toBe('A3NL1KOZZKExample');
    expect(uploaderOf(`AWS:AIDA\n${FAKE}`)).toBeUndefined();
    expect(uploaderOf('<b>x</b>')).toBeUndefined();
    expect(uploaderOf('a'.repeat(257))).toBeUndefined();
    expect(uploaderOf(undefined)).toBeUndefined();
  });
});

describe("blue's version", () => {
  const tagged = (version?: string) => ({ tags: version === undefined ? {} : { [TAG.version]: version } });

  it('is the version all of blue’s instances are tagged with', () => {
    expect(fleetVersion([tagged('1.0.0'), tagged('1.0.0')])).toBe('1.0.0');
  });

  it('is absent when they disagree, one lacks the tag, the tag is no version, or there are none', () => {
    expect(fleetVersion([tagged('1.0.0'), tagged('0.9.0')])).toBeUndefined();
    expect(fleetVersion([tagged('1.0.0'), tagged()])).toBeUndefined();
    expect(fleetVersion([tagged('1.0.0\nDeployed')])).toBeUndefined();
    expect(fleetVersion([])).toBeUndefined();
  });
});

describe('what is at stake, in the email and on the page', () => {
  const summary: ApprovalSummary = {
    app: 'web',
    env: 'prod',
    version: '1.1.0',
    deploymentId: 'web-prod-1_1_0-0123456789',
    stage: 'traffic-shift',
    amiId: 'ami-0123456789abcdef0',
    greenHealth: '3 of 3 green targets healthy',
    weights: 'a=100 b=0',
    executionUrl: 'https://console.aws.amazon.com/states/home#/v2/executions/details/arn',
    requestedAt: '2026-03-02T09:30:00.000Z',
    liveVersion: { version: '1.0.0', slot: 'a' },
    replacingVersion: { version: '1.1.0', slot: 'b' },
    uploadedBy: 'AWS:AIDAEXAMPLECI',
    commit: '3f9c2ab',
    changes: 'Cart total right for <3 items; "quoted" & <script>alert(1)</script>',
  };
  const fields = { approver: 'alice@example.com', expires: '1772443800', signature: 'x'.repeat(43) };

  it('writes each as a line of the email, people’s text quoted', () => {
    const lines = summaryText(summary).split('\n');
    expect(lines).toContain('Live version: 1.0.0 (slot a)');
    expect(lines).toContain('New version:  1.1.0 (slot b)');
    expect(lines).toContain('Uploaded by:  "AWS:AIDAEXAMPLECI"');
    expect(lines).toContain('Commit:       "3f9c2ab"');
    expect(lines).toContain(
      'Changes:      "Cart total right for <3 items; \\"quoted\\" & <script>alert(1)</script>"',
    );
  });

  it('shows each as a row of the page, escaped', () => {
    const page = confirmationPage(summary, fields);
    expect(page).toContain('<dt>Live version</dt><dd>1.0.0 (slot a)</dd>');
    expect(page).toContain('<dt>New version</dt><dd>1.1.0 (slot b)</dd>');
    expect(page).toContain('<dt>Uploaded by</dt><dd>AWS:AIDAEXAMPLECI</dd>');
    expect(page).toContain('<dt>Commit</dt><dd>3f9c2ab</dd>');
    expect(page).toContain(
      '<dd>Cart total right for &lt;3 items; &quot;quoted&quot; &amp; &lt;script&gt;alert(1)&lt;/script&gt;</dd>',
    );
    expect(page).not.toContain('<script>');
  });

  it('leaves out the rows of what is unknown', () => {
    const { liveVersion, uploadedBy, commit, changes, ...older } = summary;
    const lines = summaryText(older).split('\n');
    expect(lines.filter((l) => /^(Live version|Uploaded by|Commit|Changes):/.test(l))).toEqual([]);
    const page = confirmationPage(older, fields);
    for (const label of ['Live version', 'Uploaded by', 'Commit', 'Changes'])
      expect(page).not.toContain(`<dt>${label}</dt>`);
    expect(page).toContain('<dt>New version</dt>');
  });
});

/** Printable ASCII (which passes, up to the bound) and any code points (which mostly do not). */
const texts = (maxLength: number) =>
  fc.oneof(fc.string({ maxLength, unit: 'grapheme-ascii' }), fc.string({ maxLength, unit: 'binary' }));

describe('provenanceProblem: what `bluegreen deploy --commit/--changes` sends is what Plan reads', () => {
  it.each(['commit', 'changes'] as const)(
    'a %s it accepts reaches the plan unchanged (trimmed; blank is none)',
    (field) => {
      fc.assert(
        fc.property(texts(PROVENANCE_LIMITS[field] + 20), (value) => {
          if (provenanceProblem(field, value) !== undefined) return;
          const sent = value.trim();
          expect(releaseProvenance(undefined, { [field]: sent })?.[field]).toBe(
            sent === '' ? undefined : sent,
          );
        }),
      );
    },
  );

  it.each(['commit', 'changes'] as const)('a %s Plan would cut or escape is refused', (field) => {
    fc.assert(
      fc.property(texts(PROVENANCE_LIMITS[field] + 20), (value) => {
        const read = releaseProvenance(undefined, { [field]: value })?.[field];
        if (value.trim() !== '' && read !== value.trim())
          expect(provenanceProblem(field, value)).toBeDefined();
      }),
    );
  });

  it('names the bound, and the first character that would not travel', () => {
    expect(provenanceProblem('commit', 'a'.repeat(MAX_COMMIT))).toBeUndefined();
    expect(provenanceProblem('commit', 'a'.repeat(MAX_COMMIT + 1))).toBe('is 101 characters, more than 100');
    expect(provenanceProblem('changes', 'c'.repeat(MAX_CHANGES + 1))).toBe(
      'is 501 characters, more than 500',
    );
    expect(provenanceProblem('changes', 'fix\tthat')).toMatch(
      /^has U\+0009 at character 4: only printable ASCII/,
    );
    expect(provenanceProblem('changes', 'emoji \u{1F680}')).toMatch(/^has U\+1F680 at character 7/);
    expect(provenanceProblem('commit', ' ')).toBeUndefined();
  });
});
