import { STATE, type StateName } from './domain/states.ts';

/**
 * Every error a task throws on purpose. Step Functions matches Retry and Catch on the thrown
 * error's `name`, and esbuild minification renames classes, so each class sets its name as a
 * string literal. `test/unit/error-names.test.ts` fails when the ASL and this module disagree.
 */
export abstract class DeploymentError extends Error {
  /** True when the same call may succeed if retried (the ASL must name it in a Retry). */
  abstract readonly retryable: boolean;
  /** The one state whose task throws it, when only one does (only that state must retry it). */
  readonly onlyIn?: StateName;
  /** The one function (serverless.yml key) that throws it: only its task states must retry it. */
  readonly onlyInFunction?: string;
}

/** AWS rejected the call for rate (Throttling, RequestLimitExceeded, TooManyRequests...). */
export class AwsThrottled extends DeploymentError {
  readonly retryable = true;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AwsThrottled';
  }
}

/** A 5xx, a timeout or a connection reset: the call may succeed later. */
export class AwsTransient extends DeploymentError {
  readonly retryable = true;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AwsTransient';
  }
}

/** The per-app/env config is missing or breaks the schema. Nothing has been launched. */
export class InvalidConfig extends DeploymentError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidConfig';
  }
}

/** The state of the world makes a deploy unsafe to start (traffic split, artifact overwritten...). */
export class UnsafeToDeploy extends DeploymentError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeToDeploy';
  }
}

/** Image Builder reported the build failed or was cancelled. */
export class BakeFailed extends DeploymentError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'BakeFailed';
  }
}

/** The build did not reach AVAILABLE within the configured bake timeout. */
export class BakeTimedOut extends DeploymentError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'BakeTimedOut';
  }
}

/** EC2 launched fewer green instances than the plan needs, or green instances died while booting. */
export class CapacityShortfall extends DeploymentError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'CapacityShortfall';
  }
}

/** Green targets did not become (or stay) healthy. */
export class GreenUnhealthy extends DeploymentError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'GreenUnhealthy';
  }
}

/** A watched CloudWatch alarm is in ALARM. */
export class AlarmTriggered extends DeploymentError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'AlarmTriggered';
  }
}

/** A Route 53 change did not reach INSYNC within the bounded number of checks. */
export class DnsChangeTimedOut extends DeploymentError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'DnsChangeTimedOut';
  }
}

/** The live DNS weights are not what this step expects; someone else changed them. */
export class TrafficDrift extends DeploymentError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'TrafficDrift';
  }
}

/**
 * Green's slot is another deployment's: claimed by one that still runs, owned by another app/env,
 * or holding instances this deployment did not launch. Nothing of theirs is touched.
 */
export class SlotInUse extends DeploymentError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'SlotInUse';
  }
}

/** A rollback step cannot be completed safely; what is left needs a person. */
export class RollbackBlocked extends DeploymentError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'RollbackBlocked';
  }
}

/**
 * The lock's owner has ended, and its recovery is still putting traffic back: the lock task fails
 * with this and Step Functions asks again a minute later (its Retry), so no waiter can be left
 * parked behind a recovery that never comes.
 */
export class LockRecovering extends DeploymentError {
  readonly retryable = true;
  override readonly onlyIn = STATE.lock;
  constructor(message: string) {
    super(message);
    this.name = 'LockRecovering';
  }
}

/**
 * Another invocation is publishing this execution's final notification at this moment (the same
 * task delivered twice): this one publishes nothing and asks again later (the notify states'
 * Retry), when the other has recorded what it sent or, had it died, its claim has run out.
 */
export class NotificationInFlight extends DeploymentError {
  readonly retryable = true;
  override readonly onlyInFunction = 'notify';
  constructor(message: string) {
    super(message);
    this.name = 'NotificationInFlight';
  }
}

/** A polling loop reached its bound without reaching its end condition. */
export class LoopBoundExceeded extends DeploymentError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'LoopBoundExceeded';
  }
}

/**
 * Errors a parked execution is failed with through SendTaskFailure rather than thrown by a task:
 * the ASL catches them by these names.
 */
export const CALLBACK_ERRORS = {
  superseded: 'DeploymentSuperseded',
  approvalRejected: 'ApprovalRejected',
  /** The same name AlarmTriggered carries when a task throws it. */
  alarm: 'AlarmTriggered',
} as const;

/** Every error class the tasks may throw, for the ASL cross-check test. */
export const deploymentErrors = [
  AwsThrottled,
  AwsTransient,
  InvalidConfig,
  UnsafeToDeploy,
  BakeFailed,
  BakeTimedOut,
  CapacityShortfall,
  GreenUnhealthy,
  AlarmTriggered,
  DnsChangeTimedOut,
  TrafficDrift,
  RollbackBlocked,
  LoopBoundExceeded,
  LockRecovering,
  NotificationInFlight,
] as const;
