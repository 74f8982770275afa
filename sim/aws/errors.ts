/** Errors shaped like the AWS SDK's service exceptions, so the real error handling runs on them. */
export class SimulatedAwsError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode?: number; requestId?: string; attempts?: number };
  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, requestId: 'simulated' };
  }
}

export function awsError(name: string, message: string, status = 400): SimulatedAwsError {
  return new SimulatedAwsError(name, message, status);
}

/** What each service calls a throttle, with the HTTP status it answers with. */
export const THROTTLE: Record<string, [string, number]> = {
  ec2: ['RequestLimitExceeded', 503],
  route53: ['Throttling', 400],
  elbv2: ['Throttling', 400],
  imagebuilder: ['TooManyRequestsException', 429],
  cloudwatch: ['Throttling', 400],
  sns: ['ThrottledException', 400],
  s3: ['SlowDown', 503],
  sfn: ['ThrottlingException', 400],
};

export type FaultKind = 'throttle' | 'transient' | 'permanent';

export function faultError(service: string, operation: string, kind: FaultKind): SimulatedAwsError {
  switch (kind) {
    case 'throttle': {
      const [name, status] = THROTTLE[service] ?? ['ThrottlingException', 400];
      return awsError(name, `Rate exceeded (simulated ${service} ${operation} throttle)`, status);
    }
    case 'transient':
      return awsError('InternalError', `simulated ${service} ${operation} internal error`, 500);
    case 'permanent':
      return awsError('AccessDenied', `simulated: not authorized to perform ${service}:${operation}`, 403);
  }
}

/**
 * Faults that strike after the call took effect: the service did what was asked, but its response
 * never reached the caller. `response-lost`: the caller gets the network error (the SDK gave up).
 * `response-lost-then-retried`: the SDK's own retry sends the call again and the caller gets that
 * second answer (for a single-use task token, TaskTimedOut), with `$metadata.attempts` 2.
 */
export type AfterEffectFault = 'response-lost' | 'response-lost-then-retried';

/** What the SDK throws when a connection drops before the response arrived: no HTTP status at all. */
export function responseLostError(service: string, operation: string): Error {
  const error = new Error(
    `simulated: ${service} ${operation} took effect but its response was lost (socket hang up)`,
  ) as Error & { code: string; $metadata: { attempts: number } };
  error.name = 'TimeoutError';
  error.code = 'ECONNRESET';
  error.$metadata = { attempts: 1 };
  return error;
}
