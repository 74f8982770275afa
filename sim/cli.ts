import { parseArgs } from 'node:util';
import { runMain } from './main.ts';
import { summaryLines } from './summary.ts';

const USAGE = `Usage: npm run simulate -- [--scenario NAME] [--config FILE [--app APP] [--env ENV]] [--json]
       [--verbose] [--list] [--serve PORT]

Runs a whole blue/green deployment against a simulated AWS account on a virtual clock:
the real state machine (statemachines/deploy.asl.yml) and the real Lambda handlers.

  --scenario NAME  which world and faults to simulate (default: happy); --list shows them
  --config FILE    your own deployment config: the simulated account is built from it (its zone,
                   records, target groups, launch template, alarms...) and release 1.1.0 of
                   APP/ENV is deployed with it. A config the service would refuse is refused
                   before anything runs, with the problems bluegreen validate names (exit 1;
                   2 when FILE cannot be read).
                   Scenarios marked "any config" in --list run with it.
  --app APP        the app the config is for (default: web)
  --env ENV        the environment the config is for (default: prod)
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
        config: { type: 'string' },
        app: { type: 'string', default: 'web' },
        env: { type: 'string', default: 'prod' },
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
    for (const s of SCENARIOS)
      console.log(
        `${s.name.padEnd(30)} expect ${s.expect.padEnd(12)} ${s.anyConfig ? '(any config) ' : ''}${s.summary}`,
      );
    return 0;
  }
  let own: import('./worlds.ts').SimApp | undefined;
  let scenario = findScenario(values.scenario);
  if (values.config !== undefined) {
    const { loadOwnApp, ownScenario } = await import('./own-config.ts');
    const loaded = await loadOwnApp(values.config, values.app, values.env);
    if (!loaded.ok) {
      const { validateText } = await import('../cli/config-file.ts');
      console.error('refused before anything ran, as the service would refuse it:');
      console.error(validateText({ file: values.config, valid: false, problems: loaded.problems }));
      return loaded.code;
    }
    const chosen = ownScenario(values.scenario, loaded.own);
    if (!chosen.ok) {
      console.error(chosen.reason);
      return 2;
    }
    own = loaded.own;
    scenario = chosen.scenario;
    // The simulated service's stack parameter ListenerArns names the config's listener, as the
    // operator of an account would (the handlers read it when they load, after this).
    const listener = own.config.listener;
    if (listener)
      process.env.MANAGED_LISTENERS = [
        process.env.MANAGED_LISTENERS,
        listener.ruleArn ?? listener.listenerArn,
      ]
        .filter(Boolean)
        .join(',');
  }
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
    ...(own ? { own } : {}),
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
    console.log('');
    for (const line of summaryLines(summary)) console.log(line);
  }
  return summary.ok ? 0 : 1;
}

runMain(main);
