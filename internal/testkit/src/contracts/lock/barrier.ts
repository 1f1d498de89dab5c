/**
 * The Barrier part: cycles, action, timeouts, abort and reset.
 */
import { describe, expect } from 'vitest';
import { BROKEN, failure, LIMIT, type LockHarness, settle, within } from './harness.js';

/** Barrier. */
export function barrierParts(h: LockHarness): void {
  const { factory, modes, peer, next, test, make } = h;
  describe('Barrier', () => {
    for (const mode of modes) {
      test(`three ${mode} parties get distinct indices, two cycles in a row`, async (made) => {
        const b = await make(made, factory.createBarrier(3));
        expect(await b.parties).toBe(3);
        const ps = await Promise.all(
          [0, 1, 2].map(() => peer({ role: 'barrierWait', mode, cycles: 2 }, { barrier: b })),
        );
        for (const p of ps) expect(await next(p, 'waiting')).toEqual({ waiting: true });
        for (let cycle = 0; cycle < 2; cycle++) {
          const got = [];
          for (const p of ps) got.push(((await next(p, `cycle ${cycle}`)) as { index: number }).index);
          expect(got.sort()).toEqual([0, 1, 2]);
        }
        expect(await b.broken).toBe(false);
      });
    }

    test('the last party runs the action once per cycle, before anyone is released', async (made) => {
      let actions = 0;
      const seen: number[] = [];
      const b = await make(made, factory.createBarrier(3, { action: () => void actions++ }));
      const party = async () => {
        const index = await b.wait({ timeout: LIMIT });
        seen.push(actions);
        return index;
      };
      for (let cycle = 1; cycle <= 2; cycle++) {
        const indices = await within(Promise.all([party(), party(), party()]), LIMIT, `cycle ${cycle}`);
        expect(indices.sort()).toEqual([0, 1, 2]);
        expect(actions).toBe(cycle);
      }
      expect(seen).toEqual([1, 1, 1, 2, 2, 2]);
    });

    test('a party that times out breaks it for all; reset() restores it', async (made) => {
      const b = await make(made, factory.createBarrier(3));
      const other = await peer({ role: 'barrierWait', mode: 'async' }, { barrier: b });
      expect(await next(other, 'waiting')).toEqual({ waiting: true });
      expect((await failure(() => b.wait({ timeout: 50 }))).code).toBe(BROKEN);
      expect(await next(other, 'other broken')).toEqual({ error: BROKEN });
      expect(await b.broken).toBe(true);
      expect((await failure(() => b.wait({ timeout: LIMIT }))).code).toBe(BROKEN);
      await b.reset();
      expect(await b.broken).toBe(false);
      const all = [0, 1, 2].map(() => b.wait({ timeout: LIMIT }));
      expect((await within(Promise.all(all), LIMIT, 'after reset')).sort()).toEqual([0, 1, 2]);
    });

    test('abort() and an aborted party break it; nWaiting counts the waiting parties', async (made) => {
      const b = await make(made, factory.createBarrier(3));
      const ac = new AbortController();
      const first = b.wait({ signal: ac.signal });
      const second = b.wait({ timeout: LIMIT });
      await settle();
      expect(await b.nWaiting).toBe(2);
      const reason = new Error('stop');
      ac.abort(reason);
      await expect(first).rejects.toBe(reason);
      expect((await failure(() => second)).code).toBe(BROKEN);
      await b.reset();
      const third = b.wait({ timeout: LIMIT });
      await settle();
      await b.abort();
      expect((await failure(() => third)).code).toBe(BROKEN);
      expect(await b.broken).toBe(true);
      expect(await b.nWaiting).toBe(0);
    });

    test('reset() while parties wait gives them BrokenBarrierError and leaves it usable', async (made) => {
      const b = await make(made, factory.createBarrier(2));
      const waiting = b.wait({ timeout: LIMIT });
      await settle();
      await b.reset();
      expect((await failure(() => waiting)).code).toBe(BROKEN);
      const pair = [b.wait({ timeout: LIMIT }), b.wait({ timeout: LIMIT })];
      expect((await within(Promise.all(pair), LIMIT, 'after reset')).sort()).toEqual([0, 1]);
    });
  });
}
