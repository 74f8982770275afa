import { describe, expect, it } from 'vitest';
import { durationText, timelineText } from '../../shared/domain/timeline.ts';

describe('a deployment timeline in words', () => {
  it.each([
    [0, '0 s'],
    [45, '45 s'],
    [300, '5 min'],
    [3600, '1 h'],
    [5400, '1 h 30 min'],
    [172800, '48 h'],
  ])('%i seconds read as %s', (seconds, text) => {
    expect(durationText(seconds)).toBe(text);
  });

  it('gives each step its latest start and its wait, "up to" for a wait that may end early', () => {
    expect(
      timelineText([
        { atSeconds: 0, step: 'bake the AMI', waitSeconds: 1200, wait: 'up-to' },
        { atSeconds: 1200, step: 'shift 10 %', waitSeconds: 300, wait: 'exact' },
        { atSeconds: 1500, step: 'terminate blue', waitSeconds: 0, wait: 'up-to' },
      ]),
    ).toEqual(['+0  bake the AMI (up to 20 min)', '+20 min  shift 10 % (5 min)', '+25 min  terminate blue']);
  });
});
