import { describeAlarms } from '../aws/cloudwatch.ts';
import {
  type ApprovalItem,
  createApproval,
  getApproval,
  markNotified,
  pointLatestApproval,
} from '../aws/dynamodb.ts';
import { signingKey } from '../aws/secrets.ts';
import { publish } from '../aws/sns.ts';
import {
  type ApprovalStage,
  type ApprovalSummary,
  approvalId,
  approverName,
  linkUrl,
  summaryText,
  watchedAlarms,
} from '../domain/approval.ts';
import { approvalTitle, readableTime } from '../domain/approval-stakes.ts';
import { isIamApprover } from '../domain/principal.ts';
import { consoleUrl } from '../domain/report.ts';
import { quoted } from '../domain/text.ts';
import { formatWeights, weightsForStep } from '../domain/traffic.ts';
import type { DeploymentState } from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { pinnedConfig } from '../operations/pinned-config.ts';
import { need } from '../state.ts';

export interface ApprovalRequest {
  /** The Step Functions task token ($$.Task.Token); stored, never sent anywhere. */
  token: string;
  stage: ApprovalStage;
  executionArn: string;
  deployment: DeploymentState;
}

export interface ApprovalSettings {
  table: string;
  secretId: string;
  baseUrl: string;
  defaultTopicArn: string;
}

/** What the approver is shown: the state's facts, the plan ahead, and the alarms as read now. */
function summarize(
  request: ApprovalRequest,
  now: Date,
  expires: number,
  alarms: Pick<ApprovalSummary, 'alarms' | 'alarmsNotShown'>,
): ApprovalSummary {
  const state = need(request.deployment, 'plan');
  const { plan } = state;
  const weights =
    request.stage === 'traffic-shift' || !state.shift ? weightsForStep(plan.green, 0) : state.shift.weights;
  return {
    app: state.app,
    env: state.env,
    version: state.version,
    deploymentId: state.deploymentId,
    stage: request.stage,
    amiId: state.bake?.amiId ?? 'unknown',
    greenHealth: state.window?.summary ?? state.check?.summary ?? state.health?.summary ?? 'unknown',
    weights: formatWeights(weights),
    executionUrl: consoleUrl(request.executionArn),
    requestedAt: now.toISOString(),
    ...(plan.blue && plan.blueVersion ? { liveVersion: { version: plan.blueVersion, slot: plan.blue } } : {}),
    replacingVersion: { version: state.version, slot: plan.green },
    ...plan.release,
    deadline: new Date(expires * 1000).toISOString(),
    ...alarms,
    ahead: {
      blue: plan.blue,
      green: plan.green,
      steps: plan.steps.map(({ percent, settleSeconds }) => ({ percent, settleSeconds })),
      windowSeconds: plan.blue === null ? null : plan.termination.waitSeconds,
      terminationApproval: plan.approval.beforeTermination,
    },
    ...(request.stage === 'blue-termination' && state.window
      ? { greenAllSince: state.window.startedAt }
      : {}),
  };
}

/** The message for the approvers who answer from a terminal: the command, and who may give it. */
function terminalMessage(
  summary: ApprovalSummary,
  approvers: readonly string[],
  principals: readonly string[],
  expires: number,
): string {
  return [
    summaryText(summary, approvers),
    '',
    `Approve or reject it from a terminal, as one of ${principals.map(quoted).join(', ')}, before ${readableTime(new Date(expires * 1000))}:`,
    `  bluegreen approve ${summary.app} ${summary.env} --comment TEXT`,
    `  bluegreen reject ${summary.app} ${summary.env} --comment TEXT`,
    '',
    'The approver recorded is the IAM identity that signs the request (a session of a role named above).',
  ].join('\n');
}

/**
 * Stores the pending approval under an opaque id (the token stays in the table), points the
 * app/env's latest approval at it, sends each email approver a signed link and, when the config
 * names IAM principals, one message saying how to answer from a terminal. Retries find the same
 * record (the id derives from the token) and do not send the messages twice once they went out.
 */
export async function requestApproval(
  request: ApprovalRequest,
  settings: ApprovalSettings,
): Promise<{ id: string }> {
  const state = need(request.deployment, 'plan');
  const { approval } = state.plan;
  const config = await pinnedConfig(state.plan);
  const approvers = config.approval?.approvers.map(approverName) ?? [];
  const key = await signingKey(settings.secretId);
  const id = approvalId(key, request.token);
  // Read before the request's time is taken: the page says the states are as of that time.
  const found = await describeAlarms(config.alarms);
  const now = new Date();
  const expires = Math.floor(now.getTime() / 1000) + approval.timeoutSeconds;
  const summary = summarize(request, now, expires, watchedAlarms(config.alarms, found));
  const ttl = expires + 7 * 86400;
  const item: ApprovalItem = {
    id,
    taskToken: request.token,
    executionArn: request.executionArn,
    summary,
    approvers,
    expiresAt: expires,
    ttl,
    state: 'PENDING',
    createdAt: now.toISOString(),
  };
  // Written now: the record is this one. Found (a retry): the first try's, read back.
  const stored = (await createApproval(settings.table, item)) ? item : await getApproval(settings.table, id);
  await pointLatestApproval(settings.table, {
    app: state.app,
    env: state.env,
    approvalId: id,
    ttl: stored?.ttl ?? ttl,
  });
  if (stored?.notified) {
    logger.info('approval messages already sent', { approvalId: id });
    return { id };
  }
  const linkExpires = stored?.expiresAt ?? expires;
  const topic = state.plan.topicArn ?? settings.defaultTopicArn;
  const shown = stored?.summary ?? summary;
  const subject = `Approval needed: ${approvalTitle(shown)}`;
  const named = stored?.approvers ?? approvers;
  for (const approver of named.filter((a) => !isIamApprover(a))) {
    const url = linkUrl(settings.baseUrl, key, { id, approver, expires: linkExpires });
    const message = [
      summaryText(shown, named, approver),
      '',
      `Review it and approve or reject here (the link is for ${quoted(approver)} only and expires ${readableTime(new Date(linkExpires * 1000))}):`,
      url,
      '',
      'Opening the link changes nothing: the decision is a button on the page.',
    ].join('\n');
    await publish(topic, subject, message, {
      kind: 'approval-request',
      approver,
      app: state.app,
      env: state.env,
    });
  }
  const principals = named.filter(isIamApprover);
  if (principals.length > 0) {
    await publish(topic, subject, terminalMessage(shown, named, principals, linkExpires), {
      kind: 'approval-request',
      approver: 'terminal',
      app: state.app,
      env: state.env,
    });
  }
  await markNotified(settings.table, id);
  logger.info('approval requested', {
    approvalId: id,
    stage: request.stage,
    approvers: approvers.length,
  });
  return { id };
}
