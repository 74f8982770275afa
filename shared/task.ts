import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { classifyAwsError } from './aws/errors.ts';
import { logger } from './logger.ts';
import { countOverrun } from './metrics.ts';

/**
 * Wraps a task's logic as a Lambda handler: structured logs with the Lambda context and the
 * deployment id, AWS errors renamed to what the ASL retries, and a DeploymentOverrun counted when
 * the deployment has run past its plan's deadline. No early-timeout timer: a task that runs out of
 * time is retried by Step Functions like any other Lambda timeout.
 */
export function defineTask<TInput, TResult>(
  name: string,
  run: (input: TInput, context: Context) => Promise<TResult>,
): (input: TInput, context: Context) => Promise<TResult> {
  return middy<TInput, TResult>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: (request) => {
        const event = request.event as { deploymentId?: unknown; deployment?: { deploymentId?: unknown } };
        const deploymentId = event?.deploymentId ?? event?.deployment?.deploymentId;
        logger.appendKeys({ task: name, ...(typeof deploymentId === 'string' ? { deploymentId } : {}) });
        countOverrun(request.event);
      },
      onError: (request) => {
        request.error = classifyAwsError(request.error) as Error;
        logger.warn('task failed', { error: request.error });
      },
    })
    .handler(run) as unknown as (input: TInput, context: Context) => Promise<TResult>;
}
