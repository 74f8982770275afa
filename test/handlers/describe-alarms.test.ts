import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { checkAlarms, describeAlarms } from '#shared/aws/cloudwatch.ts';
import { mockAws } from './aws-mocks.ts';

// The one reader of alarm states (the guards, the watch and the approval's summary): 100 names a
// call, every page of each answer, metric and composite alarms alike.

const { cloudwatchMock } = mockAws();

describe('reading the watched alarms', () => {
  it('asks 100 names at a time and follows every page', async () => {
    // Prepare: 150 names; CloudWatch pages the first call's answer in two.
    const names = Array.from({ length: 150 }, (_, i) => `alarm-${i}`);
    cloudwatchMock
      .on(DescribeAlarmsCommand)
      .callsFake((input: { AlarmNames?: string[]; NextToken?: string }) => {
        const asked = input.AlarmNames ?? [];
        if (asked[0] === 'alarm-0' && !input.NextToken) {
          return {
            MetricAlarms: asked.slice(0, 50).map((AlarmName) => ({ AlarmName, StateValue: 'OK' })),
            NextToken: 'page-2',
          };
        }
        const rest = asked[0] === 'alarm-0' ? asked.slice(50) : asked;
        return {
          MetricAlarms: rest
            .filter((n) => n !== 'alarm-149')
            .map((AlarmName) => ({ AlarmName, StateValue: 'OK' })),
          CompositeAlarms: rest.includes('alarm-120')
            ? [{ AlarmName: 'alarm-120', StateValue: 'ALARM' }]
            : [],
        };
      });

    // Act
    const found = await describeAlarms(names);

    // Assess
    const calls = cloudwatchMock.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.AlarmNames?.length, c.NextToken])).toEqual([
      [100, undefined],
      [100, 'page-2'],
      [50, undefined],
    ]);
    expect(calls.every((c) => c.AlarmTypes?.join() === 'MetricAlarm,CompositeAlarm')).toBe(true);
    expect(found.size).toBe(149);
    expect(found.get('alarm-120')?.state).toBe('ALARM');
    expect(found.has('alarm-149')).toBe(false);
    expect((await checkAlarms(names)).missing).toEqual(['alarm-149']);
  });

  it('stops with an error when CloudWatch pages without end', async () => {
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [], NextToken: 'again' });
    await expect(describeAlarms(['alarm-0'])).rejects.toThrow(/more than 5 pages/);
    expect(cloudwatchMock.commandCalls(DescribeAlarmsCommand)).toHaveLength(5);
  });
});
