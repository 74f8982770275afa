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
      return {
        statusCode: 500,
        headers: SECURITY_HEADERS,
        body: messagePage('Something went wrong', 'Nothing was decided. Please try again in a minute.'),
      };
    }
  },
);
