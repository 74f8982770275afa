import { Writable } from 'node:stream';
import type { ExitCode } from '../../cli/exit-codes.ts';
import { main } from '../../cli/main.ts';

/** The command line run in this process, its stdout and stderr captured. */
export async function runCli(argv: string[]): Promise<{ code: ExitCode; stdout: string; stderr: string }> {
  const captured = { stdout: '', stderr: '' };
  const stream = (name: 'stdout' | 'stderr') =>
    new Writable({
      write(chunk, _encoding, done) {
        captured[name] += String(chunk);
        done();
      },
    });
  const code = await main(argv, { stdout: stream('stdout'), stderr: stream('stderr') });
  return { code, ...captured };
}
