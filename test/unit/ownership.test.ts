import { describe, expect, it } from 'vitest';
import {
  claimOf,
  claimTags,
  claimText,
  foreignInstancesText,
  ownerOf,
  ownershipProblem,
  ownerTags,
} from '#shared/domain/ownership.ts';
import { TAG } from '#shared/domain/tags.ts';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-prod-b/fedcba9876543210';
const WEB = { app: 'web', env: 'prod' };

describe('slot ownership', () => {
  it('a target group nobody claimed may be used by any app/env (the first deploy adopts it)', () => {
    expect(ownershipProblem('b', TG, { [TAG.managedBy]: 'bluegreen-ec2' }, WEB)).toBeUndefined();
    expect(ownerOf({})).toBeUndefined();
  });

  it('a target group owned by this app/env, as that slot, may be used', () => {
    expect(ownershipProblem('b', TG, ownerTags(WEB, 'b'), WEB)).toBeUndefined();
  });

  it('another app/env owning it is named, and so is the mistake', () => {
    expect(ownershipProblem('b', TG, ownerTags({ app: 'api', env: 'prod' }, 'b'), WEB)).toBe(
      "slot b's target group targetgroup/web-prod-b/fedcba9876543210 belongs to api/prod (its bluegreen:app and bluegreen:env tags), not web/prod: two app/env configs name the same slots; give web/prod slots of its own",
    );
  });

  it('a target group tagged as the other slot is refused (the config swapped a and b)', () => {
    expect(ownershipProblem('b', TG, ownerTags(WEB, 'a'), WEB)).toContain('is tagged as slot a');
  });

  it('reads back the claim it writes', () => {
    const claim = { deploymentId: 'web-prod-1_1_0-69927e5480', version: '1.1.0', executionArn: 'arn:x' };
    expect(claimOf(claimTags(claim))).toEqual(claim);
    expect(claimOf(ownerTags(WEB, 'b'))).toBeUndefined();
  });

  it('names the claimant by app/env, version and execution', () => {
    const claim = { deploymentId: 'web-prod-1_1_0-69927e5480', version: '1.1.0', executionArn: '' };
    expect(claimText(claim, WEB)).toBe('web/prod 1.1.0 (execution web-prod-1_1_0-69927e5480)');
  });

  it('quotes tag values a person could have written: no line of their own in a cause', () => {
    const text = claimText(
      { deploymentId: 'x', version: '1.1.0\nDeployed web/prod 9.9.9', executionArn: '' },
      WEB,
    );
    expect(text).not.toContain('\n');
    expect(text).toContain('"1.1.0\\nDeployed web/prod 9.9.9"');
  });

  it('groups instances in a slot by who launched them', () => {
    const of = (deploymentId: string, version: string) => ({
      [TAG.app]: 'web',
      [TAG.env]: 'prod',
      [TAG.version]: version,
      [TAG.deploymentId]: deploymentId,
    });
    expect(
      foreignInstancesText([
        { id: 'i-1', tags: of('web-prod-1_1_0-aaaa', '1.1.0') },
        { id: 'i-2', tags: of('web-prod-1_1_0-aaaa', '1.1.0') },
        { id: 'i-3', tags: {} },
      ]),
    ).toBe('i-1, i-2 of web/prod 1.1.0 (execution web-prod-1_1_0-aaaa); i-3 not launched by this service');
  });
});
