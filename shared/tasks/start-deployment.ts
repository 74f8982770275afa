import type { S3Event } from 'aws-lambda';
import { executionStatus, startExecution } from '../aws/sfn.ts';
import { parseEventKey } from '../domain/artifact-key.ts';
import { executionName } from '../domain/identity.ts';
import { uploadOrder } from '../domain/lock.ts';
import type { DeploymentInput } from '../domain/workflow.ts';
import { logger } from '../logger.ts';

export interface StartResult {
  started: string[];
  duplicates: string[];
  ignored: { key: string; reason: string }[];
}

/**
 * Turns S3 "object created" records into executions. A key that is not a release is logged and
 * ignored (never a crash, never a launch). The execution name is derived from the object version,
 * so a duplicate delivery of the same event lands on the same name and starts nothing. The input
 * names the delivery (`deliveryId`, the Lambda request id): two deliveries racing past the lookup
 * at the same moment differ in input, so Step Functions starts one and refuses the other with
 * ExecutionAlreadyExists (with the same input it would answer both as the one start, and both
 * would say they started it); a retry of one delivery keeps its request id and its input.
 */
export async function startDeployments(
  event: Partial<S3Event>,
  stateMachineArn: string,
  deliveryId?: string,
): Promise<StartResult> {
  const result: StartResult = { started: [], duplicates: [], ignored: [] };
  const receivedAt = new Date().toISOString();
  const records = Array.isArray(event?.Records) ? event.Records : [];
  if (records.length === 0) logger.info('event holds no S3 records (an s3:TestEvent?); nothing to do');
  for (const record of records) {
    const object = record?.s3?.object;
    const bucket = record?.s3?.bucket?.name;
    const rawKey = typeof object?.key === 'string' ? object.key : '';
    if (!record?.eventName?.startsWith('ObjectCreated:') || !bucket) {
      result.ignored.push({ key: rawKey, reason: `not an object-created record (${record?.eventName})` });
      continue;
    }
    const parsed = parseEventKey(rawKey);
    if (!parsed.ok) {
      logger.warn('ignoring upload: not a release artifact key', {
        bucket,
        key: rawKey,
        reason: parsed.reason,
      });
      result.ignored.push({ key: rawKey, reason: parsed.reason });
      continue;
    }
    const { app, env, version, format } = parsed.artifact;
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
    const input: DeploymentInput = {
      deploymentId: name,
      app,
      env,
      version,
      format,
      uploadedAt,
      ...(deliveryId ? { deliveryId } : {}),
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
  return result;
}
