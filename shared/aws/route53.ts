import {
  type ChangeBatch,
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { assertNotAllZero, isSlot, SLOTS, type Slot, type Weights } from '../domain/traffic.ts';
import type { Plan, RecordsPlan } from '../domain/workflow.ts';

export const route53 = new Route53Client({});

/** Route 53 returns names fully qualified, lowercase, with a trailing dot. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

type DnsTarget = { dns: Pick<RecordsPlan, 'hostedZoneId' | 'recordName' | 'recordType'> };

/**
 * The current weight of each slot's record (null where the record does not exist). One page is
 * every page here: it starts at the records' name and type, and Route 53 allows at most 100
 * weighted records of one name and type ("Weighted resource record sets: 100 resource record sets
 * that have the same name and type", Route 53 quotas), so 100 items hold them all.
 */
export async function readWeights({ dns }: DnsTarget): Promise<Weights> {
  const name = normalizeName(dns.recordName);
  const out = await route53.send(
    new ListResourceRecordSetsCommand({
      HostedZoneId: dns.hostedZoneId,
      StartRecordName: name,
      StartRecordType: dns.recordType,
      MaxItems: 100,
    }),
  );
  const weights: Weights = { a: null, b: null };
  for (const record of out.ResourceRecordSets ?? []) {
    if (normalizeName(record.Name ?? '') !== name || record.Type !== dns.recordType) continue;
    if (isSlot(record.SetIdentifier)) weights[record.SetIdentifier] = record.Weight ?? 0;
  }
  return weights;
}

/**
 * Writes both weighted records in one change batch, so Route 53 applies them atomically and no
 * resolver ever sees a half-written split. Returns the change id to wait on.
 */
export async function writeWeights(
  plan: {
    dns?:
      | Pick<RecordsPlan, 'hostedZoneId' | 'recordName' | 'recordType' | 'evaluateTargetHealth'>
      | undefined;
  } & Pick<Plan, 'slots'>,
  weights: Record<Slot, number>,
  comment: string,
): Promise<{ changeId: string; submittedAt: string }> {
  assertNotAllZero(weights);
  const { dns } = plan;
  // The config's rules require the records in route53 mode.
  if (!dns) throw new TypeError('no weighted records to write the weights to');
  const aliased = (slot: Slot) => {
    const loadBalancer = plan.slots[slot].loadBalancer;
    // The config's rules require it in route53 mode.
    if (!loadBalancer) throw new TypeError(`slot ${slot} names no load balancer for its weighted record`);
    return loadBalancer;
  };
  const batch: ChangeBatch = {
    Comment: comment.slice(0, 256),
    Changes: SLOTS.map((slot) => ({
      Action: 'UPSERT',
      ResourceRecordSet: {
        Name: normalizeName(dns.recordName),
        Type: dns.recordType,
        SetIdentifier: slot,
        Weight: weights[slot],
        AliasTarget: {
          DNSName: aliased(slot).dnsName,
          HostedZoneId: aliased(slot).hostedZoneId,
          EvaluateTargetHealth: dns.evaluateTargetHealth,
        },
      },
    })),
  };
  const out = await route53.send(
    new ChangeResourceRecordSetsCommand({ HostedZoneId: dns.hostedZoneId, ChangeBatch: batch }),
  );
  return {
    changeId: out.ChangeInfo?.Id ?? '',
    submittedAt: (out.ChangeInfo?.SubmittedAt ?? new Date()).toISOString(),
  };
}

export async function changeStatus(changeId: string): Promise<'PENDING' | 'INSYNC'> {
  const out = await route53.send(new GetChangeCommand({ Id: changeId }));
  return out.ChangeInfo?.Status === 'INSYNC' ? 'INSYNC' : 'PENDING';
}
