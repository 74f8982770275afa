import { readFile } from 'node:fs/promises';
import type { DeployConfig } from '#shared/domain/config.ts';
import { checkConfigText, type ServiceSide } from '#shared/domain/config-check.ts';
import { oneLine } from '#shared/domain/text.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';

// A config file read and checked as the service checks a config: shared by `bluegreen validate`
// and the simulator's --config.

/** One problem of a config: the field it is about (`traffic.steps`, `(file)`), and what is wrong. */
export interface ConfigProblem {
  field: string;
  message: string;
}

/** What `bluegreen validate --json` prints. */
export interface ValidateResult {
  file: string;
  valid: boolean;
  problems: ConfigProblem[];
}

/** The stack parameter NotificationTopicNames as serverless.yml deploys it unless told otherwise. */
export const DEFAULT_TOPIC_NAMES = 'bluegreen-*';

/** `field: message`, as the service's problems read, split at the first `: `. */
export function asProblem(line: string): ConfigProblem {
  const at = line.indexOf(': ');
  return at === -1
    ? { field: '(root)', message: line }
    : { field: line.slice(0, at), message: line.slice(at + 2) };
}

/** Why a file could not be read, in words (the system error's code otherwise). */
function unreadable(error: NodeJS.ErrnoException): string {
  const words: Record<string, string> = {
    ENOENT: 'no such file',
    EISDIR: 'is a directory, not a file',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
  };
  return `cannot read the file: ${words[error.code ?? ''] ?? error.code ?? error.message}`;
}

/** Reads and checks one config file: every rule the service applies before it reads the account. */
export async function validateFile(
  file: string,
  service: ServiceSide | ((config: DeployConfig) => ServiceSide),
): Promise<{ result: ValidateResult; code: ExitCode; config?: DeployConfig }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const problems = [{ field: '(file)', message: unreadable(error as NodeJS.ErrnoException) }];
    return { result: { file, valid: false, problems }, code: EXIT.usage };
  }
  const checked = checkConfigText(text, service);
  const problems = checked.ok ? [] : checked.problems.map(asProblem);
  const result = { file, valid: checked.ok, problems };
  return checked.ok ? { result, code: EXIT.ok, config: checked.config } : { result, code: EXIT.failed };
}

/** The result as lines a terminal shows; every part from the file is kept to its line. */
export function validateText(result: ValidateResult): string {
  const file = oneLine(result.file);
  if (result.valid) return `${file}: valid`;
  const count = `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}`;
  return [
    `${file}: ${count}`,
    ...result.problems.map((p) => `  ${oneLine(p.field)}: ${oneLine(p.message)}`),
  ].join('\n');
}
