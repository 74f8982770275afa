import { requireEnv } from '#shared/env.ts';
import { defineTask } from '#shared/task.ts';
import { type ApprovalRequest, requestApproval } from '#shared/tasks/request-approval.ts';

const env = requireEnv('APPROVALS_TABLE', 'SIGNING_SECRET_ID', 'APPROVAL_BASE_URL', 'NOTIFICATION_TOPIC_ARN');

/** "Ask for approval ...": invoked with .waitForTaskToken; stores the token, sends signed links. */
export const handler = defineTask('request-approval', (request: ApprovalRequest) =>
  requestApproval(request, {
    table: env.APPROVALS_TABLE,
    secretId: env.SIGNING_SECRET_ID,
    baseUrl: env.APPROVAL_BASE_URL,
    defaultTopicArn: env.NOTIFICATION_TOPIC_ARN,
  }),
);
