import { appNames, LAUNCH_TEMPLATE, ZONE } from '../worlds.ts';
import type { Stack } from './template.ts';

/**
 * The service's stack as it is deployed into the simulated account: stage `sim` (so its names are
 * the ones the handlers' environment names: bluegreen-ec2-sim-locks, ...), with the stack
 * parameters an operator of that account would set for web/prod.
 */
export const SIM_STACK: Stack = {
  name: 'bluegreen-ec2-sim',
  parameters: {
    HostedZoneIds: ZONE,
    RecordNames: appNames().record,
    ListenerArns: [appNames().listenerArn, appNames().ruleArn],
    InstanceRolePath: `/${LAUNCH_TEMPLATE.instanceProfile.roleArn.split('/')[1]}/`,
    NotificationTopicNames: 'bluegreen-*',
  },
};
