import { requireEnv } from '#shared/env.ts';
import { defineTask } from '#shared/task.ts';
import { planDeployment } from '#shared/tasks/plan-deployment.ts';

const env = requireEnv('NOTIFICATION_TOPIC_ARN', 'NOTIFICATION_TOPIC_NAMES', 'MANAGED_LISTENERS');
const managedListeners = env.MANAGED_LISTENERS.split(',');

/** "Plan the deployment": config, live slot, fleet size, steps and loop bounds. Read-only. */
export const handler = defineTask('plan-deployment', (input: unknown) =>
  planDeployment(input, env.NOTIFICATION_TOPIC_ARN, env.NOTIFICATION_TOPIC_NAMES, managedListeners),
);
