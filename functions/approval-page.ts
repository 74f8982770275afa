import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { messagePage, SECURITY_HEADERS } from '#shared/domain/approval-page.ts';
import { requireEnv } from '#shared/env.ts';
import { logger } from '#shared/logger.ts';
import { defineTask } from '#shared/task.ts';
import { serveApproval } from '#shared/tasks/approval-page.ts';

const env = requireEnv('APPROVALS_TABLE', 'SIGNING_SECRET_ID');

/** The approval link's page (HTTP API, payload format 2.0). Errors become a plain 500 page. */
export const handler = defineTask(
  'approval-page',
  async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      return await serveApproval(event, { table: env.APPROVALS_TABLE, secretId: env.SIGNING_SECRET_ID });
    } catch (error) {
      logger.error('approval page failed', { error });
      // A POST may have failed after the answer went out: never tell the approver nothing happened.
      const posted = event.requestContext?.http?.method === 'POST';
      return {
        statusCode: 500,
        headers: SECURITY_HEADERS,
        body: posted
          ? messagePage(
              'Something went wrong',
              'Your answer may or may not have reached the deployment.',
              'Open the link again in a minute to see whether your answer was taken.',
            )
          : messagePage(
              'Something went wrong',
              'Opening this link never decides anything. Please try again in a minute.',
            ),
      };
    }
  },
);
