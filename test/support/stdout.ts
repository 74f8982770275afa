import { afterEach, beforeEach, type MockInstance, vi } from 'vitest';

/**
 * Keeps what reaches stdout from the test output while each test (of the file or describe block
 * it is called in) runs: the returned function gives what was written so far in the test.
 */
export function keptStdout(): () => string[] {
  let written: string[] = [];
  let spy: MockInstance | undefined;
  beforeEach(() => {
    written = [];
    spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    spy?.mockRestore();
  });
  return () => written;
}
