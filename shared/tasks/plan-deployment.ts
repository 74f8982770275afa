import { type AlarmReport, checkAlarms } from '../aws/cloudwatch.ts';
import { instancesById } from '../aws/ec2.ts';
import { registeredTargets } from '../aws/elbv2.ts';
import { currentVersion, otherVersions, readObject } from '../aws/s3.ts';
import { configKey, releaseKeyOf } from '../domain/artifact-key.ts';
import type { DeployConfig } from '../domain/config.ts';
import { checkConfigText } from '../domain/config-check.ts';
import type { TargetHealthState } from '../domain/health.ts';
import { contentDigest } from '../domain/identity.ts';
import { idList } from '../domain/leftovers.ts';
import { foreignInstancesText } from '../domain/ownership.ts';
import { buildPlan, type SlotHealth } from '../domain/plan.ts';
import { fleetVersion, releaseProvenance } from '../domain/provenance.ts';
import { TAG, type Tags } from '../domain/tags.ts';
import { firingBeforeTraffic, quoted } from '../domain/text.ts';
import { findLiveSlot, SLOTS, type Slot, type Weights } from '../domain/traffic.ts';
import {
  type PinnedDeployment,
  type Plan,
  type ReleaseProvenance,
  readDeployment,
} from '../domain/workflow.ts';
import { InvalidConfig, UnsafeToDeploy } from '../errors.ts';
import { planGroups } from '../operations/groups.ts';
import { checkSlotOwnership, type Refuse, refuseAtOnce } from '../operations/slot-ownership.ts';
import { isDeadOfOurs, isGone } from '../operations/slot-targets.ts';
import { readTraffic } from '../operations/weights.ts';

const configNotFound = (url: string) =>
  `${url} not found: every app/env needs a config before its first release`;
const configUnversioned = (url: string) =>
  `config ${url} has no S3 version id: the deployment reads that one version throughout, so the bucket must be versioned (the service's release bucket is)`;

/**
 * Loads and validates the app/env config and reads the live state (weights, blue's size, who
 * owns the slots), then decides the plan. Everything here is read-only: a failure leaves nothing
 * to clean up (slots nobody owns yet are claimed by the heal or at launch).
 */
export async function planDeployment(
  raw: unknown,
  defaultTopicArn: string,
  topicNames: string,
  managedListeners?: string[],
): Promise<Plan> {
  const deployment = readDeployment(raw);
  const { bucket, key, versionId, eTag } = deployment.artifact;

  const current = await currentVersion(bucket, key);
  if (!current) throw new UnsafeToDeploy(`artifact s3://${bucket}/${key} no longer exists`);
  // S3 events carry the ETag without the quotes HeadObject puts around it.
  const unquote = (tag: string | undefined) => tag?.replace(/"/g, '');
  const overwritten =
    versionId && current.versionId
      ? current.versionId !== versionId
      : eTag !== undefined && current.eTag !== undefined && unquote(current.eTag) !== unquote(eTag);
  if (overwritten) {
    throw new UnsafeToDeploy(
      `artifact s3://${bucket}/${key} was overwritten since this upload (version ${versionId ?? unquote(eTag)}, now ${current.versionId ?? unquote(current.eTag)}); release keys must be immutable, upload a new version under a new key`,
    );
  }

  // The bake downloads one object version. S3 events always name it (the release bucket is
  // versioned); an execution started by hand may not, and then it deploys the version under the
  // key now (the one whose ETag was just checked, when an ETag was given).
  const pinnedVersionId = versionId ?? current.versionId;
  if (pinnedVersionId === undefined) {
    throw new UnsafeToDeploy(
      `artifact s3://${bucket}/${key} has no S3 version id: the bake downloads one object version, so the bucket must be versioned (the service's release bucket is)`,
    );
  }
  const pinned = { ...deployment, artifact: { ...deployment.artifact, versionId: pinnedVersionId } };
  // The head just read, when it is of the pinned version (checked above): its checksum is of these
  // bytes and its metadata is this upload's.
  const head = current.versionId === pinnedVersionId ? current : undefined;
  const digest = head && contentDigest({ sha256: head.checksumSha256, type: head.checksumType });
  // Release keys are immutable: a key that held another object before names two builds.
  const others = await otherVersions(bucket, key, pinnedVersionId);
  const first = others[0];
  if (first) {
    throw new UnsafeToDeploy(
      `release key s3://${bucket}/${key} was written before (version ${first.versionId}${first.lastModified ? `, ${first.lastModified.toISOString()}` : ''}); release keys are immutable: upload this build under a new version`,
    );
  }

  const where = configKey(deployment.app, deployment.env);
  const object = await readObject(bucket, where);
  if (object === undefined) {
    throw new InvalidConfig(configNotFound(`s3://${bucket}/${where}`));
  }
  // The tasks read the config again by this version (the state does not carry its long lists).
  const configVersionId = object.versionId;
  if (configVersionId === undefined) {
    throw new UnsafeToDeploy(configUnversioned(`s3://${bucket}/${where}`));
  }
  const checked = checkConfigText(object.text, { topicArn: defaultTopicArn, topicNames });
  if (!checked.ok) throw new InvalidConfig(`${where}: ${checked.problems.join('; ')}`);
  const config = checked.config;
  const unmanaged =
    config.listener && managedListeners ? unmanagedListener(config.listener, managedListeners) : undefined;
  if (unmanaged) throw new InvalidConfig(`${where}: ${unmanaged}`);

  return (
    await assessAccount({
      deployment: pinned,
      config,
      configVersionId,
      where,
      defaultTopicArn,
      contentDigest: digest,
      release: releaseProvenance(deployment.uploadedBy, head?.metadata),
    })
  ).plan as Plan;
}

/**
 * The listener (or rule) of a traffic.mode alb config, when the roles may not change it: they may
 * change only those the stack parameter ListenerArns names. Refused in Plan, before anything is
 * launched, instead of at the first step.
 */
export function unmanagedListener(
  listener: { listenerArn: string; ruleArn?: string | undefined },
  managed: string[],
): string | undefined {
  const arn = listener.ruleArn ?? listener.listenerArn;
  if (managed.includes(arn)) return undefined;
  return `${listener.ruleArn ? 'listener.ruleArn' : 'listener.listenerArn'}: ${arn} is not among the listeners and rules the service may change (its stack parameter ListenerArns); add it there and deploy the service again`;
}

/** What assessAccount is given: a deployment whose artifact is known, and its checked config. */
export interface Assessment {
  deployment: PinnedDeployment;
  config: DeployConfig;
  configVersionId: string;
  /** Where the config is, as problems name it. */
  where: string;
  defaultTopicArn: string;
  contentDigest?: string | undefined;
  /** Where the release came from (its uploader, commit and change note), when anything says. */
  release?: ReleaseProvenance | undefined;
}

/** What the account was found to hold, beside the plan (undefined when one could not be made). */
export interface Assessed {
  plan: Plan | undefined;
  alarms: AlarmReport;
  weights: Weights;
  /** Each slot's target group tags (its owner and claim). */
  slotTags: Map<string, Tags>;
  /** A slot's registered targets that are not draining, read once however often asked. */
  targetsOf: (slot: Slot) => Promise<TargetHealthState[]>;
}

/**
 * The checks of the account a deployment makes before anything is launched (the alarms exist and
 * none is in ALARM, both slots are this app/env's and held by no other running deployment, traffic
 * is on one slot or a split is healed, green is empty), then the plan. Plan refuses at the first
 * problem (`refuse` throws, the default); a preview notes each and goes on where it can.
 * Read-only.
 */
export async function assessAccount(
  { deployment, config, configVersionId, where, defaultTopicArn, contentDigest: digest, release }: Assessment,
  refuse: Refuse = refuseAtOnce,
): Promise<Assessed> {
  const alarms = await checkAlarms(config.alarms);
  if (alarms.missing.length > 0) {
    refuse(
      new InvalidConfig(
        `${where}: alarms: no CloudWatch alarm named ${alarms.missing.map(quoted).join(', ')}`,
      ),
    );
  }

  // Both slots must be this app/env's, and no other deployment that still runs may hold either.
  const me = { app: deployment.app, env: deployment.env, deploymentId: deployment.deploymentId };
  const slotTags = await checkSlotOwnership(config, me, refuse);
  let traffic: Awaited<ReturnType<typeof readTraffic>>;
  try {
    traffic = await readTraffic(config);
  } catch (error) {
    // A listener whose action is not the service's to change: nothing to plan on.
    if (!(error instanceof UnsafeToDeploy)) throw error;
    refuse(error);
    return { alarms, weights: { a: null, b: null }, slotTags, targetsOf: async () => [], plan: undefined };
  }
  const { weights } = traffic;
  // Each slot's registered targets (draining ones are on their way out), read once however often
  // the plan needs them.
  const read = new Map<Slot, Promise<TargetHealthState[]>>();
  const targetsOf = (slot: Slot): Promise<TargetHealthState[]> => {
    let targets = read.get(slot);
    if (!targets) {
      targets = registeredTargets(config.slots[slot].targetGroupArn).then((all) =>
        all.filter((t) => t.state !== 'draining'),
      );
      read.set(slot, targets);
    }
    return targets;
  };
  const assessed = { alarms, weights, slotTags, targetsOf };
  // A split may be healed (traffic.healSplit): toward the slot whose targets are healthier.
  const split = findLiveSlot(weights).kind === 'split' && config.traffic.healSplit;
  const slotHealth = split
    ? Object.fromEntries(
        await Promise.all(
          SLOTS.map(async (slot) => {
            const targets = await targetsOf(slot);
            return [
              slot,
              { healthy: targets.filter((t) => t.state === 'healthy').length, registered: targets.length },
            ];
          }),
        ),
      )
    : undefined;
  let plan: Plan;
  try {
    plan = buildPlan({
      deployment,
      config,
      configVersionId,
      weights,
      blueTargetCount: 0,
      defaultTopicArn,
      now: new Date(),
      slotHealth: slotHealth as Record<Slot, SlotHealth> | undefined,
      contentDigest: digest,
      stickinessSeconds: traffic.stickinessSeconds,
    });
  } catch (error) {
    // A split it would not heal: no blue and green to go on with.
    if (!(error instanceof UnsafeToDeploy)) throw error;
    refuse(error);
    return { ...assessed, plan: undefined };
  }

  // Green must start empty: anything registered there would get traffic it was never checked for.
  // (When a split is healed, the healing clears the other slot first.) A target that is only a
  // dead instance of ours (an earlier fleet's, stopped or terminated outside the service), or one
  // whose instance is gone (EC2 no longer lists it), serves nothing: the launch deregisters it.
  // Anything else, and anything not ours, is refused.
  const registered = plan.heal ? [] : await targetsOf(plan.green);
  const instances = new Map(
    (await instancesById(registered.map((t) => t.id))).map((i) => [i.id, i] as const),
  );
  const ours = { [TAG.app]: deployment.app, [TAG.env]: deployment.env };
  const leftovers = registered.filter((t) => {
    const target = { ...t, instance: instances.get(t.id) };
    return !isDeadOfOurs(target, ours) && !isGone(target);
  });
  if (leftovers.length > 0) {
    // Whose they are, when the service launched them (another deployment may be filling the slot).
    const foreign = leftovers.flatMap((t) => {
      const instance = instances.get(t.id);
      return instance?.tags[TAG.deploymentId] === undefined ? [] : [{ id: t.id, tags: instance.tags }];
    });
    const named = new Set(foreign.map((i) => i.id));
    const others = leftovers.filter((t) => !named.has(t.id)).map((t) => t.id);
    const list = [foreignInstancesText(foreign), others.length > 0 ? idList(others) : '']
      .filter(Boolean)
      .join('; ');
    refuse(
      new UnsafeToDeploy(
        `green slot ${plan.green}'s target group still has registered targets (${list}); deregister them before deploying`,
      ),
    );
  }
  if (release) plan = { ...plan, release };
  if (plan.blue === null) return { ...assessed, plan: await withGroups(config, plan, refuse) };
  // Traffic that is already failing would be blamed on the release: nothing starts then.
  if (alarms.alarming.length > 0) {
    refuse(
      new UnsafeToDeploy(
        `${firingBeforeTraffic(alarms.alarming)}; nothing was launched and no traffic moved: deploy again once it is OK`,
      ),
    );
  }
  const blueTargets = await targetsOf(plan.blue);
  // What green replaces, for the approvers: the version blue's instances are tagged with.
  const blueVersion = fleetVersion(await instancesById(blueTargets.map((t) => t.id)));
  return {
    ...assessed,
    plan: await withGroups(
      config,
      {
        ...plan,
        blueTargetCount: blueTargets.length,
        instanceCount: config.instanceCount ?? Math.max(1, blueTargets.length),
        ...(blueVersion ? { blueVersion } : {}),
      },
      refuse,
    ),
  };
}

/**
 * fleet.kind autoScalingGroup: the plan with its groups (planGroups), green's size being its
 * group's desired capacity.
 */
async function withGroups(config: DeployConfig, plan: Plan, refuse: Refuse): Promise<Plan> {
  const group = await planGroups(config, plan, refuse);
  return group ? { ...plan, group, instanceCount: group.desired } : plan;
}

/** The version a preview plans for: a next release that was never uploaded. */
export const PREVIEW_VERSION = 'next';

/**
 * The deployment id a preview plans as: the execution names the starter gives have a timestamp
 * and an S3 version id in them, so no slot claim can name this one.
 */
export const PREVIEW_DEPLOYMENT_ID = 'bluegreen-plan-preview';

/** What a preview is given: the app/env, the bucket, and the config's text when not the bucket's. */
export interface PreviewRequest {
  app: string;
  env: string;
  bucket: string;
  defaultTopicArn: string;
  topicNames: string;
  /** A config to plan with instead of the one in the bucket (checked before it is uploaded). */
  config?: { text: string; source: string } | undefined;
}

/** A preview's findings: every reason Plan would refuse, and what it read on the way. */
export interface Preview {
  /** Where the config came from: its S3 URL, or the file given. */
  configSource: string;
  config: DeployConfig | undefined;
  problems: string[];
  assessed: Assessed | undefined;
}

/**
 * What Plan would decide for the next upload of app/env now, without an artifact: the same config
 * check and account checks (assessAccount) for a hypothetical next version, each problem noted
 * instead of thrown. Read-only.
 */
export async function previewDeployment(request: PreviewRequest): Promise<Preview> {
  const { app, env, bucket } = request;
  const where = configKey(app, env);
  const problems: string[] = [];
  let text: string;
  let configVersionId = 'preview';
  let configSource = request.config?.source ?? `s3://${bucket}/${where}`;
  if (request.config) {
    text = request.config.text;
  } else {
    const object = await readObject(bucket, where);
    if (object === undefined) {
      problems.push(configNotFound(configSource));
      return { configSource, config: undefined, problems, assessed: undefined };
    }
    if (object.versionId === undefined) problems.push(configUnversioned(configSource));
    else configVersionId = object.versionId;
    text = object.text;
    configSource = object.versionId ? `${configSource} (version ${object.versionId})` : configSource;
  }
  const checked = checkConfigText(text, {
    topicArn: request.defaultTopicArn,
    topicNames: request.topicNames,
  });
  if (!checked.ok) {
    problems.push(...checked.problems.map((problem) => `${where}: ${problem}`));
    return { configSource, config: undefined, problems, assessed: undefined };
  }
  const config = checked.config;
  const artifact = { app, env, version: PREVIEW_VERSION, format: 'zip' as const };
  const deployment: PinnedDeployment = {
    deploymentId: PREVIEW_DEPLOYMENT_ID,
    ...artifact,
    artifact: { bucket, key: releaseKeyOf(artifact), versionId: 'preview' },
  };
  const assessed = await assessAccount(
    { deployment, config, configVersionId, where, defaultTopicArn: request.defaultTopicArn },
    (error) => problems.push(error.message),
  );
  return { configSource, config, problems, assessed };
}
