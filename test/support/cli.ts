import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { sleep } from '../../cli/context.ts';
import type { ExitCode } from '../../cli/exit-codes.ts';
import { main } from '../../cli/main.ts';
import type { Streams } from '../../cli/output.ts';
import { type Session, scenarioNamed, simulatedSession } from '../../cli/simulated.ts';

/** A release artifact to upload (a few bytes: the simulated bake does not unpack it). */
export const ARTIFACT = fileURLToPath(new URL('../fixtures/web-release.zip', import.meta.url));

/** What one command wrote and how it ended. */
export interface Ran {
  code: ExitCode;
  stdout: string;
  stderr: string;
  /** stdout as the one JSON document of --json. */
  json: () => Record<string, unknown>;
}

/** A stream that keeps what is written to it (not a terminal). */
function collector() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** Runs the command line in-process with its own streams (not terminals: no colour). */
export async function bluegreen(...argv: string[]): Promise<Ran> {
  const out = collector();
  const err = collector();
  const streams: Streams = { stdout: out.stream, stderr: err.stream };
  const code = await main(argv, streams);
  const stdout = out.text();
  return { code, stdout, stderr: err.text(), json: () => JSON.parse(stdout) as Record<string, unknown> };
}

/** A simulated account in which several commands run one after the other, as an operator would. */
export interface Account {
  session: Session;
  /** A command against the account's service stack (stage sim), with the operator's clients routed into it. */
  bluegreen(...argv: string[]): Promise<Ran>;
  /** Lets virtual time pass (the state machine runs meanwhile). */
  pass(seconds: number): Promise<void>;
}

/** Runs `use` in a fresh simulated account, the scenario's world (the built-in one by default). */
export function inAccount<T>(use: (account: Account) => Promise<T>, scenario?: string): Promise<T> {
  return simulatedSession(scenarioNamed(scenario), 'sim', (session) =>
    use({
      session,
      // Without --simulate: the command finds the stack and calls AWS as it would in an account.
      bluegreen: (...argv) =>
        session.run(() => bluegreen(...argv, '--stage', 'sim', '--region', 'us-east-1')),
      pass: (seconds) => session.run(() => sleep(seconds * 1000)),
    }),
  );
}
