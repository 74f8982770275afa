import { describe, expect, it } from 'vitest';
import {
  FINISHED_DETAIL_TYPES,
  PROGRESS_DETAIL_TYPES,
  PROGRESS_PHASES,
  progressEvent,
  progressId,
} from '#shared/domain/progress.ts';

const subject = { deploymentId: 'web-prod-1_1_0-0123456789', app: 'web', env: 'prod', version: '1.1.0' };
const AT = new Date('2026-03-02T09:00:00.000Z');

describe('progress events', () => {
  it('name each phase by a distinct detail-type', () => {
    const types = [...Object.values(PROGRESS_DETAIL_TYPES), ...Object.values(FINISHED_DETAIL_TYPES)];
    expect(new Set(types).size).toBe(types.length);
    expect(PROGRESS_PHASES).toContain('finished');
  });

  it('carry an id stable per execution, phase and step', () => {
    expect(progressEvent(subject, 'baked', AT).detail.id).toBe(
      progressEvent(subject, 'baked', new Date()).detail.id,
    );
    expect(progressId(subject.deploymentId, 'step-shifted', 1)).not.toBe(
      progressId(subject.deploymentId, 'step-shifted', 2),
    );
    expect(progressId('other', 'baked')).not.toBe(progressId(subject.deploymentId, 'baked'));
  });

  it('name the outcome of a finished deployment in its detail-type', () => {
    const event = progressEvent(subject, 'finished', AT, { outcome: 'rolled-back' });
    expect(event.detailType).toBe('Deployment rolled back');
    expect(event.detail).toMatchObject({ phase: 'finished', outcome: 'rolled-back', at: AT.toISOString() });
    expect(() => progressEvent(subject, 'finished', AT)).toThrow('a finished event needs its outcome');
  });

  it('leave out the facts a phase does not have', () => {
    expect(Object.keys(progressEvent(subject, 'started', AT).detail).sort()).toEqual(
      ['app', 'at', 'env', 'execution', 'id', 'phase', 'version'].sort(),
    );
  });
});
