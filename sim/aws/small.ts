import { createHash } from 'node:crypto';
import type { WorldContext } from './context.ts';
import { awsError } from './errors.ts';
import { type FilterPolicy, type FilterPolicyScope, filterMatches, parseFilterPolicy } from './sns-filter.ts';

/**
 * The checksum S3 stores with an object (the Checksum type of the S3 API reference, "Checking
 * object integrity" in the user guide): the algorithm the uploader chose, or CRC64NVME, which S3
 * adds to every object uploaded without one. A single-request upload gets a checksum of the whole
 * object (FULL_OBJECT); a multipart upload with SHA-256 gets a checksum of its parts' checksums,
 * suffixed with the part count (COMPOSITE: it depends on the part size); CRC64NVME is always of
 * the whole object.
 */
export interface SimChecksum {
  algorithm: 'SHA256' | 'CRC64NVME';
  type: 'FULL_OBJECT' | 'COMPOSITE';
  /** Base64, as S3 returns it (`-<parts>` after a composite one). */
  value: string;
}

interface SimObject {
  body: string;
  versionId: string;
  eTag: string;
  checksum: SimChecksum;
  /** When it was written. */
  at: number;
  /** A delete marker (DeleteObject without a version id): the key reads as missing while it is newest. */
  deleteMarker?: true;
  /** Its user metadata (x-amz-meta-*), by keys lower-cased without the prefix. */
  metadata?: Record<string, string>;
}

/** How an object is uploaded: the checksum algorithm the uploader sends, and its part size (multipart). */
export interface UploadOptions {
  checksumAlgorithm?: 'SHA256';
  /** Bytes per part; a body longer than this is uploaded in parts. */
  partSize?: number;
  /** User metadata sent with it (x-amz-meta-<key>), such as the commit and change note. */
  metadata?: Record<string, string>;
}

/** User metadata as S3 keeps it: keys lower-cased (HTTP headers), absent when there is none. */
function userMetadata(metadata: Record<string, string> | undefined): Record<string, string> | undefined {
  const entries = Object.entries(metadata ?? {}).map(([key, value]) => [key.toLowerCase(), value] as const);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

const CRC64NVME_POLY = 0x9a6c9329ac4bc9b5n;
const MASK64 = 0xffffffffffffffffn;
const CRC64NVME_TABLE = Array.from({ length: 256 }, (_, byte) => {
  let crc = BigInt(byte);
  for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ CRC64NVME_POLY : crc >> 1n;
  return crc;
});

/** CRC-64/NVME (reflected, initial value and final XOR all ones), big-endian in base64 as S3 gives it. */
export function crc64nvme(data: Buffer): string {
  let crc = MASK64;
  for (const byte of data) crc = (CRC64NVME_TABLE[Number((crc ^ BigInt(byte)) & 0xffn)] ?? 0n) ^ (crc >> 8n);
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE((crc ^ MASK64) & MASK64);
  return out.toString('base64');
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

/** The checksum S3 stores for a body uploaded this way. */
export function storedChecksum(body: string, options: UploadOptions = {}): SimChecksum {
  const data = Buffer.from(body, 'utf8');
  if (options.checksumAlgorithm !== 'SHA256') {
    return { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: crc64nvme(data) };
  }
  const partSize = options.partSize ?? Number.POSITIVE_INFINITY;
  if (data.length <= partSize) {
    return { algorithm: 'SHA256', type: 'FULL_OBJECT', value: sha256(data).toString('base64') };
  }
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += partSize) parts.push(sha256(data.subarray(at, at + partSize)));
  return {
    algorithm: 'SHA256',
    type: 'COMPOSITE',
    value: `${sha256(Buffer.concat(parts)).toString('base64')}-${parts.length}`,
  };
}

/** S3: versioned buckets holding text objects. */
export class S3Model {
  readonly buckets = new Map<string, Map<string, SimObject[]>>();

  /** S3's event notification of an object written with PutObject (the bucket's notification config). */
  onPut: ((bucket: string, key: string, object: SimObject & { size: number }) => void) | undefined;

  constructor(private readonly world: WorldContext) {}

  addBucket(name: string): void {
    this.buckets.set(name, new Map());
  }

  put(bucket: string, key: string, body: string, options: UploadOptions = {}): SimObject {
    const objects = this.buckets.get(bucket);
    if (!objects) throw new Error(`no bucket ${bucket}`);
    const metadata = userMetadata(options.metadata);
    const object: SimObject = {
      body,
      versionId: this.world.id('', 32),
      eTag: `"${this.world.id('', 32)}"`,
      checksum: storedChecksum(body, options),
      at: this.world.now(),
      ...(metadata ? { metadata } : {}),
    };
    objects.set(key, [...(objects.get(key) ?? []), object]);
    return object;
  }

  /** Whether the key reads as an object now (its newest version is not a delete marker). */
  exists(bucket: string, key: string): boolean {
    const newest = this.buckets.get(bucket)?.get(key)?.at(-1);
    return newest !== undefined && !newest.deleteMarker;
  }

  private latest(bucket: string | undefined, key: string | undefined): SimObject | undefined {
    const objects = this.buckets.get(bucket ?? '');
    if (!objects) throw awsError('NoSuchBucket', 'The specified bucket does not exist', 404);
    const newest = objects.get(key ?? '')?.at(-1);
    return newest?.deleteMarker ? undefined : newest;
  }

  /** One version of an object, as GetObject with a VersionId finds it. */
  version(bucket: string, key: string, versionId: string): SimObject | undefined {
    return this.buckets
      .get(bucket)
      ?.get(key)
      ?.find((object) => object.versionId === versionId && !object.deleteMarker);
  }

  GetObject(input: { Bucket?: string; Key?: string; VersionId?: string }) {
    const object = input.VersionId
      ? this.version(input.Bucket ?? '', input.Key ?? '', input.VersionId)
      : this.latest(input.Bucket, input.Key);
    if (!object && input.VersionId)
      throw awsError('NoSuchVersion', 'The specified version does not exist.', 404);
    if (!object) throw awsError('NoSuchKey', 'The specified key does not exist.', 404);
    const body = object.body;
    return {
      Body: { transformToString: async () => body },
      VersionId: object.versionId,
      ETag: object.eTag,
      ContentLength: body.length,
    };
  }

  ListObjectVersions(input: { Bucket?: string; Prefix?: string; MaxKeys?: number; KeyMarker?: string }) {
    const objects = this.buckets.get(input.Bucket ?? '');
    if (!objects) throw awsError('NoSuchBucket', 'The specified bucket does not exist', 404);
    const all = [...objects.entries()]
      .filter(([key]) => key.startsWith(input.Prefix ?? ''))
      .flatMap(([key, list]) =>
        list.map((o, i) => ({
          entry: {
            Key: key,
            VersionId: o.versionId,
            IsLatest: i === list.length - 1,
            LastModified: new Date(o.at),
          },
          o,
        })),
      );
    return {
      Versions: all.filter(({ o }) => !o.deleteMarker).map(({ entry, o }) => ({ ...entry, ETag: o.eTag })),
      DeleteMarkers: all.filter(({ o }) => o.deleteMarker).map(({ entry }) => entry),
      IsTruncated: false,
    };
  }

  /** The object's metadata; its checksum only with ChecksumMode ENABLED, as S3 answers. */
  HeadObject(input: { Bucket?: string; Key?: string; VersionId?: string; ChecksumMode?: string }) {
    const object = input.VersionId
      ? this.version(input.Bucket ?? '', input.Key ?? '', input.VersionId)
      : this.latest(input.Bucket, input.Key);
    // HEAD has no body: S3 answers a missing key or version with a bare 404.
    if (!object) throw awsError('NotFound', 'Not Found', 404);
    const { checksum } = object;
    return {
      VersionId: object.versionId,
      ETag: object.eTag,
      ContentLength: Buffer.byteLength(object.body, 'utf8'),
      ...(object.metadata ? { Metadata: { ...object.metadata } } : {}),
      ...(input.ChecksumMode === 'ENABLED'
        ? { [`Checksum${checksum.algorithm}`]: checksum.value, ChecksumType: checksum.type }
        : {}),
    };
  }

  /** DeleteObject without a version id on a versioned bucket: a delete marker becomes the newest version. */
  DeleteObject(input: { Bucket?: string; Key?: string }) {
    const objects = this.buckets.get(input.Bucket ?? '');
    if (!objects) throw awsError('NoSuchBucket', 'The specified bucket does not exist', 404);
    const key = input.Key ?? '';
    const marker: SimObject = {
      body: '',
      versionId: this.world.id('', 32),
      eTag: '',
      checksum: storedChecksum('', {}),
      at: this.world.now(),
      deleteMarker: true,
    };
    objects.set(key, [...(objects.get(key) ?? []), marker]);
    return { DeleteMarker: true, VersionId: marker.versionId };
  }

  /**
   * A write of bytes (kept as latin1 text), its checksum checked as S3 checks it; with
   * `IfNoneMatch: '*'` refused (412) when the key holds an object.
   */
  PutObject(input: {
    Bucket?: string;
    Key?: string;
    Body?: Uint8Array | string;
    ChecksumSHA256?: string;
    IfNoneMatch?: string;
    Metadata?: Record<string, string>;
  }) {
    const bucket = input.Bucket ?? '';
    if (!this.buckets.has(bucket)) throw awsError('NoSuchBucket', 'The specified bucket does not exist', 404);
    if (input.IfNoneMatch === '*' && this.exists(bucket, input.Key ?? ''))
      throw awsError(
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
        412,
      );
    const bytes = typeof input.Body === 'string' ? Buffer.from(input.Body) : Buffer.from(input.Body ?? []);
    const sent = input.ChecksumSHA256;
    if (sent && createHash('sha256').update(bytes).digest('base64') !== sent)
      throw awsError('BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
    const object = this.put(bucket, input.Key ?? '', bytes.toString('latin1'), {
      ...(input.Metadata ? { metadata: input.Metadata } : {}),
    });
    // The checksum is of the bytes sent: the one the upload gave (checked above), or CRC64NVME.
    object.checksum = sent
      ? { algorithm: 'SHA256', type: 'FULL_OBJECT', value: sent }
      : { algorithm: 'CRC64NVME', type: 'FULL_OBJECT', value: crc64nvme(bytes) };
    this.onPut?.(bucket, input.Key ?? '', { ...object, size: bytes.length });
    return {
      VersionId: object.versionId,
      ETag: object.eTag,
      ...(sent ? { ChecksumSHA256: sent } : {}),
    };
  }
}

interface AlarmChange {
  at: number;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  reason: string;
}

/** CloudWatch alarms whose state follows a schedule the scenario sets. */
export class CloudWatchModel {
  readonly alarms = new Map<string, AlarmChange[]>();
  /** RequestCount of a target group (by its dimension) over [from, to]; set by the world's setup. */
  requests: (targetGroup: string, from: number, to: number) => number = () => 0;

  constructor(private readonly world: WorldContext) {}

  addAlarm(name: string): void {
    this.alarms.set(name, [
      { at: 0, state: 'OK', reason: 'Threshold Crossed: no datapoints above the threshold' },
    ]);
  }

  setState(name: string, state: AlarmChange['state'], reason: string, at = this.world.now()): void {
    const history = this.alarms.get(name);
    if (!history) throw new Error(`no alarm ${name}`);
    const previous = this.stateAt(name, at)?.state ?? 'INSUFFICIENT_DATA';
    history.push({ at, state, reason });
    history.sort((x, y) => x.at - y.at);
    // CloudWatch puts an alarm state-change event when the state changes.
    this.world.schedule(at, () =>
      this.world.events.put({
        source: 'aws.cloudwatch',
        'detail-type': 'CloudWatch Alarm State Change',
        resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`],
        detail: {
          alarmName: name,
          state: { value: state, reason, timestamp: new Date(at).toISOString().replace('Z', '+0000') },
          previousState: { value: previous },
        },
      }),
    );
  }

  stateAt(name: string, at: number): AlarmChange | undefined {
    return (this.alarms.get(name) ?? []).filter((c) => c.at <= at).at(-1);
  }

  /** Whether the alarm was in ALARM at any moment of [from, to]. */
  alarmedDuring(name: string, from: number, to: number): boolean {
    const history = this.alarms.get(name) ?? [];
    if (this.stateAt(name, from)?.state === 'ALARM') return true;
    return history.some((c) => c.at > from && c.at <= to && c.state === 'ALARM');
  }

  GetMetricData(input: {
    StartTime?: Date;
    EndTime?: Date;
    MetricDataQueries?: {
      Id?: string;
      MetricStat?: { Metric?: { MetricName?: string; Dimensions?: { Name?: string; Value?: string }[] } };
    }[];
  }) {
    const from = input.StartTime?.getTime() ?? this.world.now();
    const to = input.EndTime?.getTime() ?? this.world.now();
    return {
      MetricDataResults: (input.MetricDataQueries ?? []).map((query) => {
        const metric = query.MetricStat?.Metric;
        if (metric?.MetricName !== 'RequestCount')
          throw awsError('InvalidParameterValue', `unsupported metric ${metric?.MetricName}`);
        const group = metric.Dimensions?.find((d) => d.Name === 'TargetGroup')?.Value ?? '';
        return { Id: query.Id, StatusCode: 'Complete', Values: [this.requests(group, from, to)] };
      }),
    };
  }

  /** The changes up to `at` that moved the alarm to another state, oldest first. */
  private transitions(name: string, at: number): { change: AlarmChange; from: AlarmChange['state'] }[] {
    const out: { change: AlarmChange; from: AlarmChange['state'] }[] = [];
    let state: AlarmChange['state'] = 'INSUFFICIENT_DATA';
    for (const change of this.alarms.get(name) ?? []) {
      if (change.at > at) break;
      if (change.state !== state) out.push({ change, from: state });
      state = change.state;
    }
    return out;
  }

  /**
   * The named alarms, a page at a time: CloudWatch takes at most 100 names a call and answers
   * MaxRecords alarms a page (1-100, default 50) with a NextToken for the rest (DescribeAlarms,
   * CloudWatch API reference).
   */
  DescribeAlarms(input: { AlarmNames?: string[]; MaxRecords?: number; NextToken?: string }) {
    const now = this.world.now();
    if ((input.AlarmNames?.length ?? 0) > 100)
      throw awsError(
        'ValidationError',
        `1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100`,
      );
    const size = input.MaxRecords ?? 50;
    if (!Number.isInteger(size) || size < 1 || size > 100)
      throw awsError('ValidationError', 'MaxRecords must be between 1 and 100');
    const names = input.AlarmNames ?? [...this.alarms.keys()];
    const known = names.filter((name) => this.alarms.has(name));
    const start = Number(input.NextToken ?? 0);
    const MetricAlarms = known.slice(start, start + size).map((name) => {
      const current = this.stateAt(name, now);
      const transitioned = this.transitions(name, now).at(-1)?.change.at ?? 0;
      return {
        AlarmName: name,
        StateValue: current?.state ?? 'INSUFFICIENT_DATA',
        StateReason: current?.reason ?? '',
        StateUpdatedTimestamp: new Date(current?.at ?? 0),
        StateTransitionedTimestamp: new Date(transitioned),
      };
    });
    return {
      MetricAlarms,
      CompositeAlarms: [],
      ...(start + size < known.length ? { NextToken: String(start + size) } : {}),
    };
  }

  /** State updates of one alarm in [StartDate, EndDate], newest first unless asked otherwise. */
  DescribeAlarmHistory(input: {
    AlarmName?: string;
    HistoryItemType?: string;
    StartDate?: Date;
    EndDate?: Date;
    ScanBy?: string;
    MaxRecords?: number;
    NextToken?: string;
  }) {
    const name = input.AlarmName ?? '';
    const from = input.StartDate?.getTime() ?? 0;
    const to = input.EndDate?.getTime() ?? this.world.now();
    const items = this.transitions(name, to)
      .filter(({ change }) => change.at >= from)
      .map(({ change, from: old }) => ({
        AlarmName: name,
        AlarmType: 'MetricAlarm',
        Timestamp: new Date(change.at),
        HistoryItemType: 'StateUpdate',
        HistorySummary: `Alarm updated from ${old} to ${change.state}`,
        HistoryData: JSON.stringify({
          version: '1.0',
          oldState: { stateValue: old },
          newState: { stateValue: change.state, stateReason: change.reason },
        }),
      }));
    if (input.ScanBy !== 'TimestampAscending') items.reverse();
    const start = Number(input.NextToken ?? 0);
    const size = input.MaxRecords ?? 100;
    return {
      AlarmHistoryItems: items.slice(start, start + size),
      ...(start + size < items.length ? { NextToken: String(start + size) } : {}),
    };
  }
}

export interface SimMessage {
  at: number;
  topicArn: string;
  subject: string;
  message: string;
  attributes: Record<string, string>;
}

/** A subscription to a topic: what SNS delivered to its endpoint, after its filter policy. */
export interface SimSubscription {
  arn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
  filterPolicy?: FilterPolicy;
  filterPolicyScope: FilterPolicyScope;
  delivered: SimMessage[];
}

/** SNS: topics that record what was published, and subscriptions that get what their filter lets through. */
export class SnsModel {
  readonly topics = new Set<string>();
  readonly messages: SimMessage[] = [];
  /** Called for every message published (an observer of the topic, not a subscription). */
  readonly subscribers: ((message: SimMessage) => void)[] = [];
  readonly subscriptions: SimSubscription[] = [];

  constructor(private readonly world: WorldContext) {}

  Publish(input: {
    TopicArn?: string;
    Subject?: string;
    Message?: string;
    MessageAttributes?: Record<string, { StringValue?: string }>;
  }) {
    // The client publishes in its own Region; SNS refuses a topic of another one.
    if ((input.TopicArn ?? '').split(':')[3] !== this.world.region)
      throw awsError('InvalidParameter', 'Invalid parameter: TopicArn');
    if (!this.topics.has(input.TopicArn ?? '')) throw awsError('NotFound', 'Topic does not exist', 404);
    if (!input.Message) throw awsError('InvalidParameter', 'Invalid parameter: Empty message');
    // The API reference: an attribute's name, type and value must not be empty or null.
    for (const [name, value] of Object.entries(input.MessageAttributes ?? {}))
      if (!name || !value.StringValue)
        throw awsError(
          'InvalidParameterValue',
          `The message attribute '${name}' must contain a non-empty value`,
        );
    const message: SimMessage = {
      at: this.world.now(),
      topicArn: input.TopicArn ?? '',
      subject: input.Subject ?? '',
      message: input.Message,
      attributes: Object.fromEntries(
        Object.entries(input.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? '']),
      ),
    };
    this.messages.push(message);
    for (const subscription of this.subscriptions) {
      if (subscription.topicArn !== message.topicArn) continue;
      const { filterPolicy, filterPolicyScope } = subscription;
      if (filterPolicy && !filterMatches(filterPolicy, message, filterPolicyScope)) continue;
      subscription.delivered.push(message);
    }
    for (const subscriber of this.subscribers) subscriber(message);
    return { MessageId: this.world.id('', 32) };
  }

  /**
   * A subscription as Subscribe makes it (confirmed at once): the filter policy is checked as SNS
   * checks it (sim/aws/sns-filter.ts), on message attributes (the default scope) or on the body.
   * SNS keeps one subscription per topic, protocol and endpoint: Subscribe again with the same
   * attributes returns it, with others is refused ("Subscription already exists with different
   * attributes"), so one address cannot take two filter policies on one topic.
   */
  Subscribe(input: {
    TopicArn?: string;
    Protocol?: string;
    Endpoint?: string;
    Attributes?: { FilterPolicy?: string; FilterPolicyScope?: string };
  }): SimSubscription {
    const topicArn = input.TopicArn ?? '';
    if (!this.topics.has(topicArn)) throw awsError('NotFound', 'Topic does not exist', 404);
    if (!input.Protocol || !input.Endpoint) throw awsError('InvalidParameter', 'Invalid parameter: Endpoint');
    const scope = input.Attributes?.FilterPolicyScope ?? 'MessageAttributes';
    if (scope !== 'MessageAttributes' && scope !== 'MessageBody') {
      throw awsError('InvalidParameter', `Invalid parameter: FilterPolicyScope: ${scope}`);
    }
    const policy = input.Attributes?.FilterPolicy;
    const parsed = policy ? parseFilterPolicy(policy) : undefined;
    const existing = this.subscriptions.find(
      (s) => s.topicArn === topicArn && s.protocol === input.Protocol && s.endpoint === input.Endpoint,
    );
    if (existing) {
      const same =
        existing.filterPolicyScope === scope &&
        JSON.stringify(existing.filterPolicy) === JSON.stringify(parsed);
      if (same) return existing;
      throw awsError(
        'InvalidParameter',
        'Invalid parameter: Attributes Reason: Subscription already exists with different attributes',
      );
    }
    const subscription: SimSubscription = {
      arn: `${topicArn}:${this.world.id('', 36)}`,
      topicArn,
      protocol: input.Protocol,
      endpoint: input.Endpoint,
      ...(parsed ? { filterPolicy: parsed } : {}),
      filterPolicyScope: scope,
      delivered: [],
    };
    this.subscriptions.push(subscription);
    return subscription;
  }
}

/** Secrets Manager: named string secrets. */
export class SecretsModel {
  readonly secrets = new Map<string, string>();

  GetSecretValue(input: { SecretId?: string }) {
    const value = this.secrets.get(input.SecretId ?? '');
    if (value === undefined) {
      throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return { Name: input.SecretId, SecretString: value, VersionId: 'simulated' };
  }
}

/** STS: who the caller is (the operator at the command line, in the simulated account). */
export class StsModel {
  constructor(private readonly account: string) {}

  GetCallerIdentity() {
    return {
      Account: this.account,
      Arn: `arn:aws:sts::${this.account}:assumed-role/operator/alice`,
      UserId: 'AROASIMULATEDOPERATOR:alice',
    };
  }
}
