import { findGroup } from '../aws/autoscaling.ts';
import { findManagedInstances } from '../aws/ec2.ts';
import { slotTargets } from '../aws/elbv2.ts';
import {
  attempt,
  blueLeftText,
  type GroupLeft,
  groupsLeftText,
  healLeftText,
  healMayHaveLeft,
  leftForAPerson,
  type Read,
  type Survey,
} from '../domain/leftovers.ts';
import { approvalTimedOut } from '../domain/report.ts';
import { failedOnGreen } from '../domain/return-to-blue.ts';
import { TAG } from '../domain/tags.ts';
import type { DeploymentState, Plan } from '../domain/workflow.ts';
import { blueInstances } from './blue-fleet.ts';
import { launchedSince } from './healing.ts';
import { greenHeldByAnother } from './slot-tags.ts';
import { readWeights, trafficSource } from './weights.ts';

/** The deployment whose leftovers are surveyed. */
export interface Surveyed {
  plan: Pick<
    Plan,
    'dns' | 'listener' | 'slots' | 'blue' | 'green' | 'heal' | 'startedAt' | 'app' | 'env' | 'group'
  >;
  app: string;
  env: string;
  deploymentId: string;
}

const NONE: Promise<{ ok: true; value: string[] }> = Promise.resolve({ ok: true, value: [] });

/** How each fact is read, best effort. */
const READS: { [K in keyof Survey]: (of: Surveyed) => Promise<Survey[K]> } = {
  weights: (of) => attempt(() => readWeights(of.plan)),
  blueTargets: (of) => {
    const blue = of.plan.blue;
    return blue ? attempt(() => slotTargets(of.plan.slots[blue].targetGroupArn)) : Promise.resolve(undefined);
  },
  greenTargets: (of) => attempt(() => slotTargets(of.plan.slots[of.plan.green].targetGroupArn)),
  greenInstances: (of) =>
    attempt(async () =>
      (await findManagedInstances({ [TAG.deploymentId]: of.deploymentId })).map((i) => i.id),
    ),
  blueInstances: (of) => {
    const blue = of.plan.blue;
    return blue ? attempt(async () => (await blueInstances(of, blue)).map((i) => i.id)) : NONE;
  },
  healSlotInstances: (of) => {
    const from = of.plan.heal?.from;
    if (!from) return NONE;
    // Only the fleet the heal found there: one launched since is another deployment's.
    return attempt(async () =>
      (await findManagedInstances({ [TAG.app]: of.app, [TAG.env]: of.env, [TAG.slot]: from }))
        .filter((i) => !launchedSince(i, of.plan))
        .map((i) => i.id),
    );
  },
  greenHeldBy: (of) => attempt(() => greenHeldByAnother(of.plan, of.deploymentId)),
  greenGroup: (of) => groupLeft(of.plan.group?.name),
  blueGroup: (of) => groupLeft(of.plan.group?.blue),
};

/** A group of the fleet as what is left names it; none read when the fleet has none. */
function groupLeft(name: string | undefined): Promise<Read<GroupLeft | undefined>> {
  if (!name) return Promise.resolve({ ok: true, value: undefined });
  return attempt(async () => {
    const found = await findGroup(name);
    return found ? { name: found.name, deleting: found.deleting } : undefined;
  });
}

/**
 * What is left after a failure, surveyed: the facts asked for, read from AWS now and at once, each
 * best effort (the value, or why it could not be read). The words for a person are chosen from
 * them by pure functions (domain/leftovers.ts).
 */
export async function survey<K extends keyof Survey>(
  of: Surveyed,
  facts: readonly K[],
): Promise<Pick<Survey, K>> {
  const read = await Promise.all(facts.map(async (fact) => [fact, await READS[fact](of)] as const));
  return Object.fromEntries(read) as Pick<Survey, K>;
}

type Planned = DeploymentState & { plan: Plan };

function surveyed(state: Planned): Surveyed {
  return { plan: state.plan, app: state.app, env: state.env, deploymentId: state.deploymentId };
}

/** How the deployment ended where its state does not say, as the caller knows it. */
export interface LeftContext {
  /** The status its execution ended with (the recovery's): a Stop is a verdict on green. */
  status?: string;
}

/**
 * What a person must fix after a failed rollback. Green's slot may have been taken by another
 * deployment since (a lost lock item): its traffic is then never named for a person to move.
 */
export async function whatIsLeft(state: DeploymentState, end: LeftContext = {}): Promise<string[]> {
  const { plan } = state;
  if (!plan) return [];
  const facts = await survey(surveyed({ ...state, plan }), [
    'weights',
    'blueTargets',
    'greenTargets',
    'greenInstances',
    'greenHeldBy',
    'greenGroup',
    'blueGroup',
  ]);
  const left = leftForAPerson({
    ...facts,
    blue: plan.blue,
    green: plan.green,
    recordName: trafficSource(plan),
    minHealthyPercent: plan.health.minHealthyPercent,
    greenFailed: failedOnGreen({
      error: state.failure?.Error,
      status: end.status,
      unapproved: approvalTimedOut(state) !== null,
    }),
    deploymentTag: `${TAG.deploymentId}=${state.deploymentId}`,
  });
  return [...left, ...groupsLeftText(facts)];
}

/** After a failed blue termination: which blue instances still run (and blue's group, if any). */
export async function blueLeft(state: DeploymentState): Promise<string[]> {
  const { plan } = state;
  if (!plan?.blue) return [];
  const facts = await survey(surveyed({ ...state, plan }), ['blueInstances', 'blueGroup']);
  return [...blueLeftText(plan.blue, facts.blueInstances), ...groupsLeftText(facts)];
}

/**
 * What is left of a heal that did not finish: traffic still on the slot it was clearing, the fleet
 * it found there still running. `known`: the weights, when the caller has just read them.
 */
export async function healLeftovers(
  of: Surveyed & { plan: { heal: NonNullable<Plan['heal']> } },
  known?: Pick<Survey, 'weights'>,
): Promise<string[]> {
  const { plan } = of;
  const facts = known
    ? { ...known, ...(await survey(of, ['healSlotInstances'])) }
    : await survey(of, ['weights', 'healSlotInstances']);
  return healLeftText({
    ...facts,
    heal: plan.heal,
    recordName: trafficSource(plan),
    targetGroupArn: plan.slots[plan.heal.from].targetGroupArn,
  });
}

/**
 * After a deploy that healed a traffic split failed: whatever of the slot that lost its traffic is
 * still there, unless the heal left nothing (domain/leftovers.ts healMayHaveLeft).
 */
export async function healLeft(state: DeploymentState): Promise<string[]> {
  const { plan } = state;
  const heal = plan?.heal;
  if (!plan || !heal) return [];
  const healing = Boolean(state.healing);
  const read = await survey(surveyed({ ...state, plan }), healing ? ['weights'] : ['weights', 'greenHeldBy']);
  if (!healMayHaveLeft(healing, heal.weights, read)) return [];
  return healLeftovers({ ...surveyed({ ...state, plan }), plan: { ...plan, heal } }, read);
}
