import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../sim/packaging.ts';

// The bench measures; this only checks that it runs and reports what it promises. Timings are
// never asserted here: they belong to `npm run bench`.

describe('npm run bench -- --json', () => {
  it('ends with one JSON object holding every promised key, and counts that do not depend on timing', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'sim/bench.ts'), '--json', '--skip-cold-start'],
      { cwd: ROOT, timeout: 400_000, maxBuffer: 8 * 1024 * 1024 },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    for (const key of [
      'overheadPercent',
      'overheadSeconds',
      'transitions',
      'costUsd',
      'rollbackSeconds',
      'worstCaseEvents',
      'maxStatePayloadBytes',
      'coldStart',
      'scale',
      'albShift',
    ]) {
      expect(report, key).toHaveProperty(key);
    }
    expect(report.scale.fleet500.status).toBe('SUCCEEDED');
    expect(report.scale.concurrent20.status).toBe('SUCCEEDED');
    // At AWS's own limits, with the account's rate limits on: 1,000 instances in one deploy, and
    // 100 app/envs at once sharing Route 53's 5 requests a second and EC2's token buckets.
    // Both for bare instances and for Auto Scaling groups (fleet.kind autoScalingGroup).
    const { fleet1000, concurrent100, fleet1000Groups, concurrent100Groups } = report.scale;
    for (const fleet of [fleet1000, fleet1000Groups])
      expect(fleet).toMatchObject({ status: 'SUCCEEDED', instances: 1000, violations: [] });
    for (const apps of [concurrent100, concurrent100Groups]) {
      expect(apps).toMatchObject({ status: 'SUCCEEDED', apps: 100, succeeded: 100, violations: [] });
      expect(apps.failures).toEqual([]);
      // The throttling was real, and absorbed by the retries.
      expect(apps.throttled).toBeGreaterThan(0);
    }
    for (const run of [fleet1000, concurrent100, fleet1000Groups, concurrent100Groups]) {
      expect(run.transitions).toBeGreaterThan(0);
      expect(run.apiCalls).toBeGreaterThan(run.throttled);
    }
    expect(report.transitions).toBeLessThanOrEqual(150);
    expect(report.worstCaseEvents).toBeLessThan(5000);
    // The largest state of the largest config at 1,000 instances, in bytes: far from the 256 KiB quota.
    expect(report.maxStatePayloadBytes).toBeGreaterThan(0);
    expect(report.maxStatePayloadBytes).toBeLessThanOrEqual(32_768);
    expect(report.apiCalls['route53:ChangeResourceRecordSets']).toBe(3);
    // The standard deploy in traffic.mode alb: one ModifyListener a step, no Route 53 call, and
    // fewer transitions than Route 53's (no INSYNC polls).
    expect(report.albShift.status).toBe('SUCCEEDED');
    expect(report.albShift.violations).toEqual([]);
    expect(report.albShift.apiCalls['elbv2:ModifyListener']).toBe(3);
    expect(report.albShift.apiCalls['route53:ChangeResourceRecordSets']).toBeUndefined();
    expect(report.albShift.apiCalls['route53:GetChange']).toBeUndefined();
    expect(report.albShift.transitions).toBeLessThan(report.transitions);
    // The bake wait with and without the end-of-build event: the same deploy, in virtual time.
    const { event, eventLost, polledEvery10Minutes, polledEveryMinute } = report.bakeWait;
    for (const run of [event, eventLost, polledEvery10Minutes, polledEveryMinute]) {
      expect(run.status).toBe('SUCCEEDED');
      expect(run).toHaveProperty('overheadPercent');
    }
    expect(event.overheadSeconds).toBeLessThan(polledEvery10Minutes.overheadSeconds);
    expect(event.transitions).toBeLessThan(polledEveryMinute.transitions);
    // The re-drive resumes the wait the lost event would have: no transition more than the event's.
    expect(eventLost.transitions).toBe(event.transitions);
    expect(report).toHaveProperty('rollbackDetectSecondsAlarmEventLost');
  }, 410_000);
});
