import { handled, type Service, withService } from '../context.ts';
import { findExecutions, rowOf, rowText, TRUNCATED_TEXT } from '../deployments.ts';
import { usageError } from '../errors.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import type { CommandContext, Register } from '../main.ts';
import { withGlobalOptions } from '../main.ts';
import { scenarioOption } from '../options.ts';

interface HistoryOptions {
  limit: string;
  scenario?: string;
}

/** The most deployments history lists. */
const MAX_LIMIT = 100;

export function parseLimit(text: string): number {
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1 || limit > MAX_LIMIT)
    throw usageError(`--limit ${JSON.stringify(text)} must be a whole number from 1 to ${MAX_LIMIT}`);
  return limit;
}

async function history(
  { out }: CommandContext,
  app: string,
  env: string,
  limit: number,
  service: Service,
): Promise<ExitCode> {
  const rows = [];
  const { executions, truncated } = await findExecutions(service, { app, env }, { limit });
  for (const execution of executions) rows.push(await rowOf(service, execution));
  const lines =
    rows.length === 0
      ? [`no deployments of ${app}/${env}`]
      : [`${'VERSION'.padEnd(12)} ${'OUTCOME'.padEnd(20)} STARTED  ENDED  EXECUTION`, ...rows.map(rowText)];
  if (truncated) lines.push(TRUNCATED_TEXT);
  out.result({ app, env, deployments: rows, truncated }, lines.join('\n'));
  return EXIT.ok;
}

export const registerHistory: Register = (program, run) => {
  withGlobalOptions(
    program
      .command('history')
      .description("an app/env's deployments, newest first: version, start, end, outcome, rollback beside")
      .argument('<app>')
      .argument('<env>')
      .option('--limit <n>', 'how many deployments (1-100)', '10')
      .addOption(scenarioOption({ uploads: true })),
  ).action(
    run(async (context, app: string, env: string, flags: HistoryOptions) =>
      handled(context.out, async () => {
        const limit = parseLimit(flags.limit);
        return withService(context, (service) => history(context, app, env, limit, service), {
          scenario: flags.scenario,
        });
      }),
    ),
  );
};
