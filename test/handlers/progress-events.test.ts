import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it, vi } from 'vitest';
import { logger } from '#shared/logger.ts';
import { tellProgress } from '#shared/operations/progress.ts';
import { mockAws } from './aws-mocks.ts';

const { eventbridgeMock } = mockAws();

const subject = { deploymentId: 'web-prod-1_1_0-0123456789', app: 'web', env: 'prod', version: '1.1.0' };
const AT = new Date('2026-03-02T09:00:00.000Z');

describe('tellProgress', () => {
  it('puts one event on the default bus with the service source and the detail as JSON', async () => {
    await tellProgress(subject, 'step-shifted', { step: 2, weights: { a: 50, b: 50 }, green: 'b' }, AT);
    const entries = eventbridgeMock.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries ?? [];
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    expect(entry?.EventBusName).toBeUndefined();
    expect(entry).toMatchObject({ Source: 'bluegreen-ec2', DetailType: 'Deployment step shifted' });
    expect(JSON.parse(String(entry?.Detail))).toEqual({
      id: 'web-prod-1_1_0-0123456789:step-shifted:2',
      app: 'web',
      env: 'prod',
      version: '1.1.0',
      execution: 'web-prod-1_1_0-0123456789',
      phase: 'step-shifted',
      weights: { a: 50, b: 50 },
      green: 'b',
      step: 2,
      at: '2026-03-02T09:00:00.000Z',
    });
  });

  it('logs and swallows a put that fails', async () => {
    eventbridgeMock
      .on(PutEventsCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    await expect(tellProgress(subject, 'baked', {}, AT)).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith(
      'could not put the progress event; the deployment goes on',
      expect.objectContaining({ id: 'web-prod-1_1_0-0123456789:baked' }),
    );
    warn.mockRestore();
  });

  it('counts an entry the bus refused (a 200 with FailedEntryCount) as a failed put', async () => {
    eventbridgeMock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try later' }],
    });
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    await tellProgress(subject, 'green-healthy', {}, AT);
    const error = (warn.mock.calls[0]?.[1] as { error?: Error } | undefined)?.error;
    expect(error?.message).toContain('InternalFailure: try later');
    warn.mockRestore();
  });
});
