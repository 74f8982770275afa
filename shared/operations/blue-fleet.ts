import { findManagedInstances, type InstanceSummary } from '../aws/ec2.ts';
import { launchedByUs, TAG, type Tags } from '../domain/tags.ts';
import type { Slot } from '../domain/traffic.ts';

// Apart from fleet.ts, so the tasks that only look for blue bundle no ELB or Route 53 client.

/** Who blue is: our instances of this app/env in blue's slot that another deployment launched. */
export interface BlueOf {
  app: string;
  env: string;
  deploymentId: string;
}

function blueTags(of: BlueOf, slot: Slot): Tags {
  return { [TAG.app]: of.app, [TAG.env]: of.env, [TAG.slot]: slot };
}

export function isBlue(tags: Tags | undefined, of: BlueOf, slot: Slot): boolean {
  return launchedByUs(tags, blueTags(of, slot)) && tags?.[TAG.deploymentId] !== of.deploymentId;
}

/** Blue's instances that are not (being) terminated, found by tag. */
export async function blueInstances(of: BlueOf, slot: Slot): Promise<InstanceSummary[]> {
  return (await findManagedInstances(blueTags(of, slot))).filter((i) => isBlue(i.tags, of, slot));
}
