import { changeStatus } from '../aws/route53.ts';
import { DNS_MAX_POLLS, DNS_RETURN_MAX_POLLS, dnsPollSeconds } from '../domain/plan.ts';
import type { DnsChange, Plan } from '../domain/workflow.ts';
import { DnsChangeTimedOut } from '../errors.ts';
import { logger } from '../logger.ts';
import { assertNoAlarm } from '../operations/alarm-guards.ts';
import { returnDecision } from '../operations/traffic-moves.ts';
import { nowIso } from '../state.ts';

type StepPlan = Pick<Plan, 'slots' | 'green' | 'blue' | 'health' | 'alarmCount' | 'config'>;

/**
 * One bounded poll of a Route 53 change. A traffic step passes its plan: a slow Route 53 says
 * nothing about the release, so a step's change not in sync after its three minutes is given up
 * (the rollback puts all traffic back on blue) only while the rollback rule would let blue take it
 * back. When the rule would refuse (blue has lost most of its targets, green is healthy), giving up
 * could only leave traffic split and both fleets for a person, so the change is waited for as a
 * rollback's is (Route 53 applies every change it accepted, up to 30 minutes), with the rule read
 * again and the watched alarms checked on each of the slower polls: an alarm in ALARM fails into
 * the rollback at once, which a verdict on green then lets return to blue.
 */
export async function checkDnsChange(input: { change: DnsChange; plan?: StepPlan }): Promise<DnsChange> {
  const { change, plan } = input;
  if (change.status === 'INSYNC') return change;
  const status = await changeStatus(change.changeId);
  const polls = change.polls + 1;
  if (status === 'INSYNC') return { ...change, status, polls, syncedAt: nowIso() };
  const next = { ...change, polls, pollSeconds: dnsPollSeconds(polls) };
  const stepPlan = plan?.blue ? { ...plan, blue: plan.blue } : undefined;
  if (stepPlan && polls > DNS_MAX_POLLS) await assertNoAlarm(stepPlan);
  if (polls < change.maxPolls) return next;
  if (stepPlan && change.maxPolls < DNS_RETURN_MAX_POLLS) {
    const back = await returnDecision(stepPlan, stepPlan.blue, false);
    if (!back.toBlue) {
      logger.warn('traffic step change still PENDING; no way back to blue, so waiting on it longer', {
        changeId: change.changeId,
        polls,
        why: back.why,
      });
      return { ...next, maxPolls: DNS_RETURN_MAX_POLLS };
    }
  }
  throw new DnsChangeTimedOut(`Route 53 change ${change.changeId} still PENDING after ${polls} checks`);
}
