import { findScenario, SCENARIOS } from '#sim/scenarios.ts';
import { buildScenarioWorld, inSimulatedAccount } from '#sim/simulate.ts';
import {
  APPROVALS_TABLE,
  asOperator,
  DEFAULT_TOPIC_ARN,
  LOCKS_TABLE,
  REGION,
  ROLLBACK_STATE_MACHINE_ARN,
  STATE_MACHINE_ARN,
  type World,
} from '#sim/world.ts';
import { BUCKET } from '#sim/worlds.ts';
import { findService, type ServiceCommand, type STACK_OUTPUTS, stackName } from './context.ts';
import { usageError } from './errors.ts';
import type { ExitCode } from './exit-codes.ts';

/** The scenario whose world --simulate builds when none is named: the built-in one, nothing failing. */
export const DEFAULT_SCENARIO = 'happy';

/** The service stack as deployed into the simulated account under `stage`, with its outputs. */
function publishStack(world: World, stage: string): void {
  const outputs: Record<(typeof STACK_OUTPUTS)[keyof typeof STACK_OUTPUTS], string> = {
    ReleaseBucketName: BUCKET,
    StateMachineArn: STATE_MACHINE_ARN,
    RollbackStateMachineArn: ROLLBACK_STATE_MACHINE_ARN,
    LocksTableName: LOCKS_TABLE,
    ApprovalsTableName: APPROVALS_TABLE,
    DeploymentTopicArn: DEFAULT_TOPIC_ARN,
  };
  world.cloudformation.stacks.set(stackName(stage), outputs);
}

/**
 * Runs a command against a fresh simulated account: the world of the scenario (the built-in one,
 * web/prod with blue 1.0.0 live in slot a, by default), with its faults and timings but not its
 * uploads, which are the command's to make. The command runs as the operator (its calls are not
 * the service's roles'), on the virtual clock: while it runs, the clock moves on timer by timer,
 * so the state machine runs while the command sleeps between its looks, and stops when it is done.
 */
export async function inSimulation(
  stage: string,
  scenarioName: string | undefined,
  command: ServiceCommand,
): Promise<ExitCode> {
  const scenario = findScenario(scenarioName ?? DEFAULT_SCENARIO);
  if (!scenario)
    throw usageError(
      `no scenario ${JSON.stringify(scenarioName)}; one of: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  return inSimulatedAccount(false, async (account) => {
    const { harness } = buildScenarioWorld(scenario, account, { print: () => undefined });
    publishStack(account.world, stage);
    let done = false;
    const settled = asOperator(async () => command(await findService(stage, REGION))).then(
      (code) => ({ code }),
      (error: unknown) => ({ error }),
    );
    void settled.finally(() => {
      done = true;
    });
    await harness.runner.drive(account.clock, () => !done);
    const result = await settled;
    if ('error' in result) throw result.error;
    return result.code;
  });
}
