import { GetChangeCommand, Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { DnsChange } from '#shared/domain/workflow.ts';
import { handler } from '../../functions/check-dns-change.ts';
import { lambdaContext } from './fixtures.ts';

const route53Mock = mockClient(Route53Client);

afterEach(() => {
  route53Mock.reset();
});

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
    await expect(run).rejects.toMatchObject({
      name: 'DnsChangeTimedOut',
      message: expect.stringContaining('still PENDING after 60 checks'),
    });
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
});
