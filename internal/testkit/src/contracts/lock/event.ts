/**
 * The Event part: set, clear, wait, no lost wake-ups.
 */
import { describe, expect } from 'vitest';
import { LIMIT, type LockHarness, settle, within } from './harness.js';

/** Event. */
export function eventParts(h: LockHarness): void {
  const { factory, modes, peer, next, test, make } = h;
  describe('Event', () => {
    test('set, isSet, clear; wait returns at once when set and false on timeout', async (made) => {
      const e = await make(made, factory.createEvent());
      expect(await e.isSet()).toBe(false);
      expect(await within(e.wait({ timeout: 20 }), LIMIT, 'timed wait')).toBe(false);
      await e.set();
      expect(await e.isSet()).toBe(true);
      expect(await e.wait()).toBe(true);
      await e.clear();
      expect(await e.isSet()).toBe(false);
    });

    test('a waiter returns true even if the flag is cleared again right after set()', async (made) => {
      const e = await make(made, factory.createEvent());
      const waiting = e.wait({ timeout: LIMIT });
      await settle();
      await e.set();
      await e.clear();
      expect(await within(waiting, LIMIT, 'wait across set+clear')).toBe(true);
    });

    for (const mode of modes) {
      test(`set() releases every ${mode} waiter in other threads`, async (made) => {
        const e = await make(made, factory.createEvent());
        const ws = await Promise.all([0, 1, 2].map(() => peer({ role: 'eventWait', mode }, { event: e })));
        for (const w of ws) expect(await next(w, 'waiting')).toEqual({ waiting: true });
        await settle();
        await e.set();
        for (const w of ws) expect(await next(w, 'result')).toEqual({ result: true });
      });
    }
  });
}
