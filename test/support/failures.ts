import { expect } from 'vitest';

/**
 * Expects `run` to reject with an error named `name` whose message contains `message`, or matches
 * it when it is a regular expression.
 */
export async function expectFailure(
  run: Promise<unknown>,
  name: string,
  message: string | RegExp,
): Promise<void> {
  await expect(run).rejects.toMatchObject({
    name,
    message: typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message),
  });
}
