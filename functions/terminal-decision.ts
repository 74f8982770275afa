import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { requireEnv } from '#shared/env.ts';
import { logger } from '#shared/logger.ts';
import { defineTask } from '#shared/task.ts';
import { respond, serveTerminalDecision } from '#shared/tasks/terminal-decision.ts';

const env = requireEnv('APPROVALS_TABLE');

/** `POST /decisions` (HTTP API, IAM authorization): approve or reject from a terminal. */
export const handler = defineTask(
  'terminal-decision',
  async (event: APIGatewayProxyEventV2WithIAMAuthorizer): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      return await serveTerminalDecision(event, { table: env.APPROVALS_TABLE });
    } catch (error) {
      logger.error('terminal decision failed', { error });
      // It may have failed after the answer went out: never say nothing happened.
      return {
        ...respond({
          result: 'not-known',
          reason:
            'The service failed: the answer may or may not have reached the deployment. Ask again in a minute: the answer then says what the deployment received.',
        }),
        statusCode: 500,
      };
    }
  },
);
