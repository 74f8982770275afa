/**
 * The state machine's state names: what an operator reads in the console, and what the code that
 * reads an execution's history looks for. statemachines/deploy.ts builds the ASL from these, so a
 * renamed state is renamed everywhere, and a name the ASL lacks is a compile error.
 */
export const STATE = {
  lock: 'Take the deployment lock',
  plan: 'Plan the deployment',
  isSplit: 'Is there a traffic split to heal?',
  heal: 'Move all traffic to the healthier slot',
  waitHealDns: 'Wait for the healing DNS change',
  checkHealDns: 'Check the healing DNS change',
  isHealDnsInSync: 'Is the healing DNS change in sync?',
  leaveOtherSlot: 'Let resolvers leave the other slot',
  clearOtherSlot: 'Take the other slot out of service',
  drainOtherSlot: 'Let the other slot drain',
  retireOtherSlot: "Terminate the other slot's fleet",
  bake: 'Find or start the AMI bake',
  isAmiReady: 'Is the AMI ready?',
  awaitBake: 'Wait for the AMI bake',
  checkBake: 'Check the AMI bake',
  launch: 'Launch the green fleet',
  waitGreenHealth: 'Wait for green to boot and pass health checks',
  checkGreenHealth: 'Check green health',
  isGreenHealthy: 'Is green healthy?',
  isShiftApprovalNeeded: 'Is approval needed before shifting traffic?',
  askShiftApproval: 'Ask for approval to shift traffic',
  shift: 'Shift traffic to the next step',
  waitDns: 'Wait for the DNS change',
  checkDns: 'Check the DNS change',
  isDnsInSync: 'Is the DNS change in sync?',
  settle: 'Let the traffic step settle',
  checkStep: 'Check alarms and green health',
  isAllOnGreen: 'Is all traffic on green?',
  isThereBlue: 'Is there a blue fleet to retire?',
  watchWindow: 'Watch green during the termination window',
  hasWindowPassed: 'Has the termination window passed?',
  askTerminationApproval: 'Ask for approval to terminate blue',
  waitWindow: 'Wait out the termination window',
  deregisterBlue: 'Deregister the blue fleet',
  hasBlueDrained: 'Has blue drained?',
  waitBlueDrain: 'Wait for blue to drain',
  checkBlueDrain: 'Check that blue has drained',
  terminateBlue: 'Terminate the blue fleet',
  notifySucceeded: 'Notify that the deployment succeeded',
  succeeded: 'Deployment succeeded',
  notifyFailed: 'Notify that the deployment failed',
  failed: 'Deployment failed',
  notifySuperseded: 'Notify that the deployment was superseded',
  superseded: 'Deployment superseded',
  notifyCleanupFailed: 'Notify that blue was not terminated',
  blueNotTerminated: 'Blue not terminated',
  returnTraffic: 'Return traffic to blue',
  isTrafficMoving: 'Is traffic moving back to blue?',
  waitRollbackDns: 'Wait for the rollback DNS change',
  checkRollbackDns: 'Check the rollback DNS change',
  isRollbackDnsInSync: 'Is the rollback DNS change in sync?',
  leaveGreen: 'Let resolvers leave green',
  drainGreen: 'Take green out of service',
  letGreenDrain: 'Let green drain',
  removeGreen: 'Remove the green fleet',
  notifyRolledBack: 'Notify that the deployment was rolled back',
  rolledBack: 'Deployment rolled back',
  notifyRollbackFailed: 'Notify that the rollback failed',
  rollbackFailed: 'Rollback failed',
} as const;

/** The ends an execution fails in after its final notification; each has a twin for when it was not sent. */
export type FailEnd = (typeof STATE)[
  | 'failed'
  | 'superseded'
  | 'blueNotTerminated'
  | 'rolledBack'
  | 'rollbackFailed'];

/** The Fail state an end goes to when its notification could not be sent. */
export function notSent<E extends FailEnd>(end: E): `${E}, notification not sent` {
  return `${end}, notification not sent`;
}

export type StateName = (typeof STATE)[keyof typeof STATE] | `${FailEnd}, notification not sent`;
