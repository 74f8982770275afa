/** Errors shaped like the AWS SDK's service exceptions, so the real error handling runs on them. */
export class SimulatedAwsError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId: string };
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
