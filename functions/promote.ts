import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { requireEnv } from '#shared/env.ts';
import { logger } from '#shared/logger.ts';
import { defineTask } from '#shared/task.ts';
import { servePromotion } from '#shared/tasks/promote.ts';

const env = requireEnv('LOCKS_TABLE');

/** `POST /promotions` (HTTP API, IAM authorization): `bluegreen promote APP ENV`. */
export const handler = defineTask(
  'promote',
  async (event: APIGatewayProxyEventV2WithIAMAuthorizer): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      return await servePromotion(event, { locksTable: env.LOCKS_TABLE }, new Date());
    } catch (error) {
      logger.error('promote failed', { error });
      // It may have failed after the wait was ended: asking again says which (already-promoted).
      return {
        statusCode: 500,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        body: JSON.stringify({
          message: 'The service failed: the wait may or may not have ended. Ask again: the answer then says.',
        }),
      };
    }
  },
);
