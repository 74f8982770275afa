import type { Outcome } from './report.ts';
import type { Slot } from './traffic.ts';

/**
 * Progress events: each phase change of a deployment put on the account's default EventBridge bus,
 * so ChatOps, dashboards and the command line can follow a deployment without polling its
 * execution history.
 *
 * Every event has `source` "bluegreen-ec2" and a `detail-type` naming the phase
 * ("Deployment green healthy", "Deployment step shifted", ...: PROGRESS_DETAIL_TYPES), or for the
 * last event of a deployment (phase `finished`) its outcome ("Deployment succeeded", "Deployment
 * rolled back", ...: FINISHED_DETAIL_TYPES). Its `detail`:
 *
 * - `id`: stable per execution, phase and step (`<deploymentId>:<phase>[:<step>]`). The tasks that
 *   put events are Lambda functions Step Functions retries, and a retry after a put whose answer
 *   was lost puts the event again: events are delivered at least once, and a consumer that must
 *   see each phase once drops an `id` it has seen.
 * - `app`, `env`, `version`: the release being deployed.
 * - `execution`: the deployment id, which names the Step Functions execution.
 * - `phase`: one of PROGRESS_PHASES.
 * - `weights` (traffic phases): the percent of traffic per slot after the change, e.g.
 *   `{"a": 90, "b": 10}`, and `green`: which slot is green.
 * - `step` (step shifted): the traffic step's number, from 1.
 * - `outcome` (finished): how the deployment ended, as the final notification names it.
 * - `at`: when the phase was reached (ISO 8601, UTC).
 *
 * Only names the service validates (app, env and version are restricted to letters, digits and
 * `.`, `_`, `-`; the deployment id likewise) and numbers enter an event: no text a person wrote
 * (comments, alarm reasons, build failures) is put in one. What happened in words is in the final
 * notification and the execution history.
 */
export const PROGRESS_SOURCE = 'bluegreen-ec2';

export const PROGRESS_DETAIL_TYPES = {
  started: 'Deployment started',
  baked: 'Deployment baked',
  'green-launched': 'Deployment green launched',
  'green-healthy': 'Deployment green healthy',
  'step-shifted': 'Deployment step shifted',
  'window-started': 'Deployment termination window started',
  'blue-terminated': 'Deployment blue terminated',
  'traffic-returned': 'Deployment traffic returned to blue',
} as const;

/** The last event of every deployment, phase `finished`: its detail-type names the outcome. */
export const FINISHED_DETAIL_TYPES: Record<Outcome, string> = {
  succeeded: 'Deployment succeeded',
  failed: 'Deployment failed',
  'rolled-back': 'Deployment rolled back',
  'rollback-failed': 'Deployment rollback failed',
  'cleanup-failed': 'Deployment cleanup failed',
  superseded: 'Deployment superseded',
};

export type ProgressPhase = keyof typeof PROGRESS_DETAIL_TYPES | 'finished';
export const PROGRESS_PHASES = [...Object.keys(PROGRESS_DETAIL_TYPES), 'finished'] as ProgressPhase[];

/** Which deployment an event is about: the execution state's input fields. */
export interface ProgressSubject {
  deploymentId: string;
  app: string;
  env: string;
  version: string;
}

/** What a phase adds to its event. */
export interface ProgressFacts {
  weights?: Record<Slot, number>;
  green?: Slot;
  step?: number;
  outcome?: Outcome;
}

export interface ProgressDetail extends ProgressFacts {
  id: string;
  app: string;
  env: string;
  version: string;
  execution: string;
  phase: ProgressPhase;
  at: string;
}

/** One entry of a PutEvents request, on the default bus. */
export interface ProgressEvent {
  source: typeof PROGRESS_SOURCE;
  detailType: string;
  detail: ProgressDetail;
}

/** The id consumers dedupe on: the same for every put of one phase (and step) of one execution. */
export function progressId(deploymentId: string, phase: ProgressPhase, step?: number): string {
  return step === undefined ? `${deploymentId}:${phase}` : `${deploymentId}:${phase}:${step}`;
}

/** The event for `phase` of `subject`'s deployment, reached at `at`. */
export function progressEvent(
  subject: ProgressSubject,
  phase: ProgressPhase,
  at: Date,
  facts: ProgressFacts = {},
): ProgressEvent {
  const { weights, green, step, outcome } = facts;
  if (phase === 'finished' && !outcome) throw new TypeError('a finished event needs its outcome');
  return {
    source: PROGRESS_SOURCE,
    detailType:
      phase === 'finished' ? FINISHED_DETAIL_TYPES[outcome as Outcome] : PROGRESS_DETAIL_TYPES[phase],
    detail: {
      id: progressId(subject.deploymentId, phase, step),
      app: subject.app,
      env: subject.env,
      version: subject.version,
      execution: subject.deploymentId,
      phase,
      ...(weights ? { weights: { ...weights } } : {}),
      ...(green ? { green } : {}),
      ...(step !== undefined ? { step } : {}),
      ...(outcome ? { outcome } : {}),
      at: at.toISOString(),
    },
  };
}
