import { loadDefinition, ROLLBACK_ASL_PATH } from '../../sim/definition.ts';
import { faultMatrix } from '../support/fault-matrix.ts';

// The fault matrix on group fleets (fleet.kind autoScalingGroup): every Task state whose function
// has a group path (it makes, watches, detaches, deletes, holds or releases groups) × every kind of
// fault, on group scenarios. Each must end as its base does, or roll back as its Catch says, with
// no group left but the live slot's.
const GROUP_FUNCTIONS = new Set([
  'planDeployment',
  'launchGreen',
  'checkGreenHealth',
  'shiftTraffic',
  'checkStep',
  'watchWindow',
  'deregisterBlue',
  'terminateBlue',
  'drainGreen',
  'removeGreen',
  'recoverExecution',
]);
const states = (tasks: Record<string, string>) =>
  Object.entries(tasks)
    .filter(([, fn]) => GROUP_FUNCTIONS.has(fn))
    .map(([state]) => state);

faultMatrix({
  title: 'groups',
  bases: ['asg-happy', 'asg-alarm-during-shift'],
  rollbackBases: ['asg-stopped-by-operator'],
  mustReach: [
    ...new Set([...states(loadDefinition().tasks), ...states(loadDefinition(ROLLBACK_ASL_PATH).tasks)]),
  ],
});
