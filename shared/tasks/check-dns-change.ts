import { changeStatus } from '../aws/route53.ts';
import { requiredHealthy } from '../domain/health.ts';
import { DNS_MAX_POLLS, DNS_RETURN_MAX_POLLS, dnsPollSeconds } from '../domain/plan.ts';
import type { DnsChange, Plan } from '../domain/workflow.ts';
import { DnsChangeTimedOut, GreenUnhealthy } from '../errors.ts';
import { logger } from '../logger.ts';
import { assertNoAlarm } from '../operations/alarm-guards.ts';
import { returnDecision } from '../operations/traffic-moves.ts';
import { nowIso } from '../state.ts';

type StepPlan = Pick<Plan, 'slots' | 'green' | 'blue' | 'health' | 'alarmCount' | 'config'>;

/**
 * One bounded poll of a Route 53 change. A traffic step passes its plan: a slow Route 53 says
 * nothing about the release, so a step's change not in sync after its three minutes is given up
 * (the rollback puts all traffic back on blue) as long as the rollback rule lets blue take it back.
 * When the rule would refuse (blue has lost most of its targets, green is healthy), giving up could
 * only leave traffic split and both fleets for a person, so the change is waited for as a
 * rollback's is (Route 53 applies every change it accepted, up to 30 minutes). From the third
 * minute on, each poll checks what the step's own check would: a watched alarm in ALARM, or green
 * below its healthy minimum, fails into the rollback at once (a verdict on green, which lets blue
 * take the traffic back), and the wait is given up as soon as the rule would let blue take it.
 */
export async function checkDnsChange(input: { change: DnsChange; plan?: StepPlan }): Promise<DnsChange> {
  const { change, plan } = input;
  if (change.status === 'INSYNC') return change;
  const status = await changeStatus(change.changeId);
  const polls = change.polls + 1;
  if (status === 'INSYNC') return { ...change, status, polls, syncedAt: nowIso() };
  const next = { ...change, polls, pollSeconds: dnsPollSeconds(polls) };
  const timedOut = () =>
    new DnsChangeTimedOut(`Route 53 change ${change.changeId} still PENDING after ${polls} checks`);
  const blue = plan?.blue;
  if (!plan || !blue || polls < DNS_MAX_POLLS) {
    if (polls < change.maxPolls) return next;
    throw timedOut();
  }
  await assertNoAlarm(plan);
  const back = await returnDecision(plan, blue, false);
  const { green } = back.targets;
  const required = requiredHealthy(green.registered, plan.health.minHealthyPercent);
  if (green.registered === 0 || green.healthy < required) {
    throw new GreenUnhealthy(
      `${green.healthy} of ${green.registered} green targets healthy (${required} required) while Route 53 change ${change.changeId} was still PENDING after ${polls} checks`,
    );
  }
  if (back.toBlue || polls >= DNS_RETURN_MAX_POLLS) throw timedOut();
  if (change.maxPolls < DNS_RETURN_MAX_POLLS) {
    logger.warn('traffic step change still PENDING; no way back to blue, so waiting on it longer', {
      changeId: change.changeId,
      polls,
      why: back.why,
    });
  }
  return { ...next, maxPolls: DNS_RETURN_MAX_POLLS };
}
