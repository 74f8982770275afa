import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger. Level comes from POWERTOOLS_LOG_LEVEL (INFO by default). */
export const logger = new Logger({ serviceName: 'bluegreen-ec2' });
