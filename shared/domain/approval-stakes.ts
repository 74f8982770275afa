import type { ApprovalSummary, PlanAhead } from './approval.ts';
import { durationText } from './timeline.ts';

/**
 * What an approver is told is at stake, as sentences: the plan that follows an approval, what a
 * rejection and no answer do at this stage, and who else decides. Pure functions of the summary the
 * request task stored, so the email and the page say the same. The words follow the state machine:
 * both approval states are in the release phase, whose catch (a rejection, or the state's own
 * timeout) goes to the rollback (statemachines/deploy.ts).
 */

const PARTS = new Intl.DateTimeFormat('en-US', {
  timeZone: 'UTC',
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** A moment as a person reads it, whatever the machine's locale: `Wed 2 Dec 2026, 16:30 UTC`. */
export function readableTime(at: string | Date): string {
  const date = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(date.getTime())) return String(at);
  const part = Object.fromEntries(PARTS.formatToParts(date).map((p) => [p.type, p.value]));
  return `${part.weekday} ${part.day} ${part.month} ${part.year}, ${part.hour}:${part.minute} UTC`;
}

/** The page's heading and the email's subject: what the approver is asked to allow. */
export function approvalTitle(summary: ApprovalSummary): string {
  const where = `${summary.app}/${summary.env}`;
  if (summary.stage === 'traffic-shift') return `Shift ${where} to ${summary.version}?`;
  const blue =
    summary.liveVersion?.version ?? (summary.ahead?.blue ? `slot ${summary.ahead.blue}` : undefined);
  return blue ? `Terminate blue (${blue}) of ${where}?` : `Terminate blue of ${where}?`;
}

function fleet(
  color: 'blue' | 'green',
  running: { version: string; slot: string } | undefined,
  slot: string | null | undefined,
): string {
  if (running) return `${color} (${running.version}, slot ${running.slot})`;
  return slot ? `${color} (slot ${slot})` : color;
}

function blueOf(summary: ApprovalSummary): string {
  return fleet('blue', summary.liveVersion, summary.ahead?.blue);
}

function greenOf(summary: ApprovalSummary): string {
  return fleet('green', summary.replacingVersion, summary.ahead?.green);
}

/** A plan's steps ahead, one sentence each; none when the summary predates them. */
export function aheadLines(summary: ApprovalSummary): string[] {
  const ahead: PlanAhead | undefined = summary.ahead;
  if (!ahead) return [];
  const blue = blueOf(summary);
  if (summary.stage === 'blue-termination') {
    return [
      `Green's alarms and health are checked once more, then ${blue} is deregistered, drained and terminated.`,
      'The deployment then ends: no further approval is asked.',
    ];
  }
  const green = greenOf(summary);
  const lines = ahead.steps.map(
    (step, i) =>
      `Step ${i + 1} of ${ahead.steps.length}: ${step.percent} % of traffic on ${green}, watched for ${durationText(step.settleSeconds)}.`,
  );
  if (ahead.windowSeconds === null) {
    lines.push(
      'This is the first deployment: there is no blue to keep or terminate, so the deployment then ends.',
    );
    return lines;
  }
  // The window is counted from one TTL after the 100 % change is in sync (watchWindow), not from
  // the end of the last step's watch: that watch is part of it.
  lines.push(
    `Then the termination window: ${blue} stays up for ${durationText(ahead.windowSeconds)} from when ${green} carries all traffic (the watch of the last step is part of it), taking no traffic, ready for a rollback.`,
  );
  lines.push(
    ahead.terminationApproval
      ? 'Then a second approval is asked, to terminate blue.'
      : 'Then blue is terminated without asking again.',
  );
  return lines;
}

/** When green took all traffic, as the blue-termination words name it. */
function replacedAt(summary: ApprovalSummary): string {
  if (!summary.greenAllSince) return '';
  const at = readableTime(summary.greenAllSince);
  const seconds = Math.round((Date.parse(summary.requestedAt) - Date.parse(summary.greenAllSince)) / 1000);
  return Number.isFinite(seconds) && seconds >= 0
    ? `, which green replaced at ${at} (${durationText(seconds)} before approval was asked)`
    : `, which green replaced at ${at}`;
}

/**
 * What the rollback does at this stage: what a Reject does, and what the approval state's timeout
 * does. At traffic-shift no traffic has moved (nothing shifts before the approval), so green is
 * only removed; at blue-termination green carries it all, and the rollback rule moves it back to
 * blue if blue still has a healthy target (domain/return-to-blue.ts).
 */
export function rollbackWords(summary: ApprovalSummary): string {
  const green = greenOf(summary);
  if (summary.stage === 'traffic-shift') {
    // A first deployment: no record weighs more than 0, and Route 53 answers with every record of
    // a group whose weights are all 0, so green's may already be answered before any shift.
    if (summary.ahead?.blue === null)
      return `${green} is terminated. This is the first deployment: no record weighs more than 0 yet, and Route 53 then answers with every record, so green may already have served requests; there is no earlier release to return to.`;
    // A summary stored before it named blue says nothing of blue it does not know.
    return summary.liveVersion || summary.ahead?.blue
      ? `${green} is terminated and ${blueOf(summary)} stays live; no traffic has moved to green.`
      : `${green} is terminated; no traffic has moved to it.`;
  }
  return `all traffic goes back to ${blueOf(summary)}${replacedAt(summary)}, and ${green} is drained and terminated. Should blue have no healthy target left, the traffic stays on green and the deployment reports what is left for a person.`;
}

/** What pressing Reject does. */
export function rejectLine(summary: ApprovalSummary): string {
  return `The deployment rolls back: ${rollbackWords(summary)}`;
}

/** What happens when the deadline passes unanswered: the state's timeout is caught as a rejection is. */
export function unansweredLine(summary: ApprovalSummary): string {
  const by = summary.deadline ? ` by ${readableTime(summary.deadline)}` : ' in time';
  return `If nobody answers${by}, the wait times out and the deployment rolls back just as on Reject.`;
}

export const ONE_ANSWER =
  'The first answer decides for everyone asked; after it, every other link shows the decision and decides nothing.';

/** The approvers other than `you`: every one when `you` is none of them (the terminal's message). */
export function otherApprovers(approvers: readonly string[], you?: string): string[] {
  return approvers.filter((a) => a !== you);
}
