import { recentRequests } from '../aws/cloudwatch.ts';
import { metricDimensions } from '../aws/elbv2.ts';

/** How long a target group must have served nothing to count as idle. */
export const IDLE_SECONDS = 120;

/**
 * Whether the target group (behind an Application Load Balancer) served no request in the last two
 * minutes. ELB publishes RequestCount only while requests flow, so no data points is idle too.
 */
export async function targetGroupIdle(targetGroupArn: string): Promise<boolean> {
  const { application, ...dimensions } = await metricDimensions(targetGroupArn);
  // Only ALBs count requests; behind any other load balancer draining runs its full course.
  if (!application) return false;
  const requests = await recentRequests(dimensions, IDLE_SECONDS);
  return !requests;
}
