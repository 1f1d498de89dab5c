/**
 * The Lock part: acquire/release, options, exclusion of tasks and threads, and a model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACQUIRE_TIMEOUT, failure, LIMIT, type LockHarness, NOT_OWNED, settle, within } from './harness.js';
import type { ContractLock } from './types.js';

/** Lock: basics, mutual exclusion under contention (Lock, RLock, Semaphore(1), Condition), and a model of Lock and RLock. */
export function lockParts(h: LockHarness): void {
  const { factory, modes, runs, peer, next, test, make } = h;
  describe('Lock', () => {
    test('acquire, locked, release; releasing an unlocked lock throws LockNotOwnedError', async (made) => {
      const lock = await make(made, factory.createLock());
      expect(await lock.locked()).toBe(false);
      expect(await lock.acquire()).toBe(true);
      expect(await lock.locked()).toBe(true);
      await lock.release();
      expect(await lock.locked()).toBe(false);
      expect((await failure(() => lock.release())).code).toBe(NOT_OWNED);
      expect(await lock.locked()).toBe(false);
      expect(await lock.acquire()).toBe(true);
      await lock.release();
    });

    test('blocking:false and timeout resolve false while held; bad options fail at once', async (made) => {
      const lock = await make(made, factory.createLock());
      await lock.acquire();
      expect(await lock.acquire({ blocking: false })).toBe(false);
      expect(await within(lock.acquire({ timeout: 20 }), LIMIT, 'timed acquire')).toBe(false);
      expect(await lock.acquire({ timeout: 0 })).toBe(false);
      const both = await failure(() => lock.acquire({ blocking: false, timeout: 5 }));
      expect(both).toBeInstanceOf(TypeError);
      expect(both.message).toMatch(/timeout/);
      const negative = await failure(() => lock.acquire({ timeout: -1 }));
      expect(negative).toBeInstanceOf(RangeError);
      expect(negative.message).toMatch(/timeout/);
      await lock.release();
      expect(await lock.acquire({ blocking: false })).toBe(true);
      await lock.release();
    });

    test('two tasks of one thread exclude each other; the waiter gets it on release', async (made) => {
      const lock = await make(made, factory.createLock());
      const order: string[] = [];
      await lock.acquire();
      const second = lock.acquire().then((ok) => {
        order.push(`second acquired ${ok}`);
      });
      await settle();
      order.push('first releases');
      await lock.release();
      await within(second, LIMIT, 'second acquire');
      expect(order).toEqual(['first releases', 'second acquired true']);
      await lock.release();
    });

    test('an aborted waiter rejects with the reason, leaves the queue and is never granted', async (made) => {
      const lock = await make(made, factory.createLock());
      await lock.acquire();
      const reason = new Error('stop');
      await expect(lock.acquire({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      const ac = new AbortController();
      const aborted = lock.acquire({ signal: ac.signal });
      const next = lock.acquire({ timeout: LIMIT });
      await settle();
      ac.abort(reason);
      await expect(aborted).rejects.toBe(reason);
      await lock.release();
      // The wake-up of the release goes to the live waiter, not the aborted one.
      expect(await within(next, LIMIT, 'waiter after an aborted one')).toBe(true);
      await lock.release();
      expect(await lock.locked()).toBe(false);
    });

    test('a release from another thread throws LockNotOwnedError and changes nothing', async (made) => {
      const lock = await make(made, factory.createLock());
      await lock.acquire();
      const p = await peer({ role: 'release' }, { target: lock });
      expect(await next(p, 'peer release')).toEqual({ error: NOT_OWNED });
      expect(await lock.locked()).toBe(true);
      await lock.release();
    });

    test('lock() guards and withLock release on every exit', async (made) => {
      const lock = await make(made, factory.createLock());
      {
        await using g = await lock.lock();
        expect(g.ownerDied).toBe(false);
        expect(await lock.locked()).toBe(true);
      }
      expect(await lock.locked()).toBe(false);
      expect(await lock.withLock(async () => 42)).toBe(42);
      await expect(
        lock.withLock(() => {
          throw new Error('inside');
        }),
      ).rejects.toThrow('inside');
      expect(await lock.locked()).toBe(false);
      await lock.acquire();
      expect((await failure(() => lock.lock({ timeout: 10 }))).code).toBe(ACQUIRE_TIMEOUT);
      expect((await failure(() => lock.withLock(() => 1, { blocking: false }))).code).toBe(ACQUIRE_TIMEOUT);
      await lock.release();
    });
  });

  describe('mutual exclusion under contention', () => {
    const kinds = ['Lock', 'RLock', 'Semaphore(1)', 'Condition'] as const;
    for (const kind of kinds) {
      for (const mode of modes) {
        test(`${kind}: ${factory.peers ?? 4} ${mode} peers and this thread keep a non-atomic counter exact`, async (made) => {
          const n = factory.peers ?? 4;
          const times = factory.increments ?? 1000;
          const lock =
            kind === 'Lock'
              ? await make(made, factory.createLock())
              : kind === 'RLock'
                ? await make(made, factory.createRLock())
                : kind === 'Semaphore(1)'
                  ? await make(made, factory.createSemaphore(1))
                  : await make(made, factory.createCondition(await make(made, factory.createLock())));
          const counter = await make(made, factory.createCounter());
          const started = await Promise.all(
            Array.from({ length: n }, () => peer({ role: 'increment', mode, times }, { lock, counter })),
          );
          const mine = Math.min(200, times);
          for (let i = 0; i < mine; i++) {
            await lock.acquire();
            const v = await counter.read();
            await settle(0);
            await counter.write(v + 1);
            await lock.release();
          }
          for (const p of started) expect(await next(p, 'increments')).toEqual({ done: times });
          expect(await counter.read()).toBe(n * times + mine);
        });
      }
    }
  });

  describe('model', () => {
    it(`random acquire/release sequences on a Lock and an RLock agree with a model (${runs} runs)`, async () => {
      type Model = { reentrant: boolean; holds: number };
      type Real = { lock: ContractLock };
      class TryAcquire implements fc.AsyncCommand<Model, Real> {
        check = () => true;
        async run(m: Model, r: Real) {
          const expected = m.holds === 0 || m.reentrant;
          expect(await r.lock.acquire({ blocking: false })).toBe(expected);
          if (expected) m.holds++;
          expect(await r.lock.locked()).toBe(m.holds > 0);
        }
        toString = () => 'acquire({ blocking: false })';
      }
      class Release implements fc.AsyncCommand<Model, Real> {
        check = () => true;
        async run(m: Model, r: Real) {
          if (m.holds === 0) {
            expect((await failure(() => r.lock.release())).code).toBe(NOT_OWNED);
          } else {
            await r.lock.release();
            m.holds--;
          }
          expect(await r.lock.locked()).toBe(m.holds > 0);
        }
        toString = () => 'release()';
      }
      await fc.assert(
        fc.asyncProperty(
          fc.boolean(),
          fc.commands([fc.constant(new TryAcquire()), fc.constant(new Release())], { maxCommands: 30 }),
          async (reentrant, cmds) => {
            const lock = await (reentrant ? factory.createRLock() : factory.createLock());
            try {
              await fc.asyncModelRun(() => ({ model: { reentrant, holds: 0 }, real: { lock } }), cmds);
            } finally {
              await factory.destroy?.(lock);
            }
          },
        ),
        { numRuns: runs },
      );
    });
  });
}
