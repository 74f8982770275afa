import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Summary } from '../../sim/simulate.ts';

// The simulator as a child process serving its approval links (`npm run simulate -- --scenario
// approval-manual --serve 0 --json`), shared by the browser test and `npm run docs:screenshot`.

/** The repository's root: the simulator runs from there. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The approver whose links the browser opens. */
export const APPROVER = 'alice@example.com';
/** How long to wait for the simulator, or the browser, before failing. */
export const WAIT_MS = 60_000;

type Child = ChildProcessByStdio<null, Readable, Readable>;

/** The simulator as a child process: its approval links as they are printed, its summary at the end. */
export class Simulation {
  private readonly child: Child;
  private readonly stderr: string[] = [];
  private stdout = '';
  private partial = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly listeners = new Set<() => void>();
  /** Alice's approval links, one per round of approvals, in the order they were printed. */
  readonly links: string[] = [];

  constructor(scenario: string) {
    // Node with tsx's loader, not the tsx CLI: the CLI runs the script in a grandchild process,
    // which killing the child would leave behind, still holding its approval open forever.
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', 'sim/cli.ts', '--scenario', scenario, '--serve', '0', '--json'],
      { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (this.partial + chunk).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) this.line(line);
      this.changed();
    });
    this.child.on('error', (error) => {
      this.stderr.push(`spawn failed: ${error.message}`);
      this.exit ??= { code: null, signal: null };
      this.changed();
    });
    // 'close', not 'exit': stdout and stderr have been read to the end by then.
    this.child.on('close', (code, signal) => {
      if (this.partial) this.line(this.partial);
      this.partial = '';
      this.exit = { code, signal };
      this.changed();
    });
  }

  private line(line: string): void {
    this.stderr.push(line);
    const match = line.match(/^APPROVAL LINK for ([^:]+): (\S+)/);
    if (match?.[1] === APPROVER && match[2]) this.links.push(match[2]);
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** The last lines the simulator wrote to stderr, for failure messages. */
  tail(lines = 25): string {
    return this.stderr.slice(-lines).join('\n');
  }

  /** Resolves with what `check` finds once it finds something; fails on timeout or exit first. */
  private waitFor<T>(what: string, check: () => T | undefined, timeoutMs = WAIT_MS): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (error?: Error, value?: T) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        if (error) reject(error);
        else resolve(value as T);
      };
      const listener = () => {
        let found: T | undefined;
        try {
          found = check();
        } catch (error) {
          done(error as Error);
          return;
        }
        if (found !== undefined) done(undefined, found);
        else if (this.exit)
          done(
            new Error(
              `the simulator exited (code ${this.exit.code}, signal ${this.exit.signal}) before ${what}; its stderr ended:\n${this.tail()}`,
            ),
          );
      };
      const timer = setTimeout(
        () =>
          done(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${what}; its stderr ended:\n${this.tail()}`,
            ),
          ),
        timeoutMs,
      );
      this.listeners.add(listener);
      listener();
    });
  }

  /** Alice's link of the given round (0: before the traffic shift, 1: before blue is terminated). */
  link(round: number): Promise<string> {
    return this.waitFor(`approval round ${round + 1} (a link for ${APPROVER})`, () => this.links[round]);
  }

  /** The summary JSON, the last line of stdout, once the simulator has exited. */
  summary(): Promise<Summary> {
    return this.waitFor('the simulator to exit', () => {
      if (!this.exit) return undefined;
      const last = this.stdout.trim().split('\n').at(-1) ?? '';
      try {
        return JSON.parse(last) as Summary;
      } catch {
        throw new Error(
          `the simulator exited (code ${this.exit.code}) without a JSON summary; stdout ended "${last}"; stderr ended:\n${this.tail()}`,
        );
      }
    });
  }

  /** Ends the child (a no-op when it has already exited). */
  stop(): void {
    if (this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
  }
}
