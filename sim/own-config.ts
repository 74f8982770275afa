import { parseArtifactKey } from '#shared/domain/artifact-key.ts';
import { quoted } from '#shared/domain/text.ts';
import { type ConfigProblem, validateFile } from '../cli/config-file.ts';
import { EXIT, type ExitCode } from '../cli/exit-codes.ts';
import type { ApproverBehaviour } from './approver.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';
import { DEFAULT_TOPIC_ARN, TOPIC_NAMES } from './world.ts';
import { releaseKey, type SimApp } from './worlds.ts';

// A user's own config in the simulator (`simulate --config FILE`): the simulated account is built
// from it (sim/worlds.ts seedApp), and a config the service would refuse is refused before
// anything runs, with the problems Plan would name (the same check as `bluegreen validate`).

/** Who answers a config's approval requests when the scenario says nobody in particular. */
const APPROVES_SOON: ApproverBehaviour = {
  kind: 'approve',
  afterMinutes: 5,
  comment: 'Approved in the simulator.',
};

/** The app/env to simulate, or why not: the problems, and the exit code (2 when the file cannot be read). */
export type OwnApp = { ok: true; own: SimApp } | { ok: false; problems: ConfigProblem[]; code: ExitCode };

/**
 * Reads `file` as the config of `app`/`env` and checks it as Plan would in the simulated account
 * (its service runs in account 123456789012, us-east-1): the app and env must make a release key
 * the service accepts, and the config must pass every rule of `bluegreen validate`.
 */
export async function loadOwnApp(file: string, app: string, env: string): Promise<OwnApp> {
  const key = parseArtifactKey(releaseKey('1.0.0', 'zip', app, env));
  if (!key.ok)
    return { ok: false, problems: [{ field: '--app/--env', message: key.reason }], code: EXIT.usage };
  const { result, config, code } = await validateFile(file, {
    topicArn: DEFAULT_TOPIC_ARN,
    topicNames: TOPIC_NAMES,
  });
  return config ? { ok: true, own: { app, env, config } } : { ok: false, problems: result.problems, code };
}

/**
 * The scenario `name` for a user's config: only those that need nothing of the built-in world run,
 * and a config that asks for approval is approved 5 minutes in unless the scenario answers otherwise.
 */
export function ownScenario(
  name: string,
  own: SimApp,
): { ok: true; scenario: Scenario } | { ok: false; reason: string } {
  const scenario = SCENARIOS.find((s) => s.name === name);
  const fit = SCENARIOS.filter((s) => s.anyConfig).map((s) => s.name);
  if (!scenario)
    return { ok: false, reason: `unknown scenario ${quoted(name)}; with --config one of: ${fit.join(', ')}` };
  if (!scenario.anyConfig) {
    return {
      ok: false,
      reason: `scenario ${quoted(name)} is written for the built-in web/prod world (its names, fleet or steps), not for --config; with --config one of: ${fit.join(', ')}`,
    };
  }
  return {
    ok: true,
    scenario:
      own.config.approval && !scenario.approvers ? { ...scenario, approvers: APPROVES_SOON } : scenario,
  };
}
