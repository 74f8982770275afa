import { DescribeAlarmHistoryCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Promotion } from '#shared/domain/promotion.ts';
import type { DeploymentState, ShiftState } from '#shared/domain/workflow.ts';
import { handler } from '../../functions/check-step.ts';
import { mockAws } from './aws-mocks.ts';
import {
  GREEN_IDS,
  greenFleet,
  greenInstances,
  healthy,
  lambdaContext,
  stateWith,
  TARGET_GROUP,
  weightedRecords,
} from './fixtures.ts';

const { cloudwatchMock, ec2Mock, elbv2Mock, route53Mock } = mockAws({
  slotsOurs: true,
  pinnedConfig: true,
});

const context = lambdaContext('checkStep');
const WRITTEN_AT = '2026-03-02T09:31:00.000Z';

const step: ShiftState = {
  index: 2,
  percent: 100,
  weights: { a: 0, b: 100 },
  isLast: true,
  settleSeconds: 300,
  dns: { changeId: 'C1', status: 'INSYNC', polls: 4, maxPolls: 18, pollSeconds: 10, submittedAt: WRITTEN_AT },
};

const QUIET_FOR_DAYS = {
  AlarmName: 'web-prod-latency-p99',
  StateValue: 'OK' as const,
  StateReason: 'Threshold Crossed: p99 80 ms',
  StateTransitionedTimestamp: new Date('2026-02-01T00:00:00Z'),
};

function alarm(state: 'OK' | 'ALARM', transitionedAt: string) {
  return {
    AlarmName: 'web-prod-5xx',
    StateValue: state,
    StateReason: state === 'ALARM' ? 'Threshold Crossed: 5xx 4 %' : 'Threshold Crossed: 5xx 0.1 %',
    StateTransitionedTimestamp: new Date(transitionedAt),
  };
}

beforeEach(() => {
  route53Mock.on(ListResourceRecordSetsCommand).resolves(weightedRecords(step.weights));
  // Green is found by its deployment tag; the alarm names are read from the pinned config.
  ec2Mock.on(DescribeInstancesCommand).resolves(greenInstances());
  elbv2Mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TARGET_GROUP.b }).resolves(healthy(GREEN_IDS));
});

describe('check-step', () => {
  it('passes when no alarm changed state since the step was written, reading no history', async () => {
    cloudwatchMock
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [alarm('OK', '2026-03-01T00:00:00Z'), QUIET_FOR_DAYS] });

    const check = await handler(stateWith({ green: greenFleet, shift: step }), context);

    expect(check.summary).toContain('2 alarm(s) OK');
    expect(cloudwatchMock.commandCalls(DescribeAlarmHistoryCommand)).toHaveLength(0);
  });

  it('rolls back for an alarm that went into ALARM and cleared since the step was written', async () => {
    cloudwatchMock
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [alarm('OK', '2026-03-02T09:31:40Z'), QUIET_FOR_DAYS] });
    cloudwatchMock.on(DescribeAlarmHistoryCommand).resolves({
      AlarmHistoryItems: [
        {
          AlarmName: 'web-prod-5xx',
          Timestamp: new Date('2026-03-02T09:31:40Z'),
          HistoryItemType: 'StateUpdate',
          HistoryData: JSON.stringify({ newState: { stateValue: 'OK' } }),
        },
        {
          AlarmName: 'web-prod-5xx',
          Timestamp: new Date('2026-03-02T09:31:10Z'),
          HistoryItemType: 'StateUpdate',
          HistoryData: JSON.stringify({ newState: { stateValue: 'ALARM', stateReason: '5xx 4 %' } }),
        },
      ],
    });

    await expect(handler(stateWith({ green: greenFleet, shift: step }), context)).rejects.toMatchObject({
      name: 'AlarmTriggered',
      message:
        'alarm in ALARM: "web-prod-5xx" (in ALARM at 2026-03-02T09:31:10.000Z, cleared since: "5xx 4 %")',
    });
    expect(cloudwatchMock.commandCalls(DescribeAlarmHistoryCommand)[0]?.args[0].input).toMatchObject({
      AlarmName: 'web-prod-5xx',
      HistoryItemType: 'StateUpdate',
      // From a little before the write: the function's clock and CloudWatch's may differ.
      StartDate: new Date(Date.parse(WRITTEN_AT) - 30_000),
    });
  });

  it('counts no flip between OK and INSUFFICIENT_DATA, however many', async () => {
    cloudwatchMock
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [alarm('OK', '2026-03-02T09:35:00Z'), QUIET_FOR_DAYS] });
    const flips = (page: number) =>
      Array.from({ length: 100 }, (_, i) => ({
        AlarmName: 'web-prod-5xx',
        Timestamp: new Date(Date.parse('2026-03-02T09:35:00Z') - (page * 100 + i) * 1000),
        HistoryItemType: 'StateUpdate' as const,
        HistoryData: JSON.stringify({ newState: { stateValue: i % 2 ? 'OK' : 'INSUFFICIENT_DATA' } }),
      }));
    cloudwatchMock.on(DescribeAlarmHistoryCommand).callsFake((input: { NextToken?: string }) => {
      const page = Number(input.NextToken ?? 0);
      return { AlarmHistoryItems: flips(page), ...(page < 7 ? { NextToken: String(page + 1) } : {}) };
    });

    const check = await handler(stateWith({ green: greenFleet, shift: step }), context);

    expect(check.summary).toContain('2 alarm(s) OK');
    expect(cloudwatchMock.commandCalls(DescribeAlarmHistoryCommand)).toHaveLength(8);
  });

  it('looks back to the previous check, not the write, after the first step', async () => {
    cloudwatchMock
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [alarm('OK', '2026-03-02T09:30:30Z'), QUIET_FOR_DAYS] });
    cloudwatchMock.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [] });
    const previous = { checkedAt: '2026-03-02T09:30:00.000Z', summary: 'ok' };

    await handler(stateWith({ green: greenFleet, shift: step, check: previous }), context);

    expect(cloudwatchMock.commandCalls(DescribeAlarmHistoryCommand)[0]?.args[0].input.StartDate).toEqual(
      new Date(Date.parse(previous.checkedAt) - 30_000),
    );
  });

  describe('after an operator promoted the step', () => {
    const earlier: Promotion = {
      by: 'arn:aws:iam::123456789012:user/bob',
      at: '2026-03-02T09:20:00.000Z',
      wait: { kind: 'step', step: 1, of: 3, percent: 10 },
    };
    const promotion: Promotion = {
      by: 'arn:aws:sts::123456789012:assumed-role/oncall/alice',
      at: '2026-03-02T09:32:00.000Z',
      wait: { kind: 'step', step: 3, of: 3, percent: 100 },
      waitEndsAt: '2026-03-02T09:36:40.000Z',
    };
    const promoted = (extra: Partial<DeploymentState> = {}) =>
      stateWith({
        green: greenFleet,
        shift: step,
        check: { checkedAt: '2026-03-02T09:25:00.000Z', summary: 'ok', promotions: [earlier] },
        watch: { promoted: promotion },
        ...extra,
      });

    it('checks the step in full and records the promote after the earlier ones', async () => {
      cloudwatchMock
        .on(DescribeAlarmsCommand)
        .resolves({ MetricAlarms: [alarm('OK', '2026-03-01T00:00:00Z'), QUIET_FOR_DAYS] });

      const check = await handler(promoted(), context);

      expect(check).toMatchObject({ summary: expect.stringContaining('2 alarm(s) OK') });
      expect(check.promotions).toEqual([earlier, promotion]);
      expect(ec2Mock.commandCalls(DescribeInstancesCommand).length).toBeGreaterThan(0);
      expect(elbv2Mock.commandCalls(DescribeTargetHealthCommand).length).toBeGreaterThan(0);
    });

    it('rolls back all the same when an alarm is in ALARM', async () => {
      cloudwatchMock
        .on(DescribeAlarmsCommand)
        .resolves({ MetricAlarms: [alarm('ALARM', '2026-03-02T09:31:59Z'), QUIET_FOR_DAYS] });

      await expect(handler(promoted(), context)).rejects.toMatchObject({ name: 'AlarmTriggered' });
    });

    it('records nothing new when the wait ran out by itself', async () => {
      cloudwatchMock
        .on(DescribeAlarmsCommand)
        .resolves({ MetricAlarms: [alarm('OK', '2026-03-01T00:00:00Z'), QUIET_FOR_DAYS] });

      const check = await handler(promoted({ watch: { Error: 'States.Timeout', Cause: '' } }), context);

      expect(check.promotions).toEqual([earlier]);
    });
  });
});
