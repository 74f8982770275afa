import type { ApprovalStage } from '#shared/domain/approval.ts';
import { LOCK_ASK_SECONDS, LOCK_REASKS } from '#shared/domain/lock.ts';
import type { Outcome } from '#shared/domain/report.ts';
import { type FailEnd, notSent, STATE, type StateName } from '#shared/domain/states.ts';
import {
  catchAll,
  choice,
  commented,
  fail,
  is,
  onTimeout,
  phase,
  type Retrier,
  type Segment,
  type StatePath,
  type States,
  wait,
} from './asl.ts';

/**
 * Blue/green deployment of one release of one app/env, in four phases with one retry and catch
 * policy each: prepare (nothing launched yet: a failure is told and ends), release (green exists:
 * a failure rolls back), retire (blue may be partly gone: a failure is told with what is left) and
 * rollback (a rollback that cannot finish ends with a cause that lists what is left). Every loop is
 * bounded by a counter its task checks. `npm run asl` writes deploy.asl.yml from here.
 */

const retrier = (ErrorEquals: string[], IntervalSeconds: number, MaxAttempts: number, BackoffRate = 1) => ({
  ErrorEquals,
  IntervalSeconds,
  MaxAttempts,
  BackoffRate,
});
/** Exponential backoff with full jitter (at most `maxDelay` seconds apart). */
const jittered = (errors: string[], interval: number, attempts: number, maxDelay?: number): Retrier => ({
  ...retrier(errors, interval, attempts, 2),
  ...(maxDelay && { MaxDelaySeconds: maxDelay }),
  JitterStrategy: 'FULL',
});

// Throttling is the account's shared rate (Route 53 allows 5 requests a second across every
// deployment at once): more patience than for an error. 20 attempts, up to a minute apart, wait
// about 8 minutes on average: enough for 100 deployments at once in one account (the bench's
// concurrent100), where 10 attempts (about 3 minutes) let 2 or 3 of them roll back.
const THROTTLED = jittered(['AwsThrottled'], 2, 20, 60);
/** Lambda's own errors, and a task that ran out of time (what it did is idempotent). */
const LAMBDA_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Sandbox.Timedout',
  'States.Timeout',
];
/** What AWS and Lambda fail with for a moment: the retries of every task that calls AWS. */
const AWS_RETRY = [THROTTLED, jittered(['AwsTransient'], 2, 6, 60), jittered(LAMBDA_ERRORS, 2, 3)];

const prepare = phase(AWS_RETRY, catchAll('$.failure', STATE.notifyFailed));
const release = phase(AWS_RETRY, catchAll('$.failure', STATE.returnTraffic));
const retire = phase(AWS_RETRY, catchAll('$.failure', STATE.notifyCleanupFailed));
// A rollback tries harder than a deploy (any error, five times), but RollbackBlocked says the
// traffic is not blue's to take back: no retry changes that.
const rollback = phase(
  [{ ErrorEquals: ['RollbackBlocked'], MaxAttempts: 0 }, THROTTLED, jittered(['States.ALL'], 3, 5, 60)],
  catchAll('$.rollbackFailure', STATE.notifyRollbackFailed),
);

/** Wait and check until Route 53 reports the change under `key` INSYNC, then go on to `then`. */
function dnsChange(key: 'healing' | 'shift' | 'rollbackTraffic', then: StateName): States {
  const [run, waiting, check, inSync] = (
    {
      healing: [prepare, STATE.waitHealDns, STATE.checkHealDns, STATE.isHealDnsInSync],
      shift: [release, STATE.waitDns, STATE.checkDns, STATE.isDnsInSync],
      rollbackTraffic: [rollback, STATE.waitRollbackDns, STATE.checkRollbackDns, STATE.isRollbackDnsInSync],
    } as const
  )[key];
  const dns = `$.${key}.dns` as const;
  const plan = key === 'shift' ? ({ 'plan.$': '$.plan' } as const) : {};
  return {
    [waiting]: wait(`${dns}.pollSeconds`, check),
    [check]: run.lambda('checkDnsChange', dns, inSync, { 'change.$': dns, ...plan }),
    [inSync]: is(`${dns}.status`, 'INSYNC', then, waiting),
  };
}

// Another invocation of this task is publishing the message right now (the same task delivered
// twice): ask again once it has recorded what it sent or, had it died, its claim has run out (the
// function's 60 s timeout): after 30, 75, 143 and 244 s.
const NOTIFY_RETRY = [retrier(['NotificationInFlight'], 30, 4, 1.5), ...AWS_RETRY];

/** What the tasks that need the whole state and the execution are given. */
const EXECUTION = { 'deployment.$': '$', 'executionArn.$': '$$.Execution.Id' } as const;
/** Where a final notification leads: an end of the execution. */
type End = FailEnd | typeof STATE.succeeded;

/**
 * The final notification, told once, then the lock released. An execution that could not tell
 * ends all the same, in a Fail state that says so, with the cause of the failure that led here.
 */
function notify(name: StateName, outcome: Outcome, end: End, failed?: [string, StatePath?]): States {
  const [error, cause = '$.failure.Cause'] = failed ?? [];
  const unsent = end === STATE.succeeded ? end : notSent(end);
  const told = phase(NOTIFY_RETRY, catchAll('$.notificationFailure', unsent));
  return {
    [name]: told.lambda('notify', '$.notification', end, { outcome, ...EXECUTION }),
    ...(error && { [end]: fail(error, '$.notification.summary'), [unsent]: fail(error, cause) }),
  };
}

/** Waits out `seconds` listening to the watched alarms: an alarm fails it at once, a promote ends it. */
const watchAlarms = (seconds: StatePath, next: StateName) =>
  release.callback('watchAlarms', '$.watch', next, {
    timeout: { TimeoutSecondsPath: seconds },
    payload: { ...EXECUTION, 'seconds.$': seconds },
    catch: onTimeout('$.watch', next),
  });
const askApproval = (stage: ApprovalStage, result: StatePath, next: StateName) =>
  release.callback('requestApproval', result, next, {
    timeout: { TimeoutSecondsPath: '$.plan.approval.timeoutSeconds' },
    payload: { stage, ...EXECUTION },
  });

/** Take the lock, plan, heal a split, bake: nothing is launched yet, so a failure is told and ends. */
const preparePhase = (): States => ({
  [STATE.lock]: prepare.callback('acquireLock', '$.lock', STATE.plan, {
    timeout: { TimeoutSeconds: LOCK_ASK_SECONDS },
    payload: { ...EXECUTION, 'startedAt.$': '$$.Execution.StartTime' },
    retry: [
      // A parked wait asks again every 30 minutes: an owner stopped meanwhile whose recovery never
      // released the lock is then taken over. The asks outlast the longest an owner can hold the
      // lock under the config's limits (shared/domain/lock.ts); an upload still without is told why.
      retrier(['States.Timeout'], 1, LOCK_REASKS),
      // The lock's last owner has ended and its recovery is still putting traffic back: ask again
      // each minute until the recovery releases the lock, or its 20 minutes of grace are over (an
      // hour of asking covers two stopped owners in a row, neither of them ever recovered).
      retrier(['LockRecovering'], 60, 60),
    ],
    catch: catchAll('$.failure', STATE.notifySuperseded, ['DeploymentSuperseded']),
  }),
  [STATE.plan]: prepare.lambda('planDeployment', '$.plan', STATE.isSplit),
  [STATE.isSplit]: is('$.plan.heal', { IsPresent: true }, STATE.heal, STATE.bake),
  [STATE.heal]: prepare.lambda('healSplit', '$.healing', STATE.waitHealDns, EXECUTION),
  ...dnsChange('healing', STATE.leaveOtherSlot),
  [STATE.leaveOtherSlot]: wait('$.plan.leaveSeconds', STATE.clearOtherSlot),
  [STATE.clearOtherSlot]: prepare.lambda('clearSlot', '$.cleared', STATE.drainOtherSlot),
  [STATE.drainOtherSlot]: wait('$.cleared.drainSeconds', STATE.retireOtherSlot),
  [STATE.retireOtherSlot]: prepare.lambda('retireClearedSlot', '$.cleared', STATE.bake),
  [STATE.bake]: prepare.lambda('startBake', '$.bake', STATE.isAmiReady),
  [STATE.isAmiReady]: is('$.bake.status', 'AVAILABLE', STATE.launch, STATE.awaitBake),
  [STATE.awaitBake]: prepare.callback('awaitBake', '$.bakeEvent', STATE.checkBake, {
    timeout: { TimeoutSecondsPath: '$.plan.bake.pollSeconds' },
    payload: {
      'imageBuildVersionArn.$': '$.bake.imageBuildVersionArn',
      'seconds.$': '$.plan.bake.pollSeconds',
    },
    catch: onTimeout('$.bakeEvent', STATE.checkBake),
  }),
  [STATE.checkBake]: prepare.lambda('checkBake', '$.bake', STATE.isAmiReady),
  ...notify(STATE.notifyFailed, 'failed', STATE.failed, ['DeploymentFailed']),
  ...notify(STATE.notifySuperseded, 'superseded', STATE.superseded, ['DeploymentSuperseded']),
});

/** Launch green, move traffic to it step by step, then watch it: from here on a failure rolls back. */
const releasePhase = (): States => ({
  [STATE.launch]: release.lambda('launchGreen', '$.green', STATE.waitGreenHealth, EXECUTION),
  [STATE.waitGreenHealth]: wait('$.plan.health.pollSeconds', STATE.checkGreenHealth),
  [STATE.checkGreenHealth]: release.lambda('checkGreenHealth', '$.health', STATE.isGreenHealthy),
  [STATE.isGreenHealthy]: is(
    '$.health.status',
    'HEALTHY',
    STATE.isShiftApprovalNeeded,
    STATE.waitGreenHealth,
  ),
  [STATE.isShiftApprovalNeeded]: is('$.plan.approval.beforeShift', true, STATE.askShiftApproval, STATE.shift),
  [STATE.askShiftApproval]: askApproval('traffic-shift', '$.shiftApproval', STATE.shift),
  [STATE.shift]: release.lambda('shiftTraffic', '$.shift', STATE.waitDns),
  ...dnsChange('shift', STATE.settle),
  [STATE.settle]: watchAlarms('$.shift.settleSeconds', STATE.checkStep),
  [STATE.checkStep]: release.lambda('checkStep', '$.check', STATE.isAllOnGreen),
  [STATE.isAllOnGreen]: is('$.shift.isLast', true, STATE.isThereBlue, STATE.shift),
  [STATE.isThereBlue]: is('$.plan.blue', { IsNull: true }, STATE.notifySucceeded, STATE.watchWindow),
  [STATE.watchWindow]: release.lambda('watchWindow', '$.window', STATE.hasWindowPassed),
  [STATE.hasWindowPassed]: choice(
    [
      {
        And: [
          { Variable: '$.window.done', BooleanEquals: true },
          { Variable: '$.plan.approval.beforeTermination', BooleanEquals: true },
          { Not: { Variable: '$.terminationApproval', IsPresent: true } },
        ],
        Next: STATE.askTerminationApproval,
      },
      { Variable: '$.window.done', BooleanEquals: true, Next: STATE.deregisterBlue },
    ],
    STATE.waitWindow,
  ),
  [STATE.askTerminationApproval]: askApproval('blue-termination', '$.terminationApproval', STATE.watchWindow),
  [STATE.waitWindow]: watchAlarms('$.window.nextCheckSeconds', STATE.watchWindow),
});

/** Drain and terminate blue: blue may be partly gone, so a failure is told with what is left. */
const retirePhase = (): States => ({
  [STATE.deregisterBlue]: retire.lambda('deregisterBlue', '$.drain', STATE.hasBlueDrained),
  [STATE.hasBlueDrained]: is('$.drain.drained', true, STATE.terminateBlue, STATE.waitBlueDrain),
  [STATE.waitBlueDrain]: wait('$.drain.nextCheckSeconds', STATE.checkBlueDrain),
  [STATE.checkBlueDrain]: retire.lambda('checkDrain', '$.drain', STATE.hasBlueDrained),
  [STATE.terminateBlue]: retire.lambda('terminateBlue', '$.retired', STATE.notifySucceeded),
  ...notify(STATE.notifySucceeded, 'succeeded', STATE.succeeded),
  [STATE.succeeded]: { Type: 'Succeed' },
  ...notify(STATE.notifyCleanupFailed, 'cleanup-failed', STATE.blueNotTerminated, ['BlueNotTerminated']),
});

/**
 * Traffic back on blue, green drained and terminated, everyone told: caught from every state after
 * the green fleet exists. A unit of its own, so that a state machine can be made of it alone.
 */
export const rollbackPhase = (): Segment => ({
  startAt: STATE.returnTraffic,
  states: {
    [STATE.returnTraffic]: rollback.lambda('rollbackTraffic', '$.rollbackTraffic', STATE.isTrafficMoving),
    [STATE.isTrafficMoving]: is('$.rollbackTraffic.changed', true, STATE.waitRollbackDns, STATE.removeGreen),
    ...dnsChange('rollbackTraffic', STATE.leaveGreen),
    [STATE.leaveGreen]: wait('$.rollbackTraffic.leaveSeconds', STATE.drainGreen),
    [STATE.drainGreen]: rollback.lambda('drainGreen', '$.greenDrain', STATE.letGreenDrain),
    [STATE.letGreenDrain]: wait('$.greenDrain.drainSeconds', STATE.removeGreen),
    [STATE.removeGreen]: rollback.lambda('removeGreen', '$.greenRemoval', STATE.notifyRolledBack),
    ...notify(STATE.notifyRolledBack, 'rolled-back', STATE.rolledBack, ['DeploymentRolledBack']),
    ...notify(STATE.notifyRollbackFailed, 'rollback-failed', STATE.rollbackFailed, [
      'RollbackFailed',
      '$.rollbackFailure.Cause',
    ]),
  },
});

/** What the console says of each state that does not speak for itself. */
const COMMENTS: { [Name in StateName]?: string } = {
  [STATE.lock]:
    'One deployment per app/env. Waits on a task token (asking again every 30 minutes) while another runs; ends as superseded when a newer upload for the same app/env arrives. Nothing has changed yet.',
  [STATE.plan]:
    'Load and validate config/<app>/<env>.json, read the live weights, decide blue, green, fleet size and steps. Read-only.',
  [STATE.isSplit]:
    'Only when both slots carried traffic and the config sets traffic.healSplit; otherwise Plan refused the split.',
  [STATE.heal]:
    'Claims the slot it will clear for this execution (refused while another deployment that still runs holds it), then one change batch (or one listener write); the weights must still be the split the plan saw.',
  [STATE.clearOtherSlot]:
    'Deregisters our instances in the slot that lost its traffic; refuses targets this service did not launch.',
  [STATE.bake]:
    'Reuse the AMI already baked from this artifact (found by tag), or start an Image Builder build.',
  [STATE.awaitBake]:
    "Parked until Image Builder's state-change event says the build ended; after bake.pollSeconds without an event, checked anyway.",
  [STATE.launch]:
    "Claims green's slot for this execution (refused while another deployment that still runs holds it; after a heal the claim is already this execution's), then RunInstances from the launch template with the baked AMI, tagged at launch, idempotent by client token. From here on every failure rolls back.",
  [STATE.checkGreenHealth]:
    'Registers green instances once they run, then judges ELB target health; fails after health.timeoutSeconds.',
  [STATE.askShiftApproval]:
    'Stores the task token under an opaque id, sends each approver a signed link, and waits for the decision up to approval.timeoutSeconds. A rejection or the timeout rolls back.',
  [STATE.shift]:
    'One change batch with both weighted records, or one ModifyListener/ModifyRule call with both target groups (never all zero), after checking green is healthy and nobody else moved the weights.',
  [STATE.checkDns]:
    "A listener's weights are in sync when written (alb mode: no wait, no check). GetChange until Route 53 reports INSYNC, at most the change's maxPolls times (3 minutes for a traffic step, up to 30 while the rollback rule would not let blue take the traffic back, with the alarms and green's health checked).",
  [STATE.settle]:
    "The larger of the step wait and the record TTL (the step wait alone in alb mode), so resolvers have moved before the step is judged. A watched alarm going into ALARM ends the wait at once and rolls back; an operator's promote ends it early, and the step is checked all the same.",
  [STATE.isThereBlue]: 'A first deployment has no blue.',
  [STATE.watchWindow]:
    'Blue stays up, taking no traffic, while alarms and green health are checked until the window ends.',
  [STATE.askTerminationApproval]:
    'As before the shift. Once approved, green is checked once more before blue goes, counting any alarm that fired while a person decided.',
  [STATE.waitWindow]:
    "Until the next check; a watched alarm going into ALARM ends the wait at once and rolls back (blue still runs). An operator's promote ends the window once it has begun, after one more check.",
  [STATE.deregisterBlue]:
    'Only once blue carries no traffic. From here on a failure does not roll back (blue may be partly gone); it is reported with what is left.',
  [STATE.waitBlueDrain]:
    'Until ELB ends draining, the target group is idle, or the deregistration delay is over.',
  [STATE.notifySucceeded]:
    'Told once (the publication is recorded, so a retry or a duplicate publishes nothing), then the lock is released.',
  [STATE.notifyFailed]:
    'Reached before anything was launched (config, plan, heal or bake failed); after a heal, the message lists what of the cleared slot is left.',
  [STATE.notifySuperseded]:
    'A newer upload for the same app/env is deploying or waiting; this one changed nothing.',
  [STATE.returnTraffic]:
    'All traffic back on blue in one change batch (or one listener write); nothing is written when traffic never left blue.',
  [STATE.waitRollbackDns]:
    'No time in alb mode (a listener write is in sync when written). Route 53 applies every change it accepted; this one puts all traffic back on blue, so it is waited for up to 30 minutes (checks every 10 s, after 3 minutes every minute).',
  [STATE.leaveGreen]:
    "Resolvers may serve the old answer for one TTL after INSYNC (route53 mode); a sticky client stays on green for the forward action's stickiness duration (alb mode: as the listener holds it at the rollback, never less than at Plan).",
  [STATE.drainGreen]:
    "Deregister this deployment's instances so requests in flight finish (clients that ignore DNS); refused while green carries traffic.",
  [STATE.letGreenDrain]: "The target group's deregistration delay (none when nothing was in service).",
  [STATE.removeGreen]:
    "Deregister and terminate every instance tagged with this deployment's id; refused while green carries traffic.",
  [STATE.notifyRollbackFailed]:
    'The cause lists what is left for a person (weights, instances), read from AWS at this moment.',
};

/** A state machine of `segment`, each state with what the console says of it. */
export const machine = (Comment: string, segment: Segment) => ({
  Comment,
  StartAt: segment.startAt,
  States: commented(segment.states, COMMENTS),
});

/** The deployment state machine, as serverless.yml deploys it (through deploy.asl.yml). */
export const deployMachine = () =>
  machine(
    'Bake an AMI with the release, launch green, shift weighted DNS from blue in steps, watch, retire blue; roll back on any failure.',
    {
      startAt: STATE.lock,
      states: { ...preparePhase(), ...releasePhase(), ...retirePhase(), ...rollbackPhase().states },
    },
  );

/** The rollback alone, which the recovery starts for an execution stopped, timed out or crashed. */
const STOPPED =
  'The rollback of a stopped deployment: traffic back on blue, green drained and terminated, everyone told.';
export const rollbackMachine = () => machine(STOPPED, rollbackPhase());
