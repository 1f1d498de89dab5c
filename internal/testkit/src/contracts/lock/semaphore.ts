/**
 * The Semaphore part: counting, bounds, signalling across threads, a model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failure, LIMIT, type LockHarness, OVER_RELEASE, settle, within } from './harness.js';
import type { ContractSemaphore } from './types.js';

/** Semaphore and BoundedSemaphore. */
export function semaphoreParts(h: LockHarness): void {
  const { factory, runs, peer, next, test, make } = h;
  describe('Semaphore', () => {
    test('counts permits; release(n) wakes up to n waiters', async (made) => {
      const s = await make(made, factory.createSemaphore(2));
      expect(await s.acquire()).toBe(true);
      expect(await s.acquire()).toBe(true);
      expect(await s.acquire({ blocking: false })).toBe(false);
      const woken: number[] = [];
      const waiters = [1, 2, 3].map((i) => s.acquire({ timeout: LIMIT }).then(() => woken.push(i)));
      await settle();
      expect(woken).toEqual([]);
      await s.release(2);
      await within(
        (async () => {
          while (woken.length < 2) await settle(5);
        })(),
        LIMIT,
        'two waiters woken',
      );
      await settle();
      expect(woken.length).toBe(2);
      await s.release();
      await within(Promise.all(waiters), LIMIT, 'third waiter');
      expect(woken.sort()).toEqual([1, 2, 3]);
      expect(await failure(() => s.release(0))).toBeInstanceOf(RangeError);
    });

    test('an unbounded semaphore can be released above its initial value', async (made) => {
      const s = await make(made, factory.createSemaphore(0));
      await s.release(3);
      for (let i = 0; i < 3; i++) expect(await s.acquire({ blocking: false })).toBe(true);
      expect(await s.acquire({ blocking: false })).toBe(false);
    });

    test('BoundedSemaphore: over-release throws SemaphoreOverReleaseError and changes nothing', async (made) => {
      const s = await make(made, factory.createBoundedSemaphore(2));
      expect((await failure(() => s.release())).code).toBe(OVER_RELEASE);
      await s.acquire();
      expect((await failure(() => s.release(2))).code).toBe(OVER_RELEASE);
      await s.release();
      expect(await s.acquire({ blocking: false })).toBe(true);
      expect(await s.acquire({ blocking: false })).toBe(true);
      expect(await s.acquire({ blocking: false })).toBe(false);
      await s.release(2);
      expect((await failure(() => s.release())).code).toBe(OVER_RELEASE);
    });

    test('a permit released by another thread wakes a waiter here (semaphore as a signal)', async (made) => {
      const s = await make(made, factory.createSemaphore(0));
      const waiting = s.acquire({ timeout: LIMIT });
      const p = await peer({ role: 'release' }, { target: s });
      expect(await next(p, 'peer release')).toEqual({ ok: true });
      expect(await within(waiting, LIMIT, 'signalled acquire')).toBe(true);
    });

    it(`model: random acquire/release sequences agree with a counter (${runs} runs)`, async () => {
      type Model = { value: number; bound: number | undefined };
      type Real = { s: ContractSemaphore };
      class Acquire implements fc.AsyncCommand<Model, Real> {
        check = () => true;
        async run(m: Model, r: Real) {
          const got = await r.s.acquire({ blocking: false });
          expect(got).toBe(m.value > 0);
          if (got) m.value--;
        }
        toString = () => 'acquire';
      }
      class Release implements fc.AsyncCommand<Model, Real> {
        constructor(readonly n: number) {}
        check = () => true;
        async run(m: Model, r: Real) {
          if (m.bound !== undefined && m.value + this.n > m.bound) {
            expect((await failure(() => r.s.release(this.n))).code).toBe(OVER_RELEASE);
          } else {
            await r.s.release(this.n);
            m.value += this.n;
          }
        }
        toString = () => `release(${this.n})`;
      }
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 3 }),
          fc.boolean(),
          fc.commands(
            [fc.constant(new Acquire()), fc.integer({ min: 1, max: 3 }).map((n) => new Release(n))],
            {
              maxCommands: 30,
            },
          ),
          async (initial, bounded, cmds) => {
            const s = await (bounded
              ? factory.createBoundedSemaphore(initial)
              : factory.createSemaphore(initial));
            try {
              await fc.asyncModelRun(
                () => ({ model: { value: initial, bound: bounded ? initial : undefined }, real: { s } }),
                cmds,
              );
            } finally {
              await factory.destroy?.(s);
            }
          },
        ),
        { numRuns: runs },
      );
    });
  });
}
