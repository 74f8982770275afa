import type { Context } from 'aws-lambda';
import { type ApprovalStage, type LinkFields, linkUrl } from '#shared/domain/approval.ts';
import { configKey } from '#shared/domain/artifact-key.ts';
import { validateConfig } from '#shared/domain/config.ts';
import { buildPlan } from '#shared/domain/plan.ts';
import { STATE } from '#shared/domain/states.ts';
import type { DeploymentState } from '#shared/domain/workflow.ts';
import { approvalLinks } from '../../sim/approver.ts';
import type { ExecutionStatus } from '../../sim/aws/sfn.ts';
import { callHttp, type HttpHandler, type HttpRequest, type HttpResponse } from '../../sim/http.ts';
import { APPROVAL_BASE_URL, SIGNING_SECRET_ID, STATE_MACHINE_ARN } from '../../sim/world.ts';
import { APPROVERS, BUCKET, defaultConfig } from '../../sim/worlds.ts';
import { seededAccount } from './accounts.ts';

const APPROVAL = STATE.askShiftApproval;

export interface PendingApproval {
  token: string;
  id: string;
  /** Resolves with SendTaskSuccess's output; rejects with SendTaskFailure's error. */
  outcome: Promise<unknown>;
  links: Record<string, string>;
}

/**
 * A simulated account with the approval functions wired to it: request approvals as the state
 * machine would (a fresh task token each), then talk to the page as a browser would.
 */
export async function approvalHarness(options: { approvers?: string[]; alarms?: string[] } = {}) {
  const { handlers, world } = await seededAccount();
  const key = Buffer.from(world.secretsmanager.secrets.get(SIGNING_SECRET_ID) ?? '', 'utf8');
  const page = handlers.approvalPage as unknown as HttpHandler;

  function deployment(name: string, stage: ApprovalStage = 'traffic-shift'): DeploymentState {
    const config = defaultConfig();
    if (options.alarms) config.alarms = options.alarms;
    config.approval = {
      before: stage === 'traffic-shift' ? ['traffic-shift'] : ['traffic-shift', 'blue-termination'],
      approvers: options.approvers ?? APPROVERS,
      timeoutSeconds: 3600,
    };
    const parsed = validateConfig(config);
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    // The tasks read the config by the version Plan pinned.
    const stored = world.s3.put(BUCKET, configKey('web', 'prod'), JSON.stringify(config));
    const input = {
      deploymentId: name,
      app: 'web',
      env: 'prod',
      version: '1.1.0',
      format: 'zip' as const,
      artifact: {
        bucket: 'bluegreen-ec2-sim-releases-123456789012',
        key: 'releases/web/prod/1.1.0.zip',
        versionId: 'v2',
      },
    };
    const plan = buildPlan({
      configVersionId: stored.versionId,
      deployment: input,
      config: parsed.config,
      weights: { a: 100, b: 0 },
      blueTargetCount: 3,
      defaultTopicArn: 'arn:aws:sns:us-east-1:123456789012:bluegreen-ec2-sim-deployments',
      now: new Date(),
    });
    const state: DeploymentState = {
      ...input,
      plan: { ...plan, blueVersion: '1.0.0' },
      bake: { status: 'AVAILABLE', reused: false, amiId: 'ami-0123456789abcdef0', startedAt: '', polls: 0 },
      health: {
        status: 'HEALTHY',
        polls: 3,
        healthyCount: 3,
        total: 3,
        summary: '3 of 3 green targets healthy',
      },
    };
    if (stage === 'traffic-shift') return state;
    // Green has carried all traffic for the termination window, 65 minutes so far.
    const windowStart = new Date(Date.now() - 65 * 60_000).toISOString();
    const last = plan.steps.length - 1;
    return {
      ...state,
      shift: {
        index: last,
        percent: 100,
        weights: { a: 0, b: 100 },
        isLast: true,
        settleSeconds: plan.steps[last]?.settleSeconds ?? 60,
        dns: {
          changeId: 'C1',
          status: 'INSYNC',
          polls: 1,
          maxPolls: 18,
          pollSeconds: 10,
          submittedAt: windowStart,
        },
      },
      window: {
        startedAt: windowStart,
        endsAt: new Date().toISOString(),
        checks: 13,
        done: true,
        nextCheckSeconds: 0,
        checkedAt: new Date().toISOString(),
        summary: 'no alarm in ALARM; 3 of 3 green targets healthy',
      },
    };
  }

  /**
   * As the state machine would: the execution runs (started once), enters the approval state,
   * invokes the request task with a fresh token, and waits (TaskSubmitted).
   */
  async function request(
    name = 'web-prod-1_1_0-0123456789',
    stage: ApprovalStage = 'traffic-shift',
  ): Promise<PendingApproval> {
    if (!world.sfn.executions.has(name)) {
      world.sfn.StartExecution({ stateMachineArn: STATE_MACHINE_ARN, name, input: '{}' });
    }
    world.sfn.record(name, { at: Date.now(), type: 'TaskStateEntered', name: APPROVAL });
    const token = world.sfn.issueToken(name, APPROVAL);
    const outcome = world.sfn.waitFor(token);
    outcome.catch(() => undefined);
    const before = world.sns.messages.length;
    const result = (await handlers.requestApproval?.(
      {
        token,
        stage,
        executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`,
        deployment: deployment(name, stage),
      },
      { awsRequestId: 'test' } as Context,
    )) as { id: string };
    world.sfn.record(name, { at: Date.now(), type: 'TaskSubmitted' });
    const links: Record<string, string> = {};
    for (const message of world.sns.messages.slice(before)) {
      const [url] = approvalLinks(message.message);
      if (url) links[message.attributes.approver ?? ''] = url;
    }
    return { token, id: result.id, outcome, links };
  }

  /** The execution ends as it would by a Stop (ABORTED) or otherwise: no token works any more. */
  function end(status: ExecutionStatus = 'ABORTED', name = 'web-prod-1_1_0-0123456789'): void {
    const execution = world.sfn.executions.get(name);
    if (!execution) throw new Error(`no execution ${name}`);
    execution.status = status;
    execution.stoppedAt = Date.now();
    world.sfn.closeTokens(name);
  }

  /** The approval state's own timeout fires: the wait ends with States.Timeout (the execution rolls back). */
  function timeOut(name = 'web-prod-1_1_0-0123456789'): void {
    world.sfn.record(name, {
      at: Date.now(),
      type: 'TaskTimedOut',
      error: 'States.Timeout',
      cause: 'The task timed out',
    });
    world.sfn.closeTokens(name, APPROVAL);
  }

  /** A link signed with the real key, for fields a forger could not sign. */
  function signed(fields: LinkFields): string {
    return linkUrl(APPROVAL_BASE_URL, key, fields);
  }

  function http(req: HttpRequest): Promise<HttpResponse> {
    return callHttp(page, req);
  }

  /** POSTs the decision form for a link, the way the page's own form does. */
  function post(
    url: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<HttpResponse> {
    const link = new URL(url);
    const form = new URLSearchParams({ ...Object.fromEntries(link.searchParams), ...fields });
    return http({
      method: 'POST',
      url: `${link.origin}${link.pathname}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: form.toString(),
    });
  }

  /** Whether the outcome promise has settled (the execution resumed). */
  async function settled(outcome: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
    const marker = Symbol('pending');
    try {
      const value = await Promise.race([
        outcome,
        new Promise((resolve) => setImmediate(() => resolve(marker))),
      ]);
      return value === marker ? 'pending' : 'resolved';
    } catch {
      return 'rejected';
    }
  }

  return { world, key, request, end, timeOut, signed, http, post, settled, deployment };
}
