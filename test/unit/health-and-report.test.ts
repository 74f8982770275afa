import { describe, expect, it } from 'vitest';
import { describeHealth, evaluateHealth, requiredHealthy } from '#shared/domain/health.ts';
import { buildReport, causeMessage, formatDuration } from '#shared/domain/report.ts';

describe('green health', () => {
  it('needs the minimum healthy percent of the expected instances, at least one', () => {
    expect(requiredHealthy(3, 100)).toBe(3);
    expect(requiredHealthy(3, 50)).toBe(2);
    expect(requiredHealthy(1, 1)).toBe(1);
  });

  it('counts an instance ELB does not report as not healthy', () => {
    const verdict = evaluateHealth(['i-1', 'i-2'], [{ id: 'i-1', state: 'healthy' }], 100);
    expect(verdict).toMatchObject({ healthy: false, healthyCount: 1, total: 2, required: 2 });
    expect(describeHealth(verdict)).toContain('i-2 unused (Target.NotRegistered)');
  });

  it('is healthy when enough targets are', () => {
    const verdict = evaluateHealth(
      ['i-1', 'i-2', 'i-3', 'i-4'],
      [
        { id: 'i-1', state: 'healthy' },
        { id: 'i-2', state: 'healthy' },
        { id: 'i-3', state: 'initial', reason: 'Elb.InitialHealthChecking' },
        { id: 'i-4', state: 'unhealthy' },
      ],
      50,
    );
    expect(verdict.healthy).toBe(true);
  });

  it('is never healthy with no instances', () => {
    expect(evaluateHealth([], [], 100).healthy).toBe(false);
  });
});

describe('failure causes', () => {
  it('reads the message out of a real Step Functions Lambda cause (JSON)', () => {
    const cause = JSON.stringify({
      errorType: 'GreenUnhealthy',
      errorMessage: '0 of 3 healthy',
      trace: ['at x'],
    });
    expect(causeMessage({ Error: 'GreenUnhealthy', Cause: cause })).toBe('0 of 3 healthy');
  });

  it('takes a plain cause as the message (local runners)', () => {
    expect(causeMessage({ Error: 'GreenUnhealthy', Cause: '0 of 3 healthy' })).toBe('0 of 3 healthy');
  });

  it('falls back to the error name', () => {
    expect(causeMessage({ Error: 'States.Timeout' })).toBe('States.Timeout');
  });
});

describe('reports', () => {
  it('formats durations for people', () => {
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(5940)).toBe('1h39m');
  });

  it('says what is left when a rollback failed', () => {
    const report = buildReport(
      {
        deploymentId: 'd',
        app: 'web',
        env: 'prod',
        version: '1.1.0',
        format: 'zip',
        artifact: { bucket: 'b', key: 'k' },
        failure: { Error: 'AlarmTriggered', Cause: 'alarm in ALARM: web-5xx' },
        rollbackFailure: { Error: 'AwsThrottled', Cause: 'Throttling: Rate exceeded' },
      },
      'rollback-failed',
      new Date(),
      ['traffic: a=0 b=100; green slot b still carries traffic'],
    );
    expect(report.summary).toContain('ROLLBACK FAILED (AwsThrottled: Throttling: Rate exceeded)');
    expect(report.summary).toContain('while rolling back from AlarmTriggered: alarm in ALARM: web-5xx');
    expect(report.summary).toContain('Left for a person: traffic: a=0 b=100');
  });
});
