import { type Clock, withGlobal } from '@sinonjs/fake-timers';

/**
 * The virtual clock: Date and timers are faked on the global object, so Wait states, retry
 * back-offs, task timeouts and every `new Date()` in the handlers run on simulated time while
 * the simulator advances it timer by timer. An hour-long deploy takes well under a second.
 */
export const SIM_EPOCH = Date.parse('2026-03-02T09:00:00.000Z');

export type InstalledClock = Clock;

export function installClock(start = SIM_EPOCH): InstalledClock {
  return withGlobal(globalThis).install({
    now: start,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    shouldClearNativeTimers: true,
  });
}
