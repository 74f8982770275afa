import { oneLine } from '#shared/domain/text.ts';
import { timelineText } from '#shared/domain/timeline.ts';
import { formatWeights, SLOTS } from '#shared/domain/traffic.ts';
import type { PlanReport, SlotReport } from './commands/plan.ts';

// `bluegreen plan`'s report as lines for a terminal. Every part read from the account or a file is
// kept to its line (oneLine), so no name or reason can add a line of its own.

function slotLine(slot: string, s: SlotReport): string {
  const targets = Object.entries(s.targets)
    .map(([state, count]) => `${count} ${state}`)
    .join(', ');
  const claim = s.claim
    ? `, claimed by ${oneLine(s.claim.execution || s.claim.deploymentId)} (${oneLine(s.claim.version)})`
    : '';
  return `  slot ${slot}: weight ${s.weight ?? 'no record'}, targets ${targets || 'none'}, ${s.versions.map(oneLine).join(', ') || 'no instances'}; owner ${s.owner ? oneLine(s.owner) : 'none yet'}${claim}`;
}

function trafficLine(t: NonNullable<PlanReport['deploy']>['traffic']): string {
  return t.mode === 'alb'
    ? `traffic: alb, the forward action of ${oneLine(t.source)}; each step in effect when written, a sticky client stays on its target group ${t.leaveSeconds} s`
    : `traffic: route53, the weighted records ${oneLine(t.source)}; each step waits for INSYNC and the record TTL (${t.leaveSeconds} s)`;
}

function fleetLine(g: NonNullable<PlanReport['deploy']>['group']): string {
  if (!g) return 'fleet: instances the service launches';
  return `fleet: Auto Scaling group ${oneLine(g.name)} (desired ${g.desired}, min ${g.min}, max ${g.max}, grace ${g.gracePeriodSeconds} s, subnets ${oneLine(g.subnets)})${g.blue ? `; its minimum held at its size and blue's group ${oneLine(g.blue)} at its own until the deploy ends` : '; no blue group'}`;
}

function accountLines(r: PlanReport): string[] {
  const lines: string[] = [];
  if (r.deploy) lines.push(trafficLine(r.deploy.traffic), fleetLine(r.deploy.group));
  if (r.live && 'slot' in r.live)
    lines.push(`live: slot ${r.live.slot}, ${r.live.versions.map(oneLine).join(', ') || 'no instances'}`);
  else if (r.live) lines.push(`traffic split: ${formatWeights(r.live.split)}`);
  else if (r.slots) lines.push('live: nothing carries traffic (a first deploy)');
  if (r.slots) for (const slot of SLOTS) lines.push(slotLine(slot, r.slots[slot]));
  if (r.alarms.length)
    lines.push(
      'alarms:',
      ...r.alarms.map((a) => `  ${oneLine(a.name)}: ${a.state}${a.reason ? ` (${oneLine(a.reason)})` : ''}`),
    );
  if (r.launchTemplate)
    lines.push(
      `launch template: ${oneLine(r.launchTemplate.id || r.launchTemplate.name)}${r.launchTemplate.name && r.launchTemplate.id ? ` (${oneLine(r.launchTemplate.name)})` : ''}, version ${oneLine(r.launchTemplate.version)}${r.launchTemplate.found ? '' : ': not found'}`,
    );
  if (r.infrastructure)
    lines.push(
      `build: ${oneLine(r.infrastructure.arn)}, instance profile ${oneLine(r.infrastructure.instanceProfile ?? 'none')}; can read the releases: ${r.infrastructure.canReadReleases}${r.infrastructure.detail ? ` (${oneLine(r.infrastructure.detail)})` : ''}`,
    );
  return lines;
}

function deployLines(r: PlanReport): string[] {
  const d = r.deploy;
  if (!d) return [];
  const approvals = [
    d.approvals.beforeShift ? 'before the first shift' : '',
    d.approvals.beforeTermination ? 'before blue is terminated' : '',
  ].filter(Boolean);
  return [
    `a deploy now: green is slot ${d.green}${d.blue ? `, blue slot ${d.blue}` : ' (first deploy: no blue)'}, ${d.instanceCount} instance${d.instanceCount === 1 ? '' : 's'}; approval ${approvals.join(' and ') || 'not asked'}`,
    'timeline (latest start of each step, every earlier wait taken to its limit):',
    ...timelineText(d.timeline).map((line) => `  ${line}`),
  ];
}

export function planText(r: PlanReport): string {
  const problems = r.problems.length
    ? [
        `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:`,
        ...r.problems.map((p) => `  ${oneLine(p)}`),
      ]
    : ['no problem found: a deploy would start'];
  return [
    `${oneLine(r.app)}/${oneLine(r.env)} (config ${oneLine(r.config)})`,
    ...accountLines(r),
    ...deployLines(r),
    ...problems,
  ].join('\n');
}
