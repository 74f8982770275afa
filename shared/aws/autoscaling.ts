import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';

/** Auto Scaling, for fleets that are groups (fleet.kind autoScalingGroup). */
export const autoscaling = new AutoScalingClient({});
