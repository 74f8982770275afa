import { changeStatus } from '../aws/route53.ts';
import { dnsPollSeconds } from '../domain/plan.ts';
import type { DnsChange } from '../domain/workflow.ts';
import { DnsChangeTimedOut } from '../errors.ts';
import { nowIso } from '../state.ts';

/** One bounded poll of a Route 53 change. */
export async function checkDnsChange(input: { change: DnsChange }): Promise<DnsChange> {
  const { change } = input;
  if (change.status === 'INSYNC') return change;
  const status = await changeStatus(change.changeId);
  const polls = change.polls + 1;
  if (status === 'INSYNC') return { ...change, status, polls, syncedAt: nowIso() };
  if (polls >= change.maxPolls) {
    throw new DnsChangeTimedOut(`Route 53 change ${change.changeId} still PENDING after ${polls} checks`);
  }
  return { ...change, polls, pollSeconds: dnsPollSeconds(polls) };
}
