import { signedPost } from '#shared/aws/signed-request.ts';
import { PROMOTIONS_PATH } from '#shared/domain/promotion-api.ts';
import { DECISIONS_PATH } from '#shared/domain/terminal-decision.ts';
import {
  DECISION_API_URL,
  type DecisionHandler,
  PROMOTION_API_URL,
  signedApiFetch,
} from '#sim/decision-api.ts';
import type { Harness } from '#sim/harness.ts';
import { readOperatorPolicies } from '#sim/iam/operator.ts';
import { findScenario, SCENARIOS, type Scenario } from '#sim/scenarios.ts';
import { buildScenarioWorld, inSimulatedAccount, type SimulatedAccount } from '#sim/simulate.ts';
import {
  APPROVALS_TABLE,
  asOperator,
  DEFAULT_TOPIC_ARN,
  LOCKS_TABLE,
  REGION,
  ROLLBACK_STATE_MACHINE_ARN,
  STATE_MACHINE_ARN,
  TOPIC_NAMES,
  type World,
} from '#sim/world.ts';
import { BUCKET, OPERATOR_ROLE, type ScenarioContext, uploadRelease } from '#sim/worlds.ts';
import {
  decisionRequests,
  findService,
  type ServiceCommand,
  type STACK_OUTPUTS,
  sleep,
  sleeping,
  stackName,
  TOPIC_NAMES_PARAMETER,
} from './context.ts';
import { usageError } from './errors.ts';
import type { ExitCode } from './exit-codes.ts';

/** The stage the service is deployed with in the simulated account (bluegreen-ec2-sim-locks...). */
export const SIMULATED_STAGE = 'sim';

/** The scenario whose world --simulate builds when none is named: the built-in one, nothing failing. */
export const DEFAULT_SCENARIO = 'happy';

/** How long (virtual seconds) a command other than deploy waits for the scenario's first execution. */
const FIRST_START_SECONDS = 300;

/** The service stack as deployed into the simulated account under `stage`, with its outputs. */
function publishStack(world: World, stage: string): void {
  const outputs: Record<(typeof STACK_OUTPUTS)[keyof typeof STACK_OUTPUTS], string> = {
    ReleaseBucketName: BUCKET,
    StateMachineArn: STATE_MACHINE_ARN,
    RollbackStateMachineArn: ROLLBACK_STATE_MACHINE_ARN,
    LocksTableName: LOCKS_TABLE,
    ApprovalsTableName: APPROVALS_TABLE,
    DeploymentTopicArn: DEFAULT_TOPIC_ARN,
    DecisionApiUrl: DECISION_API_URL,
    PromotionApiUrl: PROMOTION_API_URL,
  };
  world.cloudformation.stacks.set(stackName(stage), outputs);
  world.cloudformation.parameters.set(stackName(stage), { [TOPIC_NAMES_PARAMETER]: TOPIC_NAMES });
}

/**
 * Requests to the decision and promotion APIs signed as the operator: a session `alice` of OPERATOR_ROLE (whom
 * the simulated STS names the caller), with the operator policy attached, served as API Gateway
 * would (signature, IAM, then the real handler).
 */
function operatorDecisionPost(account: SimulatedAccount) {
  const operator = account.world.iam.assumeRole(OPERATOR_ROLE, 'alice', readOperatorPolicies());
  const routes = {
    [DECISIONS_PATH]: () => account.handlers.terminalDecision as unknown as DecisionHandler,
    [PROMOTIONS_PATH]: () => account.handlers.promote as unknown as DecisionHandler,
  };
  return signedPost(REGION, operator, signedApiFetch(account.world, routes));
}

/** A simulated account with the service deployed, in which commands run as the operator. */
export interface Session {
  account: SimulatedAccount;
  world: World;
  harness: Harness;
  /** What the scenario's own uploads would do (`uploadRelease`, a Stop...) is made through this. */
  ctx: ScenarioContext;
  /**
   * Runs `action` as the operator (its calls are not the service's roles') while the virtual
   * clock moves on timer by timer, so the state machine runs while the action sleeps between its
   * looks; the clock stops when the action is done.
   */
  run<T>(action: () => Promise<T>): Promise<T>;
}

/** The scenario named, or a usage error listing them. */
export function scenarioNamed(name: string | undefined): Scenario {
  const scenario = findScenario(name ?? DEFAULT_SCENARIO);
  if (!scenario)
    throw usageError(
      `no scenario ${JSON.stringify(name)}; one of: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  return scenario;
}

/**
 * A fresh simulated account: the world of the scenario (the built-in one, web/prod with blue 1.0.0
 * live in slot a, by default) with its faults and timings, and the service stack deployed under
 * `stage`. Its SDK clients, the command line's among them, are routed into it while `use` runs.
 */
export function simulatedSession<T>(
  scenario: Scenario,
  stage: string,
  use: (session: Session) => Promise<T>,
): Promise<T> {
  return inSimulatedAccount(false, async (account) => {
    const { harness, ctx } = buildScenarioWorld(scenario, account, { print: () => undefined });
    publishStack(account.world, stage);
    decisionRequests.simulated = operatorDecisionPost(account);
    const run = async <R>(action: () => Promise<R>): Promise<R> => {
      let done = false;
      const settled = asOperator(action).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      void settled.finally(() => {
        done = true;
      });
      await harness.runner.drive(
        account.clock,
        () => !done,
        () => sleeping.count > 0,
      );
      const result = await settled;
      if ('error' in result) throw result.error;
      return result.value;
    };
    try {
      return await use({ account, world: account.world, harness, ctx, run });
    } finally {
      // The account goes with the command: what still runs in it is stopped, timers and all.
      for (const execution of account.world.sfn.all())
        if (execution.status === 'RUNNING') harness.runner.stop(execution.name);
      decisionRequests.simulated = undefined;
    }
  });
}

/**
 * Runs one command with --simulate. A deploy makes its own upload; the other commands find the
 * scenario's uploads made (by default release 1.1.0 of web/prod), as something to wait for,
 * look at or abort.
 */
export function inSimulation(
  stage: string,
  scenarioName: string | undefined,
  command: ServiceCommand,
  { uploads }: { uploads: boolean },
): Promise<ExitCode> {
  const scenario = scenarioNamed(scenarioName);
  return simulatedSession(scenario, stage, async (session) => {
    if (uploads) {
      if (scenario.act) scenario.act(session.ctx);
      else uploadRelease(session.ctx);
      // Until the first upload's execution runs: something to look at, wait for or abort.
      await session.run(async () => {
        for (let s = 0; s < FIRST_START_SECONDS && session.world.sfn.executions.size === 0; s++)
          await sleep(1000);
      });
    }
    return session.run(async () => command(await findService(stage, REGION)));
  });
}
