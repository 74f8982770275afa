import { describe, expect, it } from 'vitest';
import { failedOnGreen, type ReturnFacts, returnToBlue } from '#shared/domain/return-to-blue.ts';

const facts = (blue: [number, number], green: [number, number], greenFailed: boolean): ReturnFacts => ({
  slots: { blue: 'a', green: 'b' },
  blue: { healthy: blue[0], registered: blue[1] },
  green: { healthy: green[0], registered: green[1] },
  minHealthyPercent: 100,
  greenFailed,
});

describe('the rollback rule: when traffic goes back to blue', () => {
  it('goes back to a blue with 2 of 3 targets healthy when green failed', () => {
    expect(returnToBlue(facts([2, 3], [3, 3], true))).toEqual({
      toBlue: true,
      why: 'green failed (blue slot a: 2 of 3 targets healthy; green slot b: 3 of 3 targets healthy)',
    });
  });

  it('goes back to a partly healthy blue when green is below its healthy minimum', () => {
    expect(returnToBlue(facts([1, 3], [2, 3], false)).toBlue).toBe(true);
    expect(returnToBlue(facts([1, 3], [0, 0], false)).toBlue).toBe(true);
  });

  it('goes back when blue is at least as healthy as a green nothing is wrong with', () => {
    expect(returnToBlue(facts([3, 3], [3, 3], false)).toBlue).toBe(true);
    expect(returnToBlue({ ...facts([2, 4], [4, 5], false), minHealthyPercent: 80 }).toBlue).toBe(false);
    expect(returnToBlue({ ...facts([4, 5], [3, 4], false), minHealthyPercent: 80 }).toBlue).toBe(true);
  });

  it('goes back to a blue that meets the healthy minimum green had to meet, whatever the failure', () => {
    expect(returnToBlue({ ...facts([3, 4], [5, 5], false), minHealthyPercent: 50 })).toEqual({
      toBlue: true,
      why: 'blue meets the 50 % healthy minimum green had to meet (blue slot a: 3 of 4 targets healthy; green slot b: 5 of 5 targets healthy)',
    });
    expect(returnToBlue({ ...facts([1, 4], [5, 5], false), minHealthyPercent: 50 }).toBlue).toBe(false);
  });

  it('keeps a green nothing is wrong with rather than move it to a less healthy blue', () => {
    expect(returnToBlue(facts([1, 3], [3, 3], false))).toEqual({
      toBlue: false,
      why: 'blue is below its healthy minimum, less healthy than green, has at most half of its targets healthy, and nothing says green failed (blue slot a: 1 of 3 targets healthy; green slot b: 3 of 3 targets healthy)',
    });
  });

  it('goes back to a blue with most of its targets healthy, whatever the failure', () => {
    expect(returnToBlue(facts([3, 5], [5, 5], false))).toEqual({
      toBlue: true,
      why: "most of blue's targets are healthy (blue slot a: 3 of 5 targets healthy; green slot b: 5 of 5 targets healthy)",
    });
    expect(returnToBlue(facts([1, 10], [10, 10], false)).toBlue).toBe(false);
    expect(returnToBlue(facts([2, 4], [4, 4], false)).toBlue).toBe(false);
  });

  it('counts an approval nobody answered in time as a verdict on green', () => {
    expect(failedOnGreen({ error: 'States.Timeout', unapproved: true })).toBe(true);
    expect(failedOnGreen({ error: 'States.Timeout' })).toBe(false);
  });

  it('never goes back to a blue with no healthy target, however green fares', () => {
    for (const green of [
      [3, 3],
      [0, 3],
      [0, 0],
    ] as const) {
      for (const failed of [true, false]) {
        expect(returnToBlue(facts([0, 3], [green[0], green[1]], failed))).toMatchObject({ toBlue: false });
      }
    }
    expect(returnToBlue(facts([0, 0], [0, 3], true)).why).toBe(
      'blue slot a has no healthy target (0 of 0 targets healthy)',
    );
  });

  it('counts alarms, green health, a rejection and a Stop as verdicts on green, and nothing else', () => {
    for (const error of ['AlarmTriggered', 'GreenUnhealthy', 'ApprovalRejected'])
      expect(failedOnGreen({ error })).toBe(true);
    expect(failedOnGreen({ status: 'ABORTED' })).toBe(true);
    for (const error of ['AwsThrottled', 'DnsChangeTimedOut', 'States.Timeout', 'TrafficDrift', undefined])
      expect(failedOnGreen({ error })).toBe(false);
    for (const status of ['TIMED_OUT', 'FAILED']) expect(failedOnGreen({ status })).toBe(false);
  });
});
