import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Promotion } from '#shared/domain/promotion.ts';
import type { DeploymentState, ShiftState, WindowState } from '#shared/domain/workflow.ts';
import { handler } from '../../functions/watch-window.ts';
import { freezeClock, mockAws } from './aws-mocks.ts';
import {
  GREEN_IDS,
  greenFleet,
  greenInstances,
  healthy,
  lambdaContext,
  stateWith,
  syncedChange,
  TARGET_GROUP,
  weightedRecords,
} from './fixtures.ts';

const { cloudwatchMock, ec2Mock, elbv2Mock, route53Mock } = mockAws({ slotsOurs: true, pinnedConfig: true });

const context = lambdaContext('watchWindow');

// The 100 % change went INSYNC at 09:30:00; with the 60 s TTL the one-hour window began at 09:31:00.
const LAST_STEP: ShiftState = {
  index: 2,
  percent: 100,
  weights: { a: 0, b: 100 },
  isLast: true,
  settleSeconds: 300,
  dns: { ...syncedChange('2026-03-02T09:29:20.000Z'), syncedAt: '2026-03-02T09:30:00.000Z' },
};
const FIRST_CHECK: WindowState = {
  startedAt: '2026-03-02T09:31:00.000Z',
  endsAt: '2026-03-02T10:31:00.000Z',
  checks: 1,
  done: false,
  nextCheckSeconds: 300,
  checkedAt: '2026-03-02T09:35:00.000Z',
  summary: '3 of 3 green targets healthy (3 required); 2 alarm(s) OK',
};
const WINDOW_PROMOTED: Promotion = {
  by: 'arn:aws:sts::123456789012:assumed-role/oncall/alice',
  at: '2026-03-02T09:38:00.000Z',
  wait: { kind: 'termination-window' },
  waitEndsAt: '2026-03-02T09:40:00.000Z',
};
const STEP_PROMOTED: Promotion = {
  by: 'arn:aws:iam::123456789012:user/bob',
  at: '2026-03-02T09:29:50.000Z',
  wait: { kind: 'step', step: 3, of: 3, percent: 100 },
};

function windowState(extra: Partial<DeploymentState> = {}): DeploymentState {
  return stateWith({ green: greenFleet, shift: LAST_STEP, window: FIRST_CHECK, ...extra });
}

beforeEach(() => {
  route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(LAST_STEP.weights));
  ec2Mock.on(DescribeInstancesCommand).resolves(greenInstances());
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b }).resolves(healthy(GREEN_IDS));
  cloudwatchMock.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: ['web-prod-5xx', 'web-prod-latency-p99'].map((AlarmName) => ({
      AlarmName,
      StateValue: 'OK' as const,
      StateReason: 'quiet',
      StateTransitionedTimestamp: new Date('2026-02-01T00:00:00Z'),
    })),
  });
});

describe('watch-window', () => {
  describe('at 09:40, nine minutes into the one-hour window', () => {
    freezeClock(new Date('2026-03-02T09:40:00.000Z'));

    it('goes on watching when nobody promoted the window (a promoted step counts for nothing here)', async () => {
      const window = await handler(windowState({ watch: { promoted: STEP_PROMOTED } }), context);

      expect(window).toMatchObject({ done: false, checks: 2, nextCheckSeconds: 300 });
      expect(window.promotions).toBeUndefined();
    });

    it('ends the window an operator promoted, after checking green once more', async () => {
      const window = await handler(windowState({ watch: { promoted: WINDOW_PROMOTED } }), context);

      expect(window).toMatchObject({
        done: true,
        checks: 2,
        endsAt: FIRST_CHECK.endsAt,
        promotions: [WINDOW_PROMOTED],
        summary: expect.stringContaining('2 alarm(s) OK'),
      });
      expect(elbv2Mock.commandCalls(DescribeTargetHealthCommand).length).toBeGreaterThan(0);
    });

    it('remembers the promote on the check after an approval, when the last wait result is gone', async () => {
      const promotedCheck = { ...FIRST_CHECK, done: true, checks: 2, promotions: [WINDOW_PROMOTED] };

      const window = await handler(windowState({ window: promotedCheck }), context);

      expect(window).toMatchObject({ done: true, checks: 3, promotions: [WINDOW_PROMOTED] });
    });

    it('rolls back all the same when an alarm is in ALARM', async () => {
      cloudwatchMock.on(DescribeAlarmsCommand).resolves({
        MetricAlarms: [{ AlarmName: 'web-prod-5xx', StateValue: 'ALARM', StateReason: '5xx 4 %' }],
      });

      await expect(
        handler(windowState({ watch: { promoted: WINDOW_PROMOTED } }), context),
      ).rejects.toMatchObject({ name: 'AlarmTriggered' });
    });
  });

  describe('at 09:30:20, before the window has begun (resolvers still leaving blue)', () => {
    freezeClock(new Date('2026-03-02T09:30:20.000Z'));

    it('waits for the window to begin before a promote ends it', async () => {
      // The last step's settle was promoted too: the first check ran at 09:30:10, before the window.
      const before = { ...FIRST_CHECK, checkedAt: '2026-03-02T09:30:10.000Z', nextCheckSeconds: 50 };
      const early = { ...WINDOW_PROMOTED, at: '2026-03-02T09:30:20.000Z' };

      const window = await handler(windowState({ window: before, watch: { promoted: early } }), context);

      expect(window).toMatchObject({ done: false, checks: 2, nextCheckSeconds: 40, promotions: [early] });
    });
  });
});
