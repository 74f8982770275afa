import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import { findLaunchTemplate, findManagedInstances } from '#shared/aws/ec2.ts';
import { instanceProfileMay } from '#shared/aws/iam.ts';
import { infrastructureProfile } from '#shared/aws/imagebuilder.ts';
import type { DeployConfig, TrafficMode } from '#shared/domain/config.ts';
import { claimOf, ownerOf } from '#shared/domain/ownership.ts';
import { TAG } from '#shared/domain/tags.ts';
import { deployTimeline, type TimelineStep } from '#shared/domain/timeline.ts';
import { findLiveSlot, SLOTS, type Slot, type Weights } from '#shared/domain/traffic.ts';
import type { GroupPlan } from '#shared/domain/workflow.ts';
import { trafficSource } from '#shared/operations/weights.ts';
import { type Assessed, previewDeployment } from '#shared/tasks/plan-deployment.ts';
import { DEFAULT_TOPIC_NAMES } from '../config-file.ts';
import { handled, type Service, withService } from '../context.ts';
import { usageError } from '../errors.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import type { CommandContext, Register } from '../main.ts';
import { withGlobalOptions } from '../main.ts';
import { scenarioOption } from '../options.ts';
import { planText } from '../plan-text.ts';

/** The actions the bake's download needs on the release keys (shared/domain/bake.ts). */
export const BAKE_READS = ['s3:GetObject', 's3:GetObjectVersion'];

export interface SlotReport {
  targetGroupArn: string;
  weight: number | null;
  /** Registered targets (not draining) by their health state. */
  targets: Record<string, number>;
  /** The versions its running instances carry (tagged at launch). */
  versions: string[];
  /** The app/env its target group is tagged as belonging to. */
  owner: string | null;
  /** The deployment that claimed it last (its target group's tags), or null. */
  claim: { deploymentId: string; version: string; execution: string } | null;
}

export interface InfrastructureReport {
  arn: string;
  instanceProfile: string | null;
  /** Whether the instance profile's role may download the app/env's releases. */
  canReadReleases: 'yes' | 'no' | 'could not check';
  detail: string | null;
}

export interface DeployReport {
  blue: Slot | null;
  green: Slot;
  instanceCount: number;
  approvals: { beforeShift: boolean; beforeTermination: boolean; timeoutSeconds: number };
  traffic: TrafficReport;
  /** fleet.kind autoScalingGroup: green's group and blue's (null: bare instances). */
  group: GroupPlan | null;
  timeline: TimelineStep[];
}

/**
 * Where the weights live: the weighted records (route53) or the listener's forward action (alb),
 * and how long a client may still reach a slot after its weight went to 0 (the record TTL, the
 * forward action's target group stickiness).
 */
export interface TrafficReport {
  mode: TrafficMode;
  /** The record name, or the listener or rule ARN. */
  source: string;
  leaveSeconds: number;
}

/** What `bluegreen plan` found: facts first; `problems` are the reasons a deploy would fail now. */
export interface PlanReport {
  app: string;
  env: string;
  config: string;
  live: { slot: Slot; versions: string[] } | { split: Weights } | null;
  slots: Record<Slot, SlotReport> | null;
  alarms: { name: string; state: 'OK' | 'ALARM' | 'missing'; reason?: string }[];
  launchTemplate: { id: string; name: string; version: string; found: boolean } | null;
  infrastructure: InfrastructureReport | null;
  deploy: DeployReport | null;
  problems: string[];
}

async function slotReports(config: DeployConfig, assessed: Assessed, app: string, env: string) {
  const slots = {} as Record<Slot, SlotReport>;
  for (const slot of SLOTS) {
    const arn = config.slots[slot].targetGroupArn;
    const tags = assessed.slotTags.get(arn) ?? {};
    const targets: Record<string, number> = {};
    for (const t of await assessed.targetsOf(slot)) targets[t.state] = (targets[t.state] ?? 0) + 1;
    const fleet = await findManagedInstances({ [TAG.app]: app, [TAG.env]: env, [TAG.slot]: slot });
    const owner = ownerOf(tags);
    const claim = claimOf(tags);
    slots[slot] = {
      targetGroupArn: arn,
      weight: assessed.weights[slot],
      targets,
      versions: [...new Set(fleet.map((i) => i.tags[TAG.version] ?? '?'))].sort(),
      owner: owner ? `${owner.app}/${owner.env}` : null,
      claim: claim
        ? {
            deploymentId: claim.deploymentId,
            version: claim.version,
            execution: claim.executionArn.split(':').at(-1) ?? '',
          }
        : null,
    };
  }
  return slots;
}

function liveOf(weights: Weights, slots: Record<Slot, SlotReport>): PlanReport['live'] {
  const found = findLiveSlot(weights);
  if (found.kind === 'live') return { slot: found.slot, versions: slots[found.slot].versions };
  return found.kind === 'split' ? { split: weights } : null;
}

function alarmReports({ alarms }: Assessed): PlanReport['alarms'] {
  return [
    ...alarms.quiet.map((a) => ({ name: a.name, state: 'OK' as const })),
    ...alarms.alarming.map((a) => ({ name: a.name, state: 'ALARM' as const, reason: a.reason })),
    ...alarms.missing.map((name) => ({ name, state: 'missing' as const })),
  ];
}

async function launchTemplateReport(config: DeployConfig, problems: string[]) {
  const wanted = config.launchTemplate;
  const found = await findLaunchTemplate(wanted);
  const named = wanted.id ? `id ${wanted.id}` : `name ${wanted.name}`;
  if (!found) problems.push(`launchTemplate: no launch template with ${named}: green could not be launched`);
  return {
    id: found?.id ?? wanted.id ?? '',
    name: found?.name ?? wanted.name ?? '',
    version: wanted.version,
    found: found !== undefined,
  };
}

/** The bake's infrastructure configuration, and whether its instance profile may read the releases. */
async function infrastructureReport(
  config: DeployConfig,
  where: { bucket: string; app: string; env: string },
  problems: string[],
): Promise<InfrastructureReport> {
  const arn = config.bake.infrastructureConfigurationArn;
  const field = 'bake.infrastructureConfigurationArn';
  const found = await infrastructureProfile(arn);
  const report = (canReadReleases: InfrastructureReport['canReadReleases'], detail: string | null) => ({
    arn,
    instanceProfile: found?.instanceProfileName ?? null,
    canReadReleases,
    detail,
  });
  if (!found?.instanceProfileName) {
    const why = found ? 'has no instance profile' : 'does not exist';
    problems.push(`${field}: the infrastructure configuration ${why}: the bake could not run`);
    return report('no', `the infrastructure configuration ${why}`);
  }
  const partition = arn.split(':')[1] ?? 'aws';
  const releases = `arn:${partition}:s3:::${where.bucket}/releases/${where.app}/${where.env}/*`;
  const access = await instanceProfileMay(found.instanceProfileName, BAKE_READS, releases);
  const profile = `instance profile ${found.instanceProfileName}`;
  switch (access.kind) {
    case 'allowed':
      return report('yes', `${access.roleArn} may ${BAKE_READS.join(' and ')} ${releases}`);
    case 'unknown':
      return report('could not check', `IAM refused to say (${access.reason})`);
    case 'denied': {
      const denied = access.actions.map((a) => `${a.action} (${a.decision})`).join(', ');
      const detail = `${profile}'s role ${access.roleArn} may not ${denied} on ${releases}`;
      problems.push(`${field}: ${detail}: the bake could not download the release`);
      return report('no', detail);
    }
    default: {
      const detail = access.kind === 'no-role' ? `${profile} holds no role` : `${profile} does not exist`;
      problems.push(`${field}: ${detail}: the bake could not download the release`);
      return report('no', detail);
    }
  }
}

async function planReport(
  app: string,
  env: string,
  service: Service,
  flags: { config?: { text: string; source: string } | undefined; topicNames: string },
): Promise<PlanReport> {
  const preview = await previewDeployment({
    app,
    env,
    bucket: service.bucket,
    defaultTopicArn: service.topicArn,
    topicNames: flags.topicNames,
    config: flags.config,
  });
  const { config, assessed, problems } = preview;
  const report: PlanReport = {
    app,
    env,
    config: preview.configSource,
    live: null,
    slots: null,
    alarms: [],
    launchTemplate: null,
    infrastructure: null,
    deploy: null,
    problems,
  };
  if (!config || !assessed) return report;
  report.slots = await slotReports(config, assessed, app, env);
  report.live = liveOf(assessed.weights, report.slots);
  report.alarms = alarmReports(assessed);
  report.launchTemplate = await launchTemplateReport(config, problems);
  report.infrastructure = await infrastructureReport(config, { bucket: service.bucket, app, env }, problems);
  const { plan } = assessed;
  if (plan)
    report.deploy = {
      blue: plan.blue,
      green: plan.green,
      instanceCount: plan.instanceCount,
      approvals: plan.approval,
      traffic: {
        mode: config.traffic.mode ?? 'route53',
        source: trafficSource(config),
        leaveSeconds: plan.leaveSeconds,
      },
      timeline: deployTimeline(plan),
      group: plan.group ?? null,
    };
  return report;
}

async function readConfigFile(file: string): Promise<{ text: string; source: string }> {
  try {
    return { text: await readFile(file, 'utf8'), source: file };
  } catch (error) {
    throw usageError(`--config ${file}: cannot read the file (${(error as NodeJS.ErrnoException).code})`);
  }
}

async function plan(
  { out }: CommandContext,
  app: string,
  env: string,
  flags: { config?: { text: string; source: string } | undefined; topicNames: string },
  service: Service,
): Promise<ExitCode> {
  const report = await planReport(app, env, service, flags);
  out.result(report, planText(report));
  return report.problems.length === 0 ? EXIT.ok : EXIT.failed;
}

export const registerPlan: Register = (program, run) => {
  withGlobalOptions(
    program
      .command('plan')
      .description(
        'what a deploy of APP ENV would do now, read-only: the live slot, weights, health, alarms, launch template, build profile, slot claims and the timeline; exit 1 with the problems that would make it fail',
      )
      .argument('<app>')
      .argument('<env>')
      .option('--config <file>', 'plan with this config file instead of the one in the bucket')
      .addOption(
        new Option(
          '--topic-names <pattern>',
          'the stack parameter NotificationTopicNames the service was deployed with',
        ).default(DEFAULT_TOPIC_NAMES),
      )
      .addOption(scenarioOption({ uploads: false })),
  ).action(
    run(
      async (
        context,
        app: string,
        env: string,
        flags: { config?: string; topicNames: string; scenario?: string },
      ) =>
        handled(context.out, async () => {
          const config = flags.config === undefined ? undefined : await readConfigFile(flags.config);
          const given = { config, topicNames: flags.topicNames };
          return withService(context, (service) => plan(context, app, env, given, service), {
            scenario: flags.scenario,
            uploads: false,
          });
        }),
    ),
  );
};
