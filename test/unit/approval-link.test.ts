import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signLink, verifyLink } from '#shared/domain/approval.ts';

// A link's signature is 32 bytes of HMAC-SHA256 written as 43 base64url characters: 258 bits, so
// the last character carries 2 bits that decode to nothing. Only the encoding the service wrote
// may verify.

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const fields = { id: 'A'.repeat(32), approver: 'alice@example.com', expires: 1900000000 };

describe('an approval link signature', () => {
  it('verifies only in its canonical encoding: no other last character verifies, not even one decoding to the same bytes', () => {
    for (let round = 0; round < 8; round++) {
      const key = randomBytes(32);
      const signature = signLink(key, fields);
      const head = signature.slice(0, -1);
      const verifying = [...BASE64URL].filter((c) => verifyLink(key, fields, head + c));
      expect(verifying).toEqual([signature.at(-1)]);
      // The three strings a lenient decoder accepts as the same 32 bytes.
      const sameBytes = [...BASE64URL].filter(
        (c) =>
          c !== signature.at(-1) &&
          Buffer.from(head + c, 'base64url').equals(Buffer.from(signature, 'base64url')),
      );
      expect(sameBytes).toHaveLength(3);
      for (const c of sameBytes) expect(verifyLink(key, fields, head + c)).toBe(false);
    }
  });

  it('refuses a signature of another length or alphabet without throwing', () => {
    const key = randomBytes(32);
    const signature = signLink(key, fields);
    for (const bad of [
      '',
      signature.slice(0, -1),
      `${signature}A`,
      `${signature.slice(0, -1)}=`,
      `${signature.slice(0, -1)}/`,
    ]) {
      expect(verifyLink(key, fields, bad)).toBe(false);
    }
  });
});
