import { STAGE_TITLES } from './approval.ts';
import { LOCK_WAIT_SECONDS } from './lock.ts';
import { promotionLine, promotionsOf, skippedSeconds } from './promotion.ts';
import { TAG } from './tags.ts';
import { oneLine, quoted } from './text.ts';
import { formatWeights } from './traffic.ts';
import type { CaughtFailure, DeploymentState } from './workflow.ts';

/**
 * What operators read: notification texts and the cause an execution ends with. Pure functions of
 * the execution state, so the console, SNS and the simulator all say the same thing.
 */

/** The execution's page in the Step Functions console. */
export function consoleUrl(executionArn: string): string {
  const region = executionArn.split(':')[3] ?? 'us-east-1';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

export type Outcome =
  | 'succeeded'
  | 'failed'
  | 'rolled-back'
  | 'rollback-failed'
  | 'cleanup-failed'
  | 'superseded';

/**
 * The message of a caught error. Real Step Functions wraps a Lambda error's Cause as JSON
 * (`{"errorType","errorMessage","trace"}`); local runners pass the message itself. Kept to one
 * line: a cause goes into a summary line, and whatever people wrote in it must not add lines.
 */
export function causeMessage(failure: CaughtFailure | undefined): string {
  if (!failure) return 'unknown error';
  const raw = failure.Cause ?? '';
  try {
    const parsed = JSON.parse(raw) as { errorMessage?: unknown; errorType?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return oneLine(parsed.errorMessage);
  } catch {
    // Not JSON: the cause is the message.
  }
  return oneLine(raw || failure.Error);
}

export function describeFailure(failure: CaughtFailure | undefined): string {
  if (!failure) return 'unknown error';
  return `${failure.Error}: ${causeMessage(failure)}`;
}

/** Which approval no approver answered in time, when that is why the execution failed. */
export function approvalTimedOut(state: DeploymentState): 'traffic-shift' | 'blue-termination' | null {
  const { failure, plan } = state;
  if (failure?.Error !== 'States.Timeout' || !plan) return null;
  if (plan.approval.beforeShift && !state.shiftApproval && !state.shift) return 'traffic-shift';
  if (plan.approval.beforeTermination && state.window?.done && !state.terminationApproval) {
    return 'blue-termination';
  }
  return null;
}

/** Why the execution failed, said the way an operator thinks of it. */
export function describeReason(state: DeploymentState): string {
  const { failure, plan } = state;
  // Timed out before it held the lock: its last ask for it ran out.
  if (failure?.Error === 'States.Timeout' && !state.lock && !plan) {
    const days = Math.round(LOCK_WAIT_SECONDS / 86_400);
    return `it gave up waiting for the deployment lock after ${days} days, the longest any deployment of ${state.app}/${state.env} can hold it, while another one still held it; upload ${state.artifact.key} again to deploy it`;
  }
  const unanswered = approvalTimedOut(state);
  if (unanswered && plan) {
    const hours = formatDuration(plan.approval.timeoutSeconds);
    return unanswered === 'traffic-shift'
      ? `no approver answered within ${hours} (approval to shift traffic)`
      : `no approver answered within ${hours} (approval to terminate blue)`;
  }
  return describeFailure(failure);
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

function between(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  return (Date.parse(to) - Date.parse(from)) / 1000;
}

/** Each measured duration as a sentence: the notification names no field of the state. */
const DURATION_LINES = {
  total: (took: string) => `The deployment took ${took}.`,
  bake: (took: string) => `Baking the AMI took ${took}.`,
  greenHealthy: (took: string) => `Green was healthy ${took} after its launch.`,
  terminationWindow: (took: string) => `The termination window lasted ${took}.`,
} as const;

export interface Report {
  outcome: Outcome;
  subject: string;
  summary: string;
  lines: string[];
  durations: Record<string, number>;
}

export function buildReport(
  state: DeploymentState,
  outcome: Outcome,
  now: Date,
  leftOver: string[] = [],
): Report {
  const { app, env, version, plan } = state;
  const who = `${app}/${env} ${version}`;
  const nowIso = now.toISOString();
  const durations: Record<string, number> = {};
  const record = (name: keyof typeof DURATION_LINES, seconds: number | undefined) => {
    if (seconds !== undefined) durations[name] = seconds;
  };
  record('total', between(plan?.startedAt, nowIso));
  record('bake', between(state.bake?.startedAt, state.bake?.completedAt));
  record('greenHealthy', between(state.green?.launchedAt, state.health?.healthyAt));
  record('terminationWindow', state.window ? between(state.window.startedAt, state.retired?.at) : undefined);

  const lines: string[] = [];
  const ami = state.bake?.amiId;
  if (ami)
    lines.push(`AMI: ${ami}${state.bake?.reused ? ' (reused, already baked from this artifact)' : ''}`);
  if (plan) {
    lines.push(
      plan.blue === null
        ? `First deployment: green is slot ${plan.green}.`
        : `Blue: slot ${plan.blue} (${plan.blueTargetCount} targets). Green: slot ${plan.green} (${plan.instanceCount} instances).`,
    );
  }
  if (state.green)
    lines.push(
      `Green instances: ${state.green.launched} launched, tagged ${TAG.deploymentId}=${state.deploymentId}.`,
    );
  if (state.shift)
    lines.push(
      `Last traffic step: ${state.shift.percent} % on green (${formatWeights(state.shift.weights)}).`,
    );
  for (const approval of [state.shiftApproval, state.terminationApproval]) {
    if (!approval) continue;
    // The approver's name and words, quoted on this one line (they are text from a person).
    const said = approval.comment ? `: ${quoted(approval.comment)}` : '';
    lines.push(
      `Approval to ${STAGE_TITLES[approval.stage]}: ${approval.decision} by ${quoted(approval.approver)} at ${approval.at}${said}`,
    );
  }
  // Who ended which wait early: the caller's identity is text from a person, quoted by the line.
  for (const promotion of promotionsOf(state)) {
    const skipped = skippedSeconds(promotion, state.window?.endsAt);
    lines.push(promotionLine(promotion, skipped === undefined ? undefined : formatDuration(skipped)));
  }
  for (const [name, seconds] of Object.entries(durations))
    lines.push(DURATION_LINES[name as keyof typeof DURATION_LINES](formatDuration(seconds)));

  let summary: string;
  let subject: string;
  const reason = describeReason(state);
  switch (outcome) {
    case 'succeeded': {
      const retired = state.retired
        ? `; blue slot ${state.retired.slot} terminated (${state.retired.terminated} instances)`
        : '';
      summary = `${who} is live on slot ${plan?.green ?? '?'} with ${ami ?? 'its AMI'}${retired}.`;
      subject = `Deployed ${who}`;
      break;
    }
    case 'failed': {
      // The heal may have written and failed before it could say so: then only what it left tells.
      const healing = state.healing ?? (leftOver.length > 0 ? plan?.heal : undefined);
      if (!healing) summary = `${who} failed before anything was changed: ${reason}`;
      else {
        const left =
          leftOver.length > 0
            ? ` Left for a person: ${leftOver.join('; ')}.`
            : ` Slot ${healing.from} was cleared; nothing else was changed.`;
        summary = `${who} failed after healing a traffic split (all traffic moved to slot ${healing.to}): ${reason}.${left}`;
      }
      subject = `Deployment failed: ${who}`;
      break;
    }
    case 'rolled-back': {
      const traffic = state.rollbackTraffic?.summary ?? 'traffic was not moved';
      const green = state.greenRemoval?.summary ?? 'no green instances';
      summary = `${who} was rolled back: ${reason}. ${traffic}; ${green}.`;
      subject = `Rolled back: ${who}`;
      break;
    }
    case 'rollback-failed': {
      const why = state.rollbackFailure ? describeFailure(state.rollbackFailure) : 'unknown error';
      const left = leftOver.length > 0 ? leftOver.join('; ') : 'see the execution history';
      summary = `${who} ROLLBACK FAILED (${why}) while rolling back from ${reason}. Left for a person: ${left}.`;
      subject = `ROLLBACK FAILED: ${who}`;
      break;
    }
    case 'superseded':
      summary = `${who} was not deployed: ${causeMessage(state.failure)}. Nothing was changed.`;
      subject = `Superseded: ${who}`;
      break;
    case 'cleanup-failed': {
      const left = leftOver.length > 0 ? leftOver.join('; ') : 'see the execution history';
      summary = `${who} is live on slot ${plan?.green ?? '?'}, but terminating blue failed: ${reason}. Left for a person: ${left}.`;
      subject = `Blue not terminated: ${who}`;
      break;
    }
  }
  return { outcome, subject, summary, lines, durations };
}
