import type { S3Event } from 'aws-lambda';
import { requireEnv } from '#shared/env.ts';
import { defineTask } from '#shared/task.ts';
import { startDeployments } from '#shared/tasks/start-deployment.ts';

const env = requireEnv('STATE_MACHINE_ARN', 'NOTIFICATION_TOPIC_ARN', 'LOCKS_TABLE');

/**
 * S3 "object created" notifications on the release prefix → one execution per artifact version;
 * an upload it ignores is told on the deployments topic.
 */
export const handler = defineTask('start-deployment', (event: Partial<S3Event>, context) =>
  startDeployments(event, env.STATE_MACHINE_ARN, context?.awsRequestId, {
    topicArn: env.NOTIFICATION_TOPIC_ARN,
    locksTable: env.LOCKS_TABLE,
    remainingMs: () => context?.getRemainingTimeInMillis?.() ?? 0,
  }),
);
