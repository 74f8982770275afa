import { describe, expect, it } from 'vitest';
import { RECOVERY_GRACE_SECONDS, tooLateToRecoverText, withinRecoveryGrace } from '#shared/domain/lock.ts';
import { freshReport, lockEnd, recoveryMessage, rollbackFailure } from '#shared/domain/recovery.ts';

const deployment = { app: 'web', env: 'prod', version: '1.1.0' };

describe('the recovery in words', () => {
  it('tells what was done, the lock, and what is left for a person, in one message', () => {
    const report = {
      ...freshReport({ name: 'web-prod-1.1.0-abc', status: 'TIMED_OUT' }),
      actions: ['2 green instance(s) terminated'],
      leftOver: ['AMI ami-1 kept'],
    };
    expect(recoveryMessage(deployment, 'TIMED_OUT', report, 'lock released', false)).toEqual({
      subject: 'Stopped: web/prod 1.1.0',
      message:
        'web/prod 1.1.0 was timed out; 2 green instance(s) terminated; lock released. Left for a person: AMI ami-1 kept.',
    });
  });

  it('says a deployment stopped before its plan changed nothing', () => {
    const report = freshReport({ name: 'x', status: 'ABORTED' });
    expect(recoveryMessage(deployment, 'ABORTED', report, 'lock released', true).message).toBe(
      'web/prod 1.1.0 was aborted before it changed anything; lock released.',
    );
  });

  it('names the lock by how it stood', () => {
    expect(lockEnd({ kind: 'held' })).toBe('lock released');
    expect(lockEnd(undefined)).toBe('lock released');
    expect(lockEnd({ kind: 'unheld', item: 'missing' })).toBe('no lock of its to release');
    expect(lockEnd({ kind: 'another', holder: 'd-2' })).toBe('its lock already taken over by d-2');
  });

  it('starts a rollback from how the execution ended, its cause on one line, and what was found', () => {
    const failure = rollbackFailure(
      { name: 'web-prod-1.1.0-abc', status: 'FAILED', error: 'States.Runtime', cause: 'bad\npath' },
      ['the lock item was missing'],
    );
    expect(failure.Error).toBe('FAILED');
    expect(failure.Cause).toBe(
      'the execution web-prod-1.1.0-abc failed (States.Runtime: bad\\u000apath); the lock item was missing',
    );
    expect(rollbackFailure({ name: 'n', status: 'ABORTED' }, []).Cause).toBe('the execution n stopped');
    expect(rollbackFailure({ name: 'n', status: 'TIMED_OUT' }, []).Cause).toBe('the execution n timed out');
  });

  it('states the grace once: within it up to its last millisecond, and the words when past it', () => {
    const end = Date.parse('2026-01-01T00:00:00Z');
    expect(withinRecoveryGrace(end, end + RECOVERY_GRACE_SECONDS * 1000 - 1)).toBe(true);
    expect(withinRecoveryGrace(end, end + RECOVERY_GRACE_SECONDS * 1000)).toBe(false);
    expect(tooLateToRecoverText(end, end + 19 * 60_000)).toBe(
      `this recovery started 19 minutes after the execution ended, too near the ${RECOVERY_GRACE_SECONDS / 60} minutes after which its lock is taken over, so it changed nothing`,
    );
  });
});
