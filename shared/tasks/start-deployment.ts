import type { S3Event, S3EventRecord } from 'aws-lambda';
import { currentVersion } from '../aws/s3.ts';
import { executionStatus, startExecution } from '../aws/sfn.ts';
import { configKey, parseEventKey } from '../domain/artifact-key.ts';
import { executionName } from '../domain/identity.ts';
import {
  type IgnoredUpload,
  ignoredPublicationId,
  ignoredUploadNotice,
  isReleaseUpload,
} from '../domain/ignored-upload.ts';
import { uploadOrder } from '../domain/lock.ts';
import { uploaderOf } from '../domain/provenance.ts';
import { quoted } from '../domain/text.ts';
import type { DeploymentInput } from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { publishOnce } from '../operations/publish-once.ts';

export interface StartResult {
  started: string[];
  duplicates: string[];
  ignored: { key: string; reason: string }[];
}

/** Where the starter tells of ignored uploads, and how long its invocation has left. */
export interface Telling {
  topicArn: string;
  locksTable: string;
  remainingMs: () => number;
}

/**
 * Tells the deployments topic of an ignored upload under releases/, once per object version and
 * event (a duplicate delivery finds the publication recorded and publishes nothing).
 */
async function tellIgnored(upload: IgnoredUpload, telling: Telling): Promise<void> {
  const told = await publishOnce(
    telling.locksTable,
    ignoredPublicationId(upload),
    telling.remainingMs,
    async () => ({
      topicArn: telling.topicArn,
      ...ignoredUploadNotice(upload),
      result: (messageId: string) => ({ messageId }),
    }),
  );
  logger.info(told.repeat ? 'ignored upload told already' : 'ignored upload told', {
    kind: upload.kind,
    messageId: told.value.messageId,
  });
}

/** The ignored upload of a record, as its notification names it. */
function ignoredOf(
  record: S3EventRecord,
  kind: IgnoredUpload['kind'],
  reason: string,
  release?: IgnoredUpload['release'],
): IgnoredUpload {
  const object = record?.s3?.object;
  return {
    kind,
    bucket: String(record?.s3?.bucket?.name ?? ''),
    eventKey: typeof object?.key === 'string' ? object.key : '',
    versionId: typeof object?.versionId === 'string' ? object.versionId : undefined,
    eTag: typeof object?.eTag === 'string' ? object.eTag : undefined,
    eventName: typeof record?.eventName === 'string' ? record.eventName : undefined,
    eventTime: typeof record?.eventTime === 'string' ? record.eventTime : undefined,
    reason,
    release,
  };
}

/**
 * Turns S3 "object created" records into executions. A key that is not a release, or a release of
 * an app/env with no config, is logged, told on the deployments topic (only under releases/: the
 * rest of the bucket is the service's own) and ignored: never a crash, never a launch. The
 * execution name is derived from the object version, so a duplicate delivery of the same event
 * lands on the same name and starts nothing. The input names the delivery (`deliveryId`, the
 * Lambda request id): two deliveries racing past the lookup at the same moment differ in input, so
 * Step Functions starts one and refuses the other with ExecutionAlreadyExists (with the same input
 * it would answer both as the one start, and both would say they started it); a retry of one
 * delivery keeps its request id and its input.
 * A notification that cannot be published fails the invocation once every record is handled
 * (Lambda retries it; what started is then a duplicate, what was told is not told again).
 */
export async function startDeployments(
  event: Partial<S3Event>,
  stateMachineArn: string,
  deliveryId: string | undefined,
  telling: Telling,
): Promise<StartResult> {
  const result: StartResult = { started: [], duplicates: [], ignored: [] };
  const receivedAt = new Date().toISOString();
  const records = Array.isArray(event?.Records) ? event.Records : [];
  if (records.length === 0) logger.info('event holds no S3 records (an s3:TestEvent?); nothing to do');
  const untold: unknown[] = [];
  const ignore = async (upload: IgnoredUpload) => {
    result.ignored.push({ key: upload.eventKey, reason: upload.reason });
    if (!isReleaseUpload(upload.eventKey) || !upload.bucket) return;
    await tellIgnored(upload, telling).catch((error: unknown) => {
      logger.error('could not tell of an ignored upload', { key: upload.eventKey, error });
      untold.push(error);
    });
  };
  for (const record of records) {
    const object = record?.s3?.object;
    const bucket = record?.s3?.bucket?.name;
    const rawKey = typeof object?.key === 'string' ? object.key : '';
    if (!record?.eventName?.startsWith('ObjectCreated:') || !bucket) {
      await ignore(
        ignoredOf(record, 'event', `not an object-created record (${quoted(String(record?.eventName))})`),
      );
      continue;
    }
    const parsed = parseEventKey(rawKey);
    if (!parsed.ok) {
      logger.warn('ignoring upload: not a release artifact key', {
        bucket,
        key: rawKey,
        reason: parsed.reason,
      });
      await ignore(ignoredOf(record, 'key', parsed.reason));
      continue;
    }
    const { app, env, version, format } = parsed.artifact;
    // Without a config the deployment would fail in Plan: said here, before a lock is taken.
    const config = configKey(app, env);
    if ((await currentVersion(bucket, config)) === undefined) {
      const reason = `no config at s3://${bucket}/${config}: every app/env needs one before its first release`;
      logger.warn('ignoring upload: no config for its app/env', { bucket, key: parsed.key, config });
      await ignore(ignoredOf(record, 'config', reason, { app, env, version }));
      continue;
    }
    const artifact = {
      bucket,
      key: parsed.key,
      ...(object.versionId ? { versionId: object.versionId } : {}),
      ...(object.eTag ? { eTag: object.eTag } : {}),
      ...(typeof object.size === 'number' ? { size: object.size } : {}),
    };
    const name = executionName(app, env, version, artifact);
    const eventTime = Number.isNaN(Date.parse(record.eventTime))
      ? undefined
      : new Date(record.eventTime).toISOString();
    // Ordered by the S3 event time, bounded by this receipt: no one event's time can block the
    // app/env (see uploadOrder).
    const uploadedAt = uploadOrder(eventTime, receivedAt);
    if (eventTime && eventTime !== uploadedAt) {
      logger.warn('S3 event time is later than its receipt; the upload counts as received now', {
        key: parsed.key,
        eventTime,
        receivedAt,
      });
    }
    // Shown to approvers; a principal S3 would not write is left out, not trusted.
    const uploadedBy = uploaderOf(record.userIdentity?.principalId);
    const input: DeploymentInput = {
      deploymentId: name,
      app,
      env,
      version,
      format,
      uploadedAt,
      ...(deliveryId ? { deliveryId } : {}),
      ...(uploadedBy ? { uploadedBy } : {}),
      artifact,
    };
    const existing = await executionStatus(stateMachineArn, name);
    if (existing !== undefined) {
      logger.info('duplicate S3 event: execution already exists, starting nothing', {
        name,
        status: existing,
      });
      result.duplicates.push(name);
      continue;
    }
    try {
      await startExecution(stateMachineArn, name, input);
    } catch (error) {
      // Another delivery of the same event won the race between the check and the start (its
      // input names another delivery, so this start was refused, not answered as the same).
      if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
      logger.info('duplicate S3 event: another delivery started the execution at the same time', {
        name,
        deliveryId,
      });
      result.duplicates.push(name);
      continue;
    }
    logger.info('deployment started', { name, app, env, version, key: parsed.key, deliveryId });
    result.started.push(name);
  }
  if (untold.length > 0) throw untold[0];
  return result;
}
