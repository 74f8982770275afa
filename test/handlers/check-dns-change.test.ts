import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetChangeCommand } from '@aws-sdk/client-route-53';
import { beforeEach, describe, expect, it } from 'vitest';
import { DNS_MAX_POLLS, DNS_RETURN_MAX_POLLS } from '#shared/domain/plan.ts';
import type { DnsChange } from '#shared/domain/workflow.ts';
import { handler } from '../../functions/check-dns-change.ts';
import { expectFailure } from '../support/failures.ts';
import { mockAws } from './aws-mocks.ts';
import {
  alarmStates,
  BLUE_IDS,
  GREEN_IDS,
  healthy,
  lambdaContext,
  planFor,
  TARGET_GROUP,
} from './fixtures.ts';

// The config the plan pinned is readable and its alarms are OK, unless a test says otherwise.
const { cloudwatchMock, elbv2Mock, route53Mock } = mockAws({ pinnedConfig: true, alarmsOk: true });

const context = lambdaContext('checkDnsChange');

function pending(polls: number): DnsChange {
  return {
    changeId: '/change/C0743215NX5FBGQ4SGJ9',
    status: 'PENDING',
    polls,
    maxPolls: 60,
    pollSeconds: polls < 18 ? 10 : 60,
    submittedAt: '2026-03-02T09:31:00.000Z',
  };
}

describe('check-dns-change', () => {
  it('reports INSYNC, with when, once Route 53 has propagated the change', async () => {
    // Prepare
    route53Mock.on(GetChangeCommand).resolves({
      ChangeInfo: {
        Id: '/change/C0743215NX5FBGQ4SGJ9',
        Status: 'INSYNC',
        SubmittedAt: new Date('2026-03-02T09:31:00Z'),
      },
    });

    // Act
    const result = await handler({ change: pending(2) }, context);

    // Assess
    expect(route53Mock.commandCalls(GetChangeCommand)[0]?.args[0].input).toEqual({
      Id: '/change/C0743215NX5FBGQ4SGJ9',
    });
    expect(result).toEqual({ ...pending(3), status: 'INSYNC', syncedAt: expect.any(String) });
  });

  it('counts the poll while the change is still PENDING', async () => {
    // Prepare
    route53Mock.on(GetChangeCommand).resolves({
      ChangeInfo: { Id: '/change/C0743215NX5FBGQ4SGJ9', Status: 'PENDING', SubmittedAt: new Date() },
    });

    // Act
    const result = await handler({ change: pending(2) }, context);

    // Assess
    expect(result).toEqual(pending(3));
  });

  it('checks a change still PENDING after 3 minutes once a minute from then on', async () => {
    // Prepare
    route53Mock.on(GetChangeCommand).resolves({
      ChangeInfo: { Id: '/change/C0743215NX5FBGQ4SGJ9', Status: 'PENDING', SubmittedAt: new Date() },
    });

    // Act
    const early = await handler({ change: pending(16) }, context);
    const late = await handler({ change: pending(17) }, context);

    // Assess
    expect(early).toMatchObject({ polls: 17, pollSeconds: 10 });
    expect(late).toMatchObject({ polls: 18, pollSeconds: 60 });
  });

  it('fails with DnsChangeTimedOut when the change is still PENDING at the last poll', async () => {
    // Prepare
    route53Mock.on(GetChangeCommand).resolves({
      ChangeInfo: { Id: '/change/C0743215NX5FBGQ4SGJ9', Status: 'PENDING', SubmittedAt: new Date() },
    });

    // Act
    const run = handler({ change: pending(59) }, context);

    // Assess
    await expectFailure(run, 'DnsChangeTimedOut', 'still PENDING after 60 checks');
  });

  it('asks Route 53 nothing for a change already known to be INSYNC', async () => {
    // Prepare
    const synced: DnsChange = { ...pending(3), status: 'INSYNC', syncedAt: '2026-03-02T09:31:30.000Z' };

    // Act
    const result = await handler({ change: synced }, context);

    // Assess
    expect(result).toEqual(synced);
    expect(route53Mock.calls()).toHaveLength(0);
  });

  describe("a traffic step's change (its plan passed)", () => {
    // Blue is slot a, green slot b; green's three targets are healthy.
    const plan = planFor();
    const step = (polls: number): DnsChange => ({ ...pending(polls), maxPolls: DNS_MAX_POLLS });
    /** The first `healthyCount` of `ids` healthy, the others failing their checks. */
    const targets = (ids: string[], healthyCount: number) => ({
      TargetHealthDescriptions: ids.map((Id, i) => ({
        Target: { Id, Port: 80 },
        TargetHealth:
          i < healthyCount
            ? { State: 'healthy' as const }
            : { State: 'unhealthy' as const, Reason: 'Target.FailedHealthChecks' as const },
      })),
    });
    const blueWith = (healthyCount: number) => targets(BLUE_IDS, healthyCount);
    /** A change already in its longer wait, checked `polls` times. */
    const longer = (polls: number): DnsChange => ({ ...pending(polls), maxPolls: DNS_RETURN_MAX_POLLS });

    beforeEach(() => {
      route53Mock.on(GetChangeCommand).resolves({
        ChangeInfo: { Id: '/change/C0743215NX5FBGQ4SGJ9', Status: 'PENDING', SubmittedAt: new Date() },
      });
      elbv2Mock
        .on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b })
        .resolves(healthy(GREEN_IDS));
    });

    it('gives up after 3 minutes while blue could take the traffic back', async () => {
      elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(blueWith(3));

      const run = handler({ change: step(DNS_MAX_POLLS - 1), plan }, context);

      await expect(run).rejects.toMatchObject({ name: 'DnsChangeTimedOut' });
    });

    it('waits up to 30 minutes when the rollback rule would refuse blue, instead of leaving a split', async () => {
      elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(blueWith(1));

      const result = await handler({ change: step(DNS_MAX_POLLS - 1), plan }, context);

      expect(result).toMatchObject({ polls: DNS_MAX_POLLS, maxPolls: DNS_RETURN_MAX_POLLS, pollSeconds: 60 });
      // The longer wait ends at its own bound.
      await expect(
        handler({ change: { ...result, polls: DNS_RETURN_MAX_POLLS - 1 }, plan }, context),
      ).rejects.toMatchObject({ name: 'DnsChangeTimedOut' });
    });

    it('fails into the rollback when a watched alarm is in ALARM during the longer wait', async () => {
      cloudwatchMock.on(DescribeAlarmsCommand).callsFake(alarmStates(['web-prod-5xx']));

      const run = handler({ change: longer(DNS_MAX_POLLS + 2), plan }, context);

      await expectFailure(run, 'AlarmTriggered', 'web-prod-5xx');
    });

    it('fails into the rollback when green falls below its minimum during the longer wait', async () => {
      elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(blueWith(1));
      elbv2Mock
        .on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b })
        .resolves(targets(GREEN_IDS, 0));

      const run = handler({ change: longer(DNS_MAX_POLLS + 2), plan }, context);

      await expectFailure(run, 'GreenUnhealthy', '0 of 3 green targets healthy');
    });

    it('gives the longer wait up as soon as blue could take the traffic back', async () => {
      elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.a }).resolves(blueWith(3));
      const run = handler({ change: longer(DNS_MAX_POLLS + 5), plan }, context);

      await expect(run).rejects.toMatchObject({ name: 'DnsChangeTimedOut' });
    });

    it('reads no alarm nor target health in the first 3 minutes', async () => {
      const result = await handler({ change: step(4), plan }, context);

      expect(result).toMatchObject({ polls: 5 });
      expect(cloudwatchMock.calls()).toHaveLength(0);
      expect(elbv2Mock.calls()).toHaveLength(0);
    });
  });
});
