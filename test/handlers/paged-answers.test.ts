import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { recentRequests } from '#shared/aws/cloudwatch.ts';
import { findAmiByArtifact } from '#shared/aws/ec2.ts';
import { mockAws } from './aws-mocks.ts';

// Answers AWS pages (NextToken) are read to the last page, with a bound on the pages read.

const { cloudwatchMock, ec2Mock } = mockAws();

describe('paged answers', () => {
  it("sums a target group's requests over every page of GetMetricData", async () => {
    // Prepare
    cloudwatchMock
      .on(GetMetricDataCommand)
      .callsFake((input: { NextToken?: string }) =>
        input.NextToken
          ? { MetricDataResults: [{ Id: 'requests', Values: [5] }] }
          : { MetricDataResults: [{ Id: 'requests', Values: [1, 2] }], NextToken: 'page-2' },
      );

    // Act
    const requests = await recentRequests({ TargetGroup: 'targetgroup/web-a/1' }, 120);

    // Assess
    expect(requests).toBe(8);
    const tokens = cloudwatchMock.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.NextToken);
    expect(tokens).toEqual([undefined, 'page-2']);
  });

  it('stops with an error when GetMetricData pages without end', async () => {
    cloudwatchMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [], NextToken: 'again' });
    await expect(recentRequests({ TargetGroup: 'targetgroup/web-a/1' }, 120)).rejects.toThrow(
      /more than 5 pages/,
    );
  });

  it('finds the newest AMI of an artifact on any page of DescribeImages', async () => {
    // Prepare: the newest image is on the second page.
    ec2Mock
      .on(DescribeImagesCommand)
      .callsFake((input: { NextToken?: string }) =>
        input.NextToken
          ? { Images: [{ ImageId: 'ami-new', CreationDate: '2026-03-02T09:00:00.000Z' }] }
          : { Images: [{ ImageId: 'ami-old', CreationDate: '2026-03-01T09:00:00.000Z' }], NextToken: 'p2' },
      );

    // Act
    const ami = await findAmiByArtifact('artifact-1');

    // Assess
    expect(ami).toBe('ami-new');
    const calls = ec2Mock.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.MaxResults, c.NextToken])).toEqual([
      [1000, undefined],
      [1000, 'p2'],
    ]);
  });

  it('stops with an error when DescribeImages pages without end', async () => {
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [], NextToken: 'again' });
    await expect(findAmiByArtifact('artifact-1')).rejects.toThrow(/more than 20 pages/);
    expect(ec2Mock.commandCalls(DescribeImagesCommand)).toHaveLength(20);
  });
});
