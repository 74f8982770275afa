import { returnToBlue, type SlotTargets } from './return-to-blue.ts';
import { TAG } from './tags.ts';
import { oneLine } from './text.ts';
import { carriesTraffic, formatWeights, SLOTS, type Slot, sameWeights, type Weights } from './traffic.ts';

/**
 * Instance ids as a cause or a message lists them: the first few and how many more, so that what
 * the state, a cause or a notification carries does not grow with the fleet (the rest are found
 * by the tag the same sentence names).
 */
export function idList(ids: readonly string[], shown = 5): string {
  const more = ids.length - shown;
  return `${ids.slice(0, shown).join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** A fact read from AWS, or why it could not be read. */
export type Read<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * A best-effort read: the value, or the name of the error that stopped it. What is left after a
 * failure is read this way: an outage that broke the deployment may break these reads too, and
 * that is said instead.
 */
export async function attempt<T>(what: () => Promise<T>): Promise<Read<T>> {
  try {
    return { ok: true, value: await what() };
  } catch (error) {
    return { ok: false, error: (error as Error).name };
  }
}

/**
 * What is there after a failure, read from AWS now (operations/survey.ts) rather than from the
 * execution state, which may be stale: each fact, or why it could not be read.
 */
export interface Survey {
  weights: Read<Weights>;
  /** Blue's registered and healthy targets; undefined where there is no blue slot. */
  blueTargets: Read<SlotTargets> | undefined;
  /** Green's registered and healthy targets. */
  greenTargets: Read<SlotTargets>;
  /** The instances this deployment launched that still run (found by its tag). */
  greenInstances: Read<string[]>;
  /** Blue's instances still running in its slot. */
  blueInstances: Read<string[]>;
  /** Of the fleet a heal found in the slot it clears, the instances still running there. */
  healSlotInstances: Read<string[]>;
  /**
   * Why green's slot is another deployment's (another app/env owns it, or another deployment
   * claimed it), undefined when it is not.
   */
  greenHeldBy: Read<string | undefined>;
  /** fleet.kind autoScalingGroup: green's group, undefined when there is none (or no group fleet). */
  greenGroup: Read<GroupLeft | undefined>;
  /** fleet.kind autoScalingGroup: blue's group, undefined when there is none. */
  blueGroup: Read<GroupLeft | undefined>;
}

/** What is there when a rollback could not finish, read once, before any words are chosen. */
export interface LeftFacts extends Pick<Survey, 'weights' | 'greenTargets' | 'greenInstances'> {
  blue: Slot | null;
  green: Slot;
  recordName: string;
  blueTargets?: Survey['blueTargets'];
  /** The config's health.minHealthyPercent. */
  minHealthyPercent: number;
  /** The deployment failed on a verdict about green (domain/return-to-blue.ts failedOnGreen). */
  greenFailed: boolean;
  deploymentTag: string;
  /** Absent when it was not read. */
  greenHeldBy?: Survey['greenHeldBy'];
}

/** The weights as what is left names them, or why they could not be read. */
function trafficRead(recordName: string, weights: Read<Weights>, byHand = true): string {
  if (weights.ok) return `traffic: ${formatWeights(weights.value)}`;
  return `traffic: could not read the weights of ${recordName} (${weights.error})${byHand ? '; check them by hand' : ''}`;
}

/** Instances that could not be listed, as what is left names them. */
function unlisted(which: string, error: string, byHand = true): string {
  return `instances: could not list ${which} (${error})${byHand ? '; check them by hand' : ''}`;
}

/**
 * What is left for a person, from the facts: never an instruction to move traffic to blue where the
 * rollback rule refused it (a blue with no healthy target, or less healthy than a green nothing is
 * wrong with), or to terminate the fleet that carries the traffic, which the service itself
 * refused to do; and never to move the traffic of a green slot that is another deployment's.
 */
export function leftForAPerson(f: LeftFacts): string[] {
  const left: string[] = [];
  if (f.greenHeldBy && !f.greenHeldBy.ok) {
    left.push(
      `green slot ${f.green}: could not read whether another deployment holds it (${f.greenHeldBy.error}); before moving its traffic, check that its target group's ${TAG.deploymentId} tag names this deployment or none`,
    );
  }
  // All weights 0 is an even split: green carries traffic then too.
  const greenCarries =
    f.weights.ok &&
    (carriesTraffic(f.weights.value, f.green) ||
      SLOTS.every((slot) => f.weights.ok && !carriesTraffic(f.weights.value, slot)));
  if (f.greenHeldBy?.ok && f.greenHeldBy.value !== undefined)
    return heldByAnother(f, f.greenHeldBy.value, greenCarries);
  // The rollback rule, as the rollback itself applies it: a person is told to move traffic to blue
  // only when the service would have.
  const decision =
    f.blue !== null && f.blueTargets?.ok && (f.greenTargets.ok || f.greenFailed)
      ? returnToBlue({
          slots: { blue: f.blue, green: f.green },
          blue: f.blueTargets.value,
          green: f.greenTargets.ok ? f.greenTargets.value : { registered: 0, healthy: 0 },
          minHealthyPercent: f.minHealthyPercent,
          greenFailed: f.greenFailed,
        })
      : undefined;
  const backToBlue = decision?.toBlue === true;
  if (!f.weights.ok) {
    left.push(trafficRead(f.recordName, f.weights));
  } else if (!greenCarries) {
    left.push(`traffic: ${formatWeights(f.weights.value)} (on blue)`);
  } else if (f.blue === null) {
    left.push(
      `traffic: ${formatWeights(f.weights.value)}; green slot ${f.green} carries it, there is no other slot to move it to`,
    );
  } else if (backToBlue) {
    left.push(
      `traffic: ${formatWeights(f.weights.value)}; green slot ${f.green} still carries traffic, set slot ${f.blue} to 100 and slot ${f.green} to 0 in one change`,
    );
  } else if (f.blueTargets?.ok && f.blueTargets.value.healthy === 0) {
    left.push(
      `traffic: ${formatWeights(f.weights.value)}; blue slot ${f.blue} has no healthy target (${f.blueTargets.value.registered} registered), so keep the traffic on slot ${f.green}: move it to slot ${f.blue} only once slot ${f.blue} has healthy targets`,
    );
  } else if (decision) {
    left.push(
      `traffic: ${formatWeights(f.weights.value)}; not moved back to slot ${f.blue}: ${decision.why}; move it to slot ${f.blue} only once slot ${f.blue} is at least as healthy as slot ${f.green}, or keep slot ${f.green}`,
    );
  } else {
    const unread = !f.blueTargets?.ok
      ? `blue slot ${f.blue}'s health could not be read (${f.blueTargets?.error ?? 'not read'})`
      : `green slot ${f.green}'s health could not be read (${f.greenTargets.ok ? '' : f.greenTargets.error})`;
    left.push(
      `traffic: ${formatWeights(f.weights.value)}; green slot ${f.green} still carries traffic; ${unread}: move traffic to slot ${f.blue} only once its targets are healthy and at least as healthy as slot ${f.green}'s`,
    );
  }
  if (!f.greenInstances.ok) {
    left.push(unlisted(`instances tagged ${f.deploymentTag}`, f.greenInstances.error, false));
  } else if (f.greenInstances.value.length > 0) {
    const ids = idList(f.greenInstances.value);
    left.push(
      greenCarries && !backToBlue
        ? `green instances running in slot ${f.green} (tagged ${f.deploymentTag}): ${ids}; they serve the traffic: keep them until it is on a healthy slot`
        : `green instances still running (tagged ${f.deploymentTag}): ${ids}; terminate them once no traffic reaches slot ${f.green}`,
    );
  }
  return left;
}

/**
 * Green's slot is another deployment's: its traffic and its other instances are that one's, so a
 * person is told to leave them, and where this deployment's own instances are. Those may still
 * be registered there and serve what traffic the slot has (the other deployment claimed the slot
 * after this one ended): they are taken out only once they serve none of it.
 */
function heldByAnother(f: LeftFacts, holder: string, greenCarries: boolean): string[] {
  const traffic = trafficRead(f.recordName, f.weights, false);
  const left = [
    `${traffic}; ${holder}: its traffic and the instances of that deployment are not this deployment's to move or terminate`,
  ];
  if (!f.greenInstances.ok) {
    left.push(unlisted(`instances tagged ${f.deploymentTag}`, f.greenInstances.error, false));
  } else if (f.greenInstances.value.length > 0) {
    const when =
      f.weights.ok && !greenCarries
        ? 'deregister them from its target group if they are registered'
        : `if they are registered in slot ${f.green}'s target group, deregister them only once it carries no traffic or has healthy targets besides them`;
    left.push(
      `only this deployment's instances (tagged ${f.deploymentTag}) are its own: ${idList(f.greenInstances.value)}; ${when}, then terminate them`,
    );
  }
  return left;
}

/** After a failed blue termination: which of blue's instances still run. */
export function blueLeftText(blue: Slot, running: Read<string[]>): string[] {
  if (!running.ok) return [unlisted(`blue slot ${blue} instances`, running.error)];
  if (running.value.length === 0) return [];
  return [
    `blue instances still running in slot ${blue}: ${idList(running.value)}; deregister them if still registered, then terminate them`,
  ];
}

/** What a heal of a traffic split is about, and the facts read after it. */
export interface HealFacts extends Pick<Survey, 'weights' | 'healSlotInstances'> {
  heal: { from: Slot; to: Slot };
  recordName: string;
  /** The target group of the slot the heal clears. */
  targetGroupArn: string;
}

/**
 * What is left of a heal that did not finish: traffic still on the slot it was clearing, our
 * instances still running in that slot (after a deploy's own ones were removed).
 */
export function healLeftText(f: HealFacts): string[] {
  const { from, to } = f.heal;
  const left: string[] = [];
  if (!f.weights.ok) left.push(trafficRead(f.recordName, f.weights));
  else if (carriesTraffic(f.weights.value, from)) {
    left.push(
      `${trafficRead(f.recordName, f.weights)}; slot ${from} still carries traffic, set it to 0 and slot ${to} to 100 in one change`,
    );
  }
  if (!f.healSlotInstances.ok) left.push(unlisted(`slot ${from} instances`, f.healSlotInstances.error));
  else if (f.healSlotInstances.value.length > 0) {
    left.push(
      `slot ${from} instances still running: ${idList(f.healSlotInstances.value)}; deregister them from ${f.targetGroupArn} if still registered, then terminate them`,
    );
  }
  return left;
}

/**
 * Whether a deploy that planned to heal a split left anything of it: it did once the heal ran
 * (`healing` in the state), or when the records changed from the split the plan saw (the heal may
 * have written and failed before it could say so), unless green's slot is another deployment's
 * now: the heal claims the slot before it writes, so refused there it changed nothing, and what
 * the records and the slot hold is the claiming deployment's. A read that failed says nothing.
 */
export function healMayHaveLeft(
  healing: boolean,
  planned: Record<Slot, number>,
  facts: Pick<Survey, 'weights'> & Partial<Pick<Survey, 'greenHeldBy'>>,
): boolean {
  if (healing) return true;
  if (facts.weights.ok && sameWeights(facts.weights.value, planned)) return false;
  return !(facts.greenHeldBy?.ok && facts.greenHeldBy.value !== undefined);
}

/** A build that could not be settled (cancelled, or its AMI tagged), for a person. */
export function buildUnsettled(imageBuildVersionArn: string, error: string): string {
  return `image build ${imageBuildVersionArn}: could not cancel it or tag its AMI (${error}); cancel it, or deregister its AMI, by hand`;
}

/** Builds of a recipe that could not be listed, for a person. */
export function buildsUnlisted(recipe: string, error: string): string {
  return `image builds of ${recipe}: could not list them (${error}); cancel any still building by hand`;
}

/**
 * A recovery of a stopped execution that could not finish, and why; `blind` when it gave up before
 * it could read what the deployment had done: then a person is told what to check.
 */
export function recoveryUnfinished(
  error: Error,
  blind?: { app: string; env: string; deploymentId: string },
): string {
  const why = `this recovery could not finish (${oneLine(`${error.name}: ${error.message}`)})`;
  if (!blind) return why;
  return `${why} before it could read what the deployment had done: check the weights of ${blind.app}/${blind.env}'s records, put all traffic on the slot that was live before if it is not there, then terminate the instances tagged ${TAG.deploymentId}=${blind.deploymentId} unless they carry traffic`;
}

/** A group of a fleet as what is left names it: its name, and whether it is being deleted. */
export interface GroupLeft {
  name: string;
  deleting: boolean;
}

/**
 * fleet.kind autoScalingGroup: the groups still there. Their instances are theirs: terminated by
 * hand, they are replaced; what is left says to delete the group instead wherever it says to
 * terminate its instances, and that blue's processes the service suspended are still suspended.
 */
export function groupsLeftText(groups: {
  greenGroup?: Survey['greenGroup'];
  blueGroup?: Survey['blueGroup'];
}): string[] {
  const left: string[] = [];
  const { greenGroup: green, blueGroup: blue } = groups;
  if (green && !green.ok)
    left.push(`Auto Scaling groups: could not read green's (${green.error}); check it by hand`);
  if (green?.ok && green.value && !green.value.deleting)
    left.push(
      `green's Auto Scaling group ${green.value.name} is still there: where this says to terminate green's instances, delete the group instead (force delete), or it replaces them`,
    );
  if (blue && !blue.ok)
    left.push(`Auto Scaling groups: could not read blue's (${blue.error}); check it by hand`);
  if (blue?.ok && blue.value && !blue.value.deleting)
    left.push(
      `blue's Auto Scaling group ${blue.value.name} is still there, its AlarmNotification and ScheduledActions processes suspended by this deployment: resume them once it serves alone, or, where this says to terminate blue's instances, delete the group instead (force delete)`,
    );
  return left;
}
