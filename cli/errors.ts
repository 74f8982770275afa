import { EXIT, type ExitCode } from './exit-codes.ts';

/** A command that cannot go on: its message for the person, and the exit code it ends with. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** What the JSON document carries beside the error (the execution followed, to resume it). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** A mistake in the command line itself (a bad flag value, a key the service would ignore). */
export function usageError(message: string): CommandError {
  return new CommandError(message, EXIT.usage);
}

/** Errors of the AWS SDK (a service's answer, or credentials and Region not found) end with EXIT.aws. */
export function exitCodeOf(error: unknown): ExitCode | undefined {
  if (error instanceof CommandError) return error.exitCode;
  const e = error as { $metadata?: unknown; name?: string };
  if (e?.$metadata !== undefined || /Credentials|Region|Endpoint|TimeoutError/i.test(e?.name ?? ''))
    return EXIT.aws;
  return undefined;
}
