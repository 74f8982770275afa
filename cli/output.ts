import { styleText } from 'node:util';

/**
 * Where a command writes. With --json, stdout carries exactly one JSON document (the result) and
 * everything else goes to stderr; without, the result is text on stdout. Progress is always on
 * stderr, so `bluegreen ... --json > out.json` keeps a clean document while a person watches.
 */
export interface Output {
  readonly json: boolean;
  /** A line of progress, on stderr. */
  progress(line: string): void;
  /** The command's result: the document with --json, the text without. Called once. */
  result(document: unknown, text: string): void;
  /**
   * Emphasis for progress lines: colour only when stderr (where they go) is a terminal and
   * NO_COLOR is not set, whatever stdout is (`--json > out.json` on a terminal keeps its colours).
   */
  style(format: 'bold' | 'red' | 'green' | 'yellow' | 'dim', text: string): string;
}

export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export function makeOutput(json: boolean, streams: Streams = process): Output {
  return {
    json,
    progress(line) {
      streams.stderr.write(`${line}\n`);
    },
    result(document, text) {
      streams.stdout.write(json ? `${JSON.stringify(document)}\n` : text.endsWith('\n') ? text : `${text}\n`);
    },
    style(format, text) {
      return styleText(format, text, { stream: streams.stderr as NodeJS.WriteStream, validateStream: true });
    },
  };
}
