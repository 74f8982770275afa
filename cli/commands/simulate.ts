import { oneLine, quoted } from '#shared/domain/text.ts';
import { validateText } from '../config-file.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import { type CommandContext, type Register, withGlobalOptions } from '../main.ts';

interface SimulateFlags {
  config?: string;
  scenario: string;
  app: string;
  env: string;
}

/** The exit code of a simulated deployment, as `deploy --wait` gives it for a real one. */
function exitOf(status: string, violations: number): ExitCode {
  if (violations > 0) return EXIT.failed;
  if (status === 'SUCCEEDED') return EXIT.ok;
  if (status === 'ROLLED_BACK') return EXIT.rolledBack;
  return EXIT.failed;
}

async function simulate({ out }: CommandContext, flags: SimulateFlags): Promise<ExitCode> {
  // The simulator sets the functions' environment before their modules load: loaded here, not at start.
  const { findScenario, SCENARIOS } = await import('#sim/scenarios.ts');
  let scenario = findScenario(flags.scenario);
  let own: import('#sim/worlds.ts').SimApp | undefined;
  if (flags.config !== undefined) {
    const { loadOwnApp, ownScenario } = await import('#sim/own-config.ts');
    const loaded = await loadOwnApp(flags.config, flags.app, flags.env);
    if (!loaded.ok) {
      const result = { file: flags.config, valid: false, problems: loaded.problems };
      out.progress(`${oneLine(flags.config)}: refused before anything ran, as the service would refuse it`);
      out.result(result, validateText(result));
      return loaded.code;
    }
    const chosen = ownScenario(flags.scenario, loaded.own);
    if (!chosen.ok) {
      out.progress(chosen.reason);
      return EXIT.usage;
    }
    own = loaded.own;
    scenario = chosen.scenario;
  }
  if (!scenario || scenario.needsPerson) {
    const runnable = SCENARIOS.filter((s) => !s.needsPerson).map((s) => s.name);
    out.progress(`unknown scenario ${quoted(flags.scenario)}; one of: ${runnable.join(', ')}`);
    return EXIT.usage;
  }
  const { runScenario } = await import('#sim/simulate.ts');
  const { summaryLines } = await import('#sim/summary.ts');
  out.progress(`scenario ${scenario.name}: ${scenario.summary}`);
  const summary = await runScenario(scenario, {
    print: (line) => out.progress(line),
    ...(own ? { own } : {}),
  });
  out.result(summary, summaryLines(summary).join('\n'));
  return exitOf(summary.status, summary.violations.length);
}

export const registerSimulate: Register = (program, run) => {
  withGlobalOptions(
    program
      .command('simulate')
      .description(
        'run a whole deployment in a simulated AWS account on a virtual clock: the real state machine and handlers, your own config with --config (exit 0 succeeded, 3 rolled back, 1 any other end or a safety invariant broken or a config refused, 2 unknown scenario or unreadable --config)',
      )
      .option('--config <file>', 'your deployment config: the simulated account is built from it')
      .option('--scenario <name>', 'what happens during the deployment (npm run simulate -- --list)', 'happy')
      .option('--app <app>', 'the app the config is for', 'web')
      .option('--env <env>', 'the environment the config is for', 'prod'),
  ).action(run(simulate));
};
