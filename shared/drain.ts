import { recentRequests } from './aws/cloudwatch.ts';
import { metricDimensions } from './aws/elbv2.ts';

/** How long a target group must have served nothing to count as idle. */
export const IDLE_SECONDS = 120;

/**
 * Whether the target group served no request in the last two minutes. ELB publishes RequestCount
 * only while requests flow, so no data points is idle too.
 */
export async function targetGroupIdle(targetGroupArn: string): Promise<boolean> {
  const requests = await recentRequests(await metricDimensions(targetGroupArn), IDLE_SECONDS);
  return !requests;
}
