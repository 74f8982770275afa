import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { METRICS_NAMESPACE, OVERRUN_METRIC } from '#shared/domain/metrics.ts';
import { logger } from '#shared/logger.ts';
import { defineTask } from '#shared/task.ts';
import { keptStdout } from '../support/stdout.ts';
import { lambdaContext, stateWith } from './fixtures.ts';

// The task wrapper counts a DeploymentOverrun on any invocation of a task for a deployment past
// its plan's deadline (every handler is a defineTask), and a metric it cannot write never fails
// the task.

const written = keptStdout();
let documents: Record<string, unknown>[];

beforeEach(() => {
  documents = [];
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.spyOn(Metrics.prototype, 'publishStoredMetrics').mockImplementation(function (this: Metrics) {
    documents.push(this.serializeMetrics() as unknown as Record<string, unknown>);
    return this;
  });
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  // Metrics are disabled in tests: nothing reaches stdout.
  expect(written().join('')).toBe('');
});

const task = defineTask('checkStep', async (input: { deploymentId: string }) => ({
  ran: input.deploymentId,
}));
const context = lambdaContext('checkStep');
const state = stateWith();
const deadline = Date.parse(state.plan?.deadline ?? '');

function overruns() {
  return documents.filter((doc) => doc[OVERRUN_METRIC] !== undefined);
}

describe('the task wrapper and the deadline', () => {
  it('counts nothing while the deployment is within its deadline, nor for a task without a plan', async () => {
    vi.setSystemTime(deadline);
    await expect(task(state, context)).resolves.toEqual({ ran: state.deploymentId });
    await task({ deployment: state } as never, context);
    vi.setSystemTime(deadline + 3_600_000);
    await task({ deploymentId: state.deploymentId }, context);
    expect(overruns()).toEqual([]);
  });

  it('counts one DeploymentOverrun by app and env on each invocation after the deadline', async () => {
    vi.setSystemTime(deadline + 1);
    // The state itself (most tasks), and the state under `deployment` (tasks given the execution).
    await expect(task(state, context)).resolves.toEqual({ ran: state.deploymentId });
    await task({ deployment: state, executionArn: 'arn' } as never, context);
    expect(overruns()).toEqual([
      expect.objectContaining({ app: 'web', env: 'prod', [OVERRUN_METRIC]: 1 }),
      expect.objectContaining({ app: 'web', env: 'prod', [OVERRUN_METRIC]: 1 }),
    ]);
    const directive = (overruns()[0]?._aws as { CloudWatchMetrics?: unknown[] } | undefined)
      ?.CloudWatchMetrics?.[0];
    expect(directive).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [expect.arrayContaining(['app', 'env'])],
      Metrics: [{ Name: OVERRUN_METRIC, Unit: 'Count' }],
    });
  });

  it('runs the task all the same when the metric cannot be written, and logs why', async () => {
    vi.setSystemTime(deadline + 1);
    vi.mocked(Metrics.prototype.publishStoredMetrics).mockImplementation(() => {
      throw new Error('EMF serializer broke');
    });
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    await expect(task(state, context)).resolves.toEqual({ ran: state.deploymentId });
    expect(warn).toHaveBeenCalledWith('could not count the deployment overrun', {
      error: expect.objectContaining({ message: 'EMF serializer broke' }),
    });
  });
});
