import { Command, CommanderError, Option } from 'commander';
import { registerAbort } from './commands/abort.ts';
import { registerApprove, registerReject } from './commands/approve.ts';
import { registerDeploy } from './commands/deploy.ts';
import { registerHistory } from './commands/history.ts';
import { registerPlan } from './commands/plan.ts';
import { registerPromote } from './commands/promote.ts';
import { registerRedeploy } from './commands/redeploy.ts';
import { registerSimulate } from './commands/simulate.ts';
import { registerStatus } from './commands/status.ts';
import { registerValidate } from './commands/validate.ts';
import { registerWait } from './commands/wait.ts';
import { EXIT, EXIT_MEANINGS, type ExitCode } from './exit-codes.ts';
import { makeOutput, type Output, type Streams } from './output.ts';

/** The options every command takes. */
export interface GlobalOptions {
  region?: string;
  profile?: string;
  stage: string;
  json: boolean;
  simulate: boolean;
}

/** What a command's action is given: its global options and where to write. */
export interface CommandContext {
  options: GlobalOptions;
  out: Output;
}

/** A command module: adds its command to the program; its action returns the exit code. */
export type Register = (program: Command, run: Runner) => void;

/** Wraps a command's action: parses the global options, makes the output, returns its exit code. */
export type Runner = <A extends unknown[]>(
  action: (context: CommandContext, ...args: A) => Promise<ExitCode>,
) => (...args: A) => Promise<void>;

/** Adds the options every command takes to a command. */
export function withGlobalOptions(command: Command): Command {
  return command
    .addOption(new Option('--region <region>', 'AWS region of the service stack').env('AWS_REGION'))
    .addOption(new Option('--profile <profile>', 'AWS named profile for credentials').env('AWS_PROFILE'))
    .option('--stage <stage>', 'stage the service stack was deployed with', 'prod')
    .option('--json', 'print one JSON document on stdout (progress stays on stderr)', false)
    .option('--simulate', 'run against a fresh simulated AWS account instead of yours', false);
}

/** The commands, read when the program is built (the command modules import this one). */
const COMMANDS = (): Register[] => [
  registerValidate,
  registerPlan,
  registerSimulate,
  registerDeploy,
  registerWait,
  registerStatus,
  registerHistory,
  registerAbort,
  registerApprove,
  registerReject,
  registerPromote,
  registerRedeploy,
];

/**
 * Builds the program with every command. `streams` and `exit` are the process's unless a test
 * gives its own; the exit code is returned, never passed to process.exit here.
 */
export function buildProgram(streams: Streams = process): { program: Command; exitCode: () => ExitCode } {
  let code: ExitCode = EXIT.ok;
  const program = new Command('bluegreen')
    .description(
      'Blue/green deployments of EC2 fleets: check a config, plan, simulate, deploy and wait, look, approve, abort, promote, redeploy.',
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
    })
    .addHelpText(
      'after',
      `\nExit codes:\n${Object.entries(EXIT_MEANINGS)
        .map(([exitCode, meaning]) => `  ${exitCode.padStart(2)}  ${meaning}`)
        .join('\n')}\n`,
    );
  const run: Runner =
    (action) =>
    async (...args) => {
      const command = args.at(-1) as Command;
      const options = command.optsWithGlobals() as GlobalOptions;
      code = await action({ options, out: makeOutput(options.json, streams) }, ...args);
    };
  for (const register of COMMANDS()) register(program, run);
  return { program, exitCode: () => code };
}

/** Runs the command line with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[], streams: Streams = process): Promise<ExitCode> {
  const { program, exitCode } = buildProgram(streams);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw error;
  }
  return exitCode();
}
