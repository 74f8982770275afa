import type { WorldContext } from './context.ts';
import { awsError } from './errors.ts';

export interface SimRecord {
  Name: string;
  Type: string;
  SetIdentifier?: string;
  Weight?: number;
  TTL?: number;
  AliasTarget?: { HostedZoneId?: string; DNSName?: string; EvaluateTargetHealth?: boolean };
  ResourceRecords?: { Value?: string }[];
}

const MAX_RESOURCE_RECORDS_PER_BATCH = 1000;

interface SimChange {
  id: string;
  submittedAt: number;
}

function fqdn(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function keyOf(record: Pick<SimRecord, 'Name' | 'Type' | 'SetIdentifier'>): string {
  return `${fqdn(record.Name)}|${record.Type}|${record.SetIdentifier ?? ''}`;
}

/**
 * Route 53: change batches are validated whole and applied atomically, then stay PENDING until
 * they propagate (INSYNC). Weights must be 0-255. All-zero weights are accepted, as AWS does; the
 * safety monitor is what flags them.
 */
export class Route53Model {
  readonly zones = new Map<string, Map<string, SimRecord>>();
  private readonly changes = new Map<string, SimChange>();
  /** Every weight ever written, for metrics that follow traffic. */
  readonly weightLog: { at: number; name: string; setIdentifier: string; weight: number }[] = [];
  propagationSeconds = 40;

  constructor(private readonly world: WorldContext) {}

  addZone(id: string): void {
    this.zones.set(id, new Map());
  }

  private zone(id: string | undefined): Map<string, SimRecord> {
    const zone = this.zones.get((id ?? '').replace(/^\/hostedzone\//, ''));
    if (!zone) throw awsError('NoSuchHostedZone', `No hosted zone found with ID: ${id}`, 404);
    return zone;
  }

  put(zoneId: string, record: SimRecord): void {
    this.zone(zoneId).set(keyOf(record), { ...record, Name: fqdn(record.Name) });
    if (record.SetIdentifier !== undefined && record.Weight !== undefined) {
      this.weightLog.push({
        at: 0,
        name: fqdn(record.Name),
        setIdentifier: record.SetIdentifier,
        weight: record.Weight,
      });
    }
  }

  /** Whether the weighted record had weight > 0 at any moment of [from, to]. */
  carriedTraffic(name: string, setIdentifier: string, from: number, to: number): boolean {
    const log = this.weightLog.filter((e) => e.name === fqdn(name) && e.setIdentifier === setIdentifier);
    const before = log.filter((e) => e.at <= from).at(-1);
    if ((before?.weight ?? 0) > 0) return true;
    return log.some((e) => e.at > from && e.at <= to && e.weight > 0);
  }

  /** Weighted records of one name and type, by set identifier. */
  weights(zoneId: string, name: string, type: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const record of this.zone(zoneId).values()) {
      if (record.Name === fqdn(name) && record.Type === type && record.SetIdentifier !== undefined) {
        out[record.SetIdentifier] = record.Weight ?? 0;
      }
    }
    return out;
  }

  ChangeResourceRecordSets(input: {
    HostedZoneId?: string;
    ChangeBatch?: { Changes?: { Action?: string; ResourceRecordSet?: SimRecord }[] };
  }) {
    const zone = this.zone(input.HostedZoneId);
    const changes = input.ChangeBatch?.Changes ?? [];
    if (changes.length === 0) throw awsError('InvalidInput', 'Invalid request: no changes');
    // "A request cannot contain more than 1000 ResourceRecord elements. When the value of the Action
    // element is UPSERT, each ResourceRecord element is counted twice" (Route 53 quotas on API
    // requests). Alias records hold none.
    const elements = changes.reduce(
      (sum, c) => sum + (c.ResourceRecordSet?.ResourceRecords?.length ?? 0) * (c.Action === 'UPSERT' ? 2 : 1),
      0,
    );
    if (elements > MAX_RESOURCE_RECORDS_PER_BATCH)
      throw awsError(
        'InvalidChangeBatch',
        `Number of records limit of ${MAX_RESOURCE_RECORDS_PER_BATCH} exceeded: ${elements} in the batch`,
      );
    const next = new Map(zone);
    for (const change of changes) {
      const record = change.ResourceRecordSet;
      if (!record?.Name || !record.Type)
        throw awsError('InvalidInput', 'Invalid request: missing record name or type');
      const weight = record.Weight;
      if (weight !== undefined && (!Number.isInteger(weight) || weight < 0 || weight > 255)) {
        throw awsError('InvalidInput', `Invalid request: weight ${weight} is not between 0 and 255`);
      }
      const key = keyOf(record);
      switch (change.Action) {
        case 'UPSERT':
          next.set(key, { ...record, Name: fqdn(record.Name) });
          break;
        case 'CREATE':
          if (next.has(key))
            throw awsError(
              'InvalidChangeBatch',
              `Tried to create resource record set ${key} but it already exists`,
            );
          next.set(key, { ...record, Name: fqdn(record.Name) });
          break;
        case 'DELETE':
          if (!next.delete(key))
            throw awsError(
              'InvalidChangeBatch',
              `Tried to delete resource record set ${key} but it was not found`,
            );
          break;
        default:
          throw awsError('InvalidInput', `Invalid action ${change.Action}`);
      }
    }
    zone.clear();
    for (const [key, record] of next) zone.set(key, record);
    for (const change of changes) {
      const record = change.ResourceRecordSet;
      if (record?.SetIdentifier !== undefined && record.Weight !== undefined) {
        this.weightLog.push({
          at: this.world.now(),
          name: fqdn(record.Name),
          setIdentifier: record.SetIdentifier,
          weight: record.Weight,
        });
      }
    }
    const change: SimChange = { id: this.world.id('C', 13).toUpperCase(), submittedAt: this.world.now() };
    this.changes.set(change.id, change);
    this.world.afterRecordsChange((input.HostedZoneId ?? '').replace(/^\/hostedzone\//, ''));
    return {
      ChangeInfo: {
        Id: `/change/${change.id}`,
        Status: 'PENDING',
        SubmittedAt: new Date(change.submittedAt),
      },
    };
  }

  GetChange(input: { Id?: string }) {
    const id = (input.Id ?? '').replace(/^\/change\//, '');
    const change = this.changes.get(id);
    if (!change)
      throw awsError('NoSuchChange', `A change with the specified change ID does not exist: ${id}`, 404);
    const insync = this.world.now() >= change.submittedAt + this.propagationSeconds * 1000;
    return {
      ChangeInfo: {
        Id: `/change/${id}`,
        Status: insync ? 'INSYNC' : 'PENDING',
        SubmittedAt: new Date(change.submittedAt),
      },
    };
  }

  ListResourceRecordSets(input: {
    HostedZoneId?: string;
    StartRecordName?: string;
    StartRecordType?: string;
    MaxItems?: number;
  }) {
    const zone = this.zone(input.HostedZoneId);
    const sorted = [...zone.values()].sort((x, y) => keyOf(x).localeCompare(keyOf(y)));
    const start = input.StartRecordName ? fqdn(input.StartRecordName) : '';
    const from = sorted.findIndex(
      (r) =>
        r.Name > start || (r.Name === start && (!input.StartRecordType || r.Type >= input.StartRecordType)),
    );
    const max = Number(input.MaxItems ?? 300);
    const page = from < 0 ? [] : sorted.slice(from, from + max);
    return { ResourceRecordSets: page, IsTruncated: from >= 0 && from + max < sorted.length, MaxItems: max };
  }
}
