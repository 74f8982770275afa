import { createApproval, getApproval, markNotified } from '../aws/dynamodb.ts';
import { signingKey } from '../aws/secrets.ts';
import { publish } from '../aws/sns.ts';
import {
  type ApprovalStage,
  type ApprovalSummary,
  approvalId,
  linkUrl,
  STAGE_TITLES,
  summaryText,
} from '../domain/approval.ts';
import { consoleUrl } from '../domain/report.ts';
import { quoted } from '../domain/text.ts';
import { formatWeights, weightsForStep } from '../domain/traffic.ts';
import type { DeploymentState } from '../domain/workflow.ts';
import { logger } from '../logger.ts';
import { pinnedApprovers } from '../operations/pinned-config.ts';
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

function summarize(request: ApprovalRequest, now: Date): ApprovalSummary {
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
  };
}

/**
 * Stores the pending approval under an opaque id (the token stays in the table) and sends each
 * approver a signed link. Retries find the same record (the id derives from the token) and do not
 * send the links twice once they went out.
 */
export async function requestApproval(
  request: ApprovalRequest,
  settings: ApprovalSettings,
): Promise<{ id: string }> {
  const state = need(request.deployment, 'plan');
  const { approval } = state.plan;
  const approvers = await pinnedApprovers(state.plan);
  const key = await signingKey(settings.secretId);
  const id = approvalId(key, request.token);
  const now = new Date();
  const expires = Math.floor(now.getTime() / 1000) + approval.timeoutSeconds;
  const summary = summarize(request, now);
  await createApproval(settings.table, {
    id,
    taskToken: request.token,
    executionArn: request.executionArn,
    summary,
    approvers,
    expiresAt: expires,
    ttl: expires + 7 * 86400,
    state: 'PENDING',
    createdAt: now.toISOString(),
  });
  const stored = await getApproval(settings.table, id);
  if (stored?.notified) {
    logger.info('approval links already sent', { approvalId: id });
    return { id };
  }
  const linkExpires = stored?.expiresAt ?? expires;
  const topic = state.plan.topicArn ?? settings.defaultTopicArn;
  for (const approver of stored?.approvers ?? approvers) {
    const url = linkUrl(settings.baseUrl, key, { id, approver, expires: linkExpires });
    const message = [
      summaryText(stored?.summary ?? summary),
      '',
      `Review it and approve or reject here (the link is for ${quoted(approver)} only and expires ${new Date(linkExpires * 1000).toISOString()}):`,
      url,
      '',
      'Opening the link changes nothing: the decision is a button on the page.',
    ].join('\n');
    await publish(
      topic,
      `Approval needed: ${state.app}/${state.env} ${state.version}, ${STAGE_TITLES[request.stage]}`,
      message,
      {
        kind: 'approval-request',
        approver,
        app: state.app,
        env: state.env,
      },
    );
  }
  await markNotified(settings.table, id);
  logger.info('approval requested', {
    approvalId: id,
    stage: request.stage,
    approvers: approvers.length,
  });
  return { id };
}
