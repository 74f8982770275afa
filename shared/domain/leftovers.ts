import { returnToBlue, type SlotTargets } from './return-to-blue.ts';
import { TAG } from './tags.ts';
import type { Slot, Weights } from './traffic.ts';
import { formatWeights } from './traffic.ts';

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

/** What is there when a rollback could not finish, read once, before any words are chosen. */
export interface LeftFacts {
  blue: Slot | null;
  green: Slot;
  recordName: string;
  weights: Read<Weights>;
  /** Blue's registered and healthy targets (when there is a blue slot). */
  blueTargets?: Read<SlotTargets>;
  /** Green's registered and healthy targets. */
  greenTargets: Read<SlotTargets>;
  /** The config's health.minHealthyPercent. */
  minHealthyPercent: number;
  /** The deployment failed on a verdict about green (domain/return-to-blue.ts failedOnGreen). */
  greenFailed: boolean;
  /** The instances this deployment launched that still run. */
  greenInstances: Read<string[]>;
  deploymentTag: string;
  /**
   * Why green's slot is another deployment's (another app/env owns it, or another deployment
   * claimed it), undefined when it is not; absent when it was not read.
   */
  greenHeldBy?: Read<string | undefined>;
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
    ((f.weights.value[f.green] ?? 0) > 0 || Object.values(f.weights.value).every((w) => (w ?? 0) === 0));
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
    left.push(
      `traffic: could not read the weights of ${f.recordName} (${f.weights.error}); check them by hand`,
    );
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
    left.push(`instances: could not list instances tagged ${f.deploymentTag} (${f.greenInstances.error})`);
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
  const traffic = f.weights.ok
    ? `traffic: ${formatWeights(f.weights.value)}`
    : `traffic: could not read the weights of ${f.recordName} (${f.weights.error})`;
  const left = [
    `${traffic}; ${holder}: its traffic and the instances of that deployment are not this deployment's to move or terminate`,
  ];
  if (!f.greenInstances.ok) {
    left.push(`instances: could not list instances tagged ${f.deploymentTag} (${f.greenInstances.error})`);
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
