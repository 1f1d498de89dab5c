/**
 * The RLock part: re-entry by the holder, release by others.
 */
import { describe, expect } from 'vitest';
import { failure, type LockHarness, NOT_OWNED } from './harness.js';

/** RLock: re-entry and ownership. */
export function rlockParts(h: LockHarness): void {
  const { factory, peer, next, test, make } = h;
  describe('RLock', () => {
    test('the holder re-enters and must release as many times; others wait meanwhile', async (made) => {
      const r = await make(made, factory.createRLock());
      expect(await r.acquire()).toBe(true);
      expect(await r.acquire()).toBe(true);
      expect(await r.acquire({ blocking: false })).toBe(true);
      const other = await peer({ role: 'acquire', mode: 'async', blocking: false }, { target: r });
      expect(await next(other, 'waiting')).toEqual({ waiting: true });
      expect(await next(other, 'peer try')).toEqual({ acquired: false, ownerDied: false });
      await r.release();
      await r.release();
      expect(await r.locked()).toBe(true);
      await r.release();
      expect(await r.locked()).toBe(false);
      expect((await failure(() => r.release())).code).toBe(NOT_OWNED);
    });

    test('a release from a thread that does not hold it throws LockNotOwnedError', async (made) => {
      const r = await make(made, factory.createRLock());
      await r.acquire();
      const p = await peer({ role: 'release' }, { target: r });
      expect(await next(p, 'peer release')).toEqual({ error: NOT_OWNED });
      expect(await r.locked()).toBe(true);
      await r.release();
    });
  });
}
