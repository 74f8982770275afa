import { idList } from './leftovers.ts';
import { TAG, type Tags } from './tags.ts';
import { quoted } from './text.ts';
import type { Slot } from './traffic.ts';

/**
 * Who a slot belongs to, written on its target group. Route 53 records cannot be tagged; a slot's
 * record aliases the slot's load balancer, which forwards to the target group, so the target group
 * stands for the whole slot.
 *
 * - The owner (bluegreen:app, bluegreen:env, bluegreen:slot) is durable: the first deployment of an
 *   app/env whose Plan passes claims an untagged slot, and Plan refuses a slot owned by another
 *   app/env (two configs naming the same slots).
 * - The claim (bluegreen:deployment-id, bluegreen:version, bluegreen:execution) names the one
 *   deployment that fills the slot as green: taken at launch (or, when a split is healed, by the
 *   heal before it clears the slot) unless another deployment that still runs holds it, and checked
 *   on every heal step, health check and traffic step, so two deployments of the same app/env (a
 *   lost lock item) cannot both use it.
 */

export interface SlotOwner {
  app: string;
  env: string;
}

export interface SlotClaim {
  deploymentId: string;
  version: string;
  executionArn: string;
}

export function ownerTags(owner: SlotOwner, slot: Slot): Tags {
  return { [TAG.app]: owner.app, [TAG.env]: owner.env, [TAG.slot]: slot };
}

export function claimTags(claim: SlotClaim): Tags {
  return {
    [TAG.deploymentId]: claim.deploymentId,
    [TAG.version]: claim.version,
    [TAG.execution]: claim.executionArn,
  };
}

/** The app/env a target group's tags give it to, if any. */
export function ownerOf(tags: Tags): SlotOwner | undefined {
  const app = tags[TAG.app];
  const env = tags[TAG.env];
  return app !== undefined || env !== undefined ? { app: app ?? '', env: env ?? '' } : undefined;
}

/** The deployment a target group's tags say fills it, if any. */
export function claimOf(tags: Tags): SlotClaim | undefined {
  const deploymentId = tags[TAG.deploymentId];
  if (deploymentId === undefined) return undefined;
  return { deploymentId, version: tags[TAG.version] ?? '', executionArn: tags[TAG.execution] ?? '' };
}

/**
 * A tag value as it enters a message: anyone allowed to tag may have written it, so anything but
 * the characters of names, versions and ARNs is quoted (text.ts).
 */
function tagValue(value: string): string {
  return /^[A-Za-z0-9._:/-]{1,256}$/.test(value) ? value : quoted(value);
}

function ownerText(owner: SlotOwner): string {
  return `${tagValue(owner.app)}/${tagValue(owner.env)}`;
}

/** A claim as an operator reads it: app/env, version and execution. */
export function claimText(claim: SlotClaim, owner: SlotOwner | undefined): string {
  const who = owner ? `${ownerText(owner)} ` : '';
  const execution = claim.executionArn || claim.deploymentId;
  return `${who}${tagValue(claim.version)} (execution ${tagValue(execution)})`;
}

/**
 * Why this app/env may not use the slot's target group, judged by its tags: it belongs to another
 * app/env, or it is tagged as the other slot. Undefined when it may (owned by it, or by nobody yet).
 */
export function ownershipProblem(
  slot: Slot,
  targetGroupArn: string,
  tags: Tags,
  me: SlotOwner,
): string | undefined {
  const where = `slot ${slot}'s target group ${targetGroupName(targetGroupArn)}`;
  const owner = ownerOf(tags);
  if (owner && (owner.app !== me.app || owner.env !== me.env)) {
    return `${where} belongs to ${ownerText(owner)} (its ${TAG.app} and ${TAG.env} tags), not ${me.app}/${me.env}: two app/env configs name the same slots; give ${me.app}/${me.env} slots of its own`;
  }
  const tagged = tags[TAG.slot];
  if (tagged !== undefined && tagged !== slot) {
    return `${where} is tagged as slot ${tagValue(tagged)} (${TAG.slot}): the config names the slots the other way round`;
  }
  return undefined;
}

/** targetgroup/NAME/ID of an ARN, as the console shows it. */
export function targetGroupName(arn: string): string {
  const at = arn.indexOf('targetgroup/');
  return at === -1 ? arn : arn.slice(at);
}

export interface ForeignInstance {
  id: string;
  tags: Tags;
}

/**
 * Instances registered in a slot that are not this deployment's, grouped by who launched them:
 * "i-1, i-2 of web/prod "1.1.0" (execution "web-prod-1_1_0-...")"; at most five ids a group
 * (idList), so a cause does not grow with the fleet.
 */
export function foreignInstancesText(instances: readonly ForeignInstance[]): string {
  const groups = new Map<string, string[]>();
  for (const instance of instances) {
    const deploymentId = instance.tags[TAG.deploymentId];
    const who =
      deploymentId === undefined
        ? 'not launched by this service'
        : `of ${claimText(
            { deploymentId, version: instance.tags[TAG.version] ?? '', executionArn: '' },
            ownerOf(instance.tags),
          )}`;
    groups.set(who, [...(groups.get(who) ?? []), instance.id]);
  }
  return [...groups.entries()].map(([who, ids]) => `${idList(ids)} ${who}`).join('; ');
}
