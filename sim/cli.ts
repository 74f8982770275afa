import { parseArgs } from 'node:util';
import { formatDuration } from '#shared/domain/report.ts';
import { runMain } from './main.ts';

const USAGE = `Usage: npm run simulate -- [--scenario NAME] [--json] [--verbose] [--list] [--serve PORT]

Runs a whole blue/green deployment against a simulated AWS account on a virtual clock:
the real state machine (statemachines/deploy.asl.yml) and the real Lambda handlers.

  --scenario NAME  which world and faults to simulate (default: happy); --list shows them
  --json           print progress to stderr and one JSON summary as the last line of stdout
  --verbose        also print Wait and Choice states and the handlers' logs
  --serve PORT     serve approval links on http://127.0.0.1:PORT (0 picks a free port) and let
                   a person answer them in a browser; virtual time waits while they decide.
                   Needed by approval-manual.
  --list           list the scenarios and exit
  --help           this text`;

async function main(): Promise<number> {
  let args: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      options: {
        scenario: { type: 'string', short: 's', default: 'happy' },
        json: { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        list: { type: 'boolean', default: false },
        serve: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  }
  try {
    args = parse();
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values } = args;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let server: import('node:http').Server | undefined;
  let handlerRef: import('./http.ts').HttpHandler | undefined;
  if (values.serve !== undefined) {
    const port = Number(values.serve);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      console.error(`--serve needs a port number 0-65535, got "${values.serve}"`);
      return 2;
    }
    const { serveHttp } = await import('./http.ts');
    server = await serveHttp(() => {
      if (!handlerRef) throw new Error('the approval page is not loaded yet');
      return handlerRef;
    }, port);
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    // Links must point at this server; the functions read it from their environment at load.
    process.env.APPROVAL_BASE_URL = `http://127.0.0.1:${bound}`;
  }
  // The environment must be in place before any handler module is loaded.
  const { loadHandlers, runScenario, simulatedEnvironment } = await import('./simulate.ts');
  simulatedEnvironment(values.verbose);
  const { SCENARIOS, findScenario } = await import('./scenarios.ts');
  if (values.list) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(30)} expect ${s.expect.padEnd(12)} ${s.summary}`);
    return 0;
  }
  const scenario = findScenario(values.scenario);
  if (!scenario) {
    console.error(
      `unknown scenario "${values.scenario}"; one of: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
    return 2;
  }
  if (scenario.needsPerson && !server) {
    console.error(`scenario ${scenario.name} waits for you to answer approval links: add --serve PORT`);
    return 2;
  }
  const progress = values.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  progress(`scenario ${scenario.name}: ${scenario.summary}`);
  if (server) {
    handlerRef = (await loadHandlers()).approvalPage as unknown as import('./http.ts').HttpHandler;
  }
  const summary = await runScenario(scenario, {
    print: progress,
    verbose: values.verbose,
    ...(server
      ? {
          person: {
            onLink: (approver: string, url: string) =>
              progress(`APPROVAL LINK for ${approver}: ${url}  (open it in a browser; the simulation waits)`),
          },
        }
      : {}),
  });
  server?.close();
  if (values.json) {
    console.log(JSON.stringify(summary));
  } else {
    const invariants = summary.violations.length === 0 ? 'all held' : `${summary.violations.length} VIOLATED`;
    console.log('');
    console.log(
      `Result:      ${summary.status} (expected ${summary.expected})${summary.ok ? '' : '  ✗ NOT AS EXPECTED'}`,
    );
    if (summary.cause) console.log(`Cause:       ${summary.cause}`);
    console.log(
      `Live slot:   ${summary.liveSlot ?? 'none'}  weights a=${summary.weights.a} b=${summary.weights.b}`,
    );
    console.log(`Running:     a=${summary.running.a} b=${summary.running.b} other=${summary.running.other}`);
    console.log(
      `Took:        ${formatDuration(summary.virtualSeconds)} virtual, ${summary.wallMs} ms wall; ${summary.executions} execution(s), ${summary.transitions} state transitions, ${Object.values(summary.apiCalls).reduce((a, b) => a + b, 0)} AWS API calls`,
    );
    console.log(`Invariants:  ${invariants}`);
    for (const v of summary.violations) console.log(`  - ${v}`);
    for (const p of summary.problems.filter((p) => !p.startsWith('violation:')))
      console.log(`Problem:     ${p}`);
    for (const n of summary.notifications) console.log(`Notified:    ${n.subject}`);
  }
  return summary.ok ? 0 : 1;
}

runMain(main);
