import { describe, expect, it } from 'vitest';
import { groupsLeftText, idList, type LeftFacts, leftForAPerson } from '#shared/domain/leftovers.ts';

const base: LeftFacts = {
  blue: 'a',
  green: 'b',
  recordName: 'web.example.com',
  weights: { ok: true, value: { a: 50, b: 50 } },
  blueTargets: { ok: true, value: { registered: 3, healthy: 3 } },
  greenTargets: { ok: true, value: { registered: 2, healthy: 2 } },
  minHealthyPercent: 100,
  greenFailed: true,
  greenInstances: { ok: true, value: ['i-0g1', 'i-0g2'] },
  deploymentTag: 'bluegreen:deployment-id=web-prod-1_1_0-0123456789',
};

describe('what is left for a person after a rollback that could not finish', () => {
  it('tells to move traffic back to a healthy blue and then terminate green', () => {
    expect(leftForAPerson(base)).toEqual([
      'traffic: a=50 b=50; green slot b still carries traffic, set slot a to 100 and slot b to 0 in one change',
      'green instances still running (tagged bluegreen:deployment-id=web-prod-1_1_0-0123456789): i-0g1, i-0g2; terminate them once no traffic reaches slot b',
    ]);
  });

  it('never tells to move traffic to a blue with no healthy target, nor to terminate the green that serves it', () => {
    const left = leftForAPerson({
      ...base,
      weights: { ok: true, value: { a: 0, b: 100 } },
      blueTargets: { ok: true, value: { registered: 3, healthy: 0 } },
    });
    expect(left.join('\n')).not.toMatch(/set slot a to 100|terminate them/);
    expect(left).toEqual([
      'traffic: a=0 b=100; blue slot a has no healthy target (3 registered), so keep the traffic on slot b: move it to slot a only once slot a has healthy targets',
      'green instances running in slot b (tagged bluegreen:deployment-id=web-prod-1_1_0-0123456789): i-0g1, i-0g2; they serve the traffic: keep them until it is on a healthy slot',
    ]);
  });

  it('tells to move traffic back to a partly healthy blue when green failed', () => {
    const left = leftForAPerson({ ...base, blueTargets: { ok: true, value: { registered: 3, healthy: 2 } } });
    expect(left[0]).toContain('set slot a to 100 and slot b to 0 in one change');
  });

  it('does not tell to move traffic to a blue less healthy than a green nothing is wrong with', () => {
    const left = leftForAPerson({
      ...base,
      blueTargets: { ok: true, value: { registered: 3, healthy: 1 } },
      greenFailed: false,
      weights: { ok: true, value: { a: 40, b: 60 } },
    });
    expect(left.join('\n')).not.toMatch(/set slot a to 100|terminate them/);
    expect(left[0]).toBe(
      'traffic: a=40 b=60; not moved back to slot a: blue is below its healthy minimum, less healthy than green, has at most half of its targets healthy, and nothing says green failed (blue slot a: 1 of 3 targets healthy; green slot b: 2 of 2 targets healthy); move it to slot a only once slot a is at least as healthy as slot b, or keep slot b',
    );
  });

  it('does not tell to move traffic to blue when its health could not be read', () => {
    const left = leftForAPerson({ ...base, blueTargets: { ok: false, error: 'ThrottlingException' } });
    expect(left[0]).toContain("blue slot a's health could not be read (ThrottlingException)");
    expect(left.join('\n')).not.toMatch(/set slot a to 100|terminate them/);
  });

  it('says traffic is on blue, and to terminate green, when green carries none', () => {
    expect(leftForAPerson({ ...base, weights: { ok: true, value: { a: 100, b: 0 } } })).toEqual([
      'traffic: a=100 b=0 (on blue)',
      'green instances still running (tagged bluegreen:deployment-id=web-prod-1_1_0-0123456789): i-0g1, i-0g2; terminate them once no traffic reaches slot b',
    ]);
  });

  it('counts all weights 0 (Route 53 then splits evenly) as green carrying traffic', () => {
    const left = leftForAPerson({
      ...base,
      weights: { ok: true, value: { a: 0, b: 0 } },
      blueTargets: { ok: true, value: { registered: 3, healthy: 0 } },
    });
    expect(left.join('\n')).not.toMatch(/on blue|terminate them/);
    expect(left[1]).toContain('they serve the traffic');
  });

  it('says what could not be read, to check by hand', () => {
    expect(
      leftForAPerson({
        ...base,
        weights: { ok: false, error: 'AccessDenied' },
        greenInstances: { ok: false, error: 'RequestLimitExceeded' },
      }),
    ).toEqual([
      'traffic: could not read the weights of web.example.com (AccessDenied); check them by hand',
      'instances: could not list instances tagged bluegreen:deployment-id=web-prod-1_1_0-0123456789 (RequestLimitExceeded)',
    ]);
  });
});

describe("what is left when green's slot is another deployment's", () => {
  const held = 'green slot b is claimed by web/prod 1.2.0 (execution web-prod-1_2_0-0123456789)';

  it("tells to move none of its traffic, and names only this deployment's instances, kept while the slot serves traffic", () => {
    const left = leftForAPerson({ ...base, greenHeldBy: { ok: true, value: held } });
    expect(left).toEqual([
      `traffic: a=50 b=50; ${held}: its traffic and the instances of that deployment are not this deployment's to move or terminate`,
      "only this deployment's instances (tagged bluegreen:deployment-id=web-prod-1_1_0-0123456789) are its own: i-0g1, i-0g2; if they are registered in slot b's target group, deregister them only once it carries no traffic or has healthy targets besides them, then terminate them",
    ]);
    expect(left.join('\n')).not.toMatch(/set slot a to 100|keep slot b/);
  });

  it("tells to take this deployment's instances out when the slot carries no traffic", () => {
    const left = leftForAPerson({
      ...base,
      weights: { ok: true, value: { a: 100, b: 0 } },
      greenHeldBy: { ok: true, value: held },
    });
    expect(left[1]).toMatch(
      /i-0g1, i-0g2; deregister them from its target group if they are registered, then terminate them$/,
    );
  });

  it('says when whose the slot is could not be read, before the usual instructions', () => {
    const left = leftForAPerson({ ...base, greenHeldBy: { ok: false, error: 'ThrottlingException' } });
    expect(left[0]).toBe(
      "green slot b: could not read whether another deployment holds it (ThrottlingException); before moving its traffic, check that its target group's bluegreen:deployment-id tag names this deployment or none",
    );
    expect(left.slice(1)).toEqual(leftForAPerson(base));
  });

  it("is as usual when the slot is this deployment's", () => {
    expect(leftForAPerson({ ...base, greenHeldBy: { ok: true, value: undefined } })).toEqual(
      leftForAPerson(base),
    );
  });
});

describe('instance ids in what a cause or a message says', () => {
  it('names at most five and counts the rest, so no cause grows with the fleet', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    expect(idList(ids)).toBe(
      'i-00000000000000000, i-00000000000000001, i-00000000000000002, i-00000000000000003, i-00000000000000004 and 995 more',
    );
    expect(idList(ids.slice(0, 2))).toBe('i-00000000000000000, i-00000000000000001');
  });
});

describe('the groups left (fleet.kind autoScalingGroup)', () => {
  it("names green's and blue's groups still there, and none being deleted", () => {
    const lines = groupsLeftText({
      greenGroup: { ok: true, value: { name: 'bluegreen-web-prod-b-1.1.0-1f2d46a9', deleting: false } },
      blueGroup: { ok: true, value: { name: 'bluegreen-web-prod-a-1.0.0-0badc0de', deleting: true } },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('bluegreen-web-prod-b-1.1.0-1f2d46a9 is still there');
    expect(lines[0]).toContain('delete the group instead');
  });
  it('says what could not be read, for a person to check', () => {
    expect(groupsLeftText({ blueGroup: { ok: false, error: 'Throttling: Rate exceeded' } })).toEqual([
      "Auto Scaling groups: could not read blue's (Throttling: Rate exceeded); check it by hand",
    ]);
    expect(groupsLeftText({ greenGroup: { ok: true, value: undefined } })).toEqual([]);
  });
});
