import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { AwsThrottled, AwsTransient, DeploymentError } from '../errors.ts';

type SdkError = Error & { $metadata?: { httpStatusCode?: number }; $retryable?: unknown; code?: string };

/**
 * Maps an AWS SDK error to the error names the ASL retries: throttling and transient failures
 * become AwsThrottled / AwsTransient (retried with backoff and jitter), everything else keeps its
 * own name and fails the task. The SDK's own classifiers decide, so the lists stay current.
 */
export function classifyAwsError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof DeploymentError) return error;
  const sdk = error as SdkError;
  const what = `${sdk.name}: ${sdk.message}`;
  // The classifiers read `$metadata`, `$retryable` and `code`; plain errors lack them.
  if (isThrottlingError(sdk as never)) return new AwsThrottled(what, { cause: error });
  if (isTransientError(sdk as never) || isServerError(sdk as never))
    return new AwsTransient(what, { cause: error });
  return error;
}

/** True for the error AWS returns when a resource with that name already exists. */
export function isAlreadyExists(error: unknown): boolean {
  return error instanceof Error && /AlreadyExists|IdempotentParameterMismatch/.test(error.name);
}

export function isNotFound(error: unknown): boolean {
  return (
    error instanceof Error &&
    /NotFound|NoSuchKey|NoSuchVersion|NoSuchEntity|NotFoundException/.test(error.name)
  );
}
