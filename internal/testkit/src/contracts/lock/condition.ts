/**
 * The Condition part: wait/notify exactness, timeouts, aborts, RLock holds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failure, LIMIT, type LockHarness, NOT_OWNED, settle, within } from './harness.js';
import type { ContractWaitOptions } from './types.js';

/** Condition. */
export function conditionParts(h: LockHarness): void {
  const { factory, modes, runs, peer, next, test, make } = h;
  describe('Condition', () => {
    test('wait and notify without holding the lock throw LockNotOwnedError', async (made) => {
      const cond = await make(made, factory.createCondition(await make(made, factory.createLock())));
      expect((await failure(() => cond.wait({ timeout: 10 }))).code).toBe(NOT_OWNED);
      expect((await failure(() => cond.notify())).code).toBe(NOT_OWNED);
      expect((await failure(() => cond.notifyAll())).code).toBe(NOT_OWNED);
    });

    test('wait({ timeout }) returns false holding the lock again and consumes no later notification', async (made) => {
      const lock = await make(made, factory.createLock());
      const cond = await make(made, factory.createCondition(lock));
      await cond.acquire();
      expect(await within(cond.wait({ timeout: 20 }), LIMIT, 'timed wait')).toBe(false);
      expect(await lock.locked()).toBe(true);
      await cond.release();
      // A waiter that timed out must not swallow the notify meant for the next one.
      const counter = await make(made, factory.createCounter());
      const late = await peer({ role: 'condWait', mode: 'async', timeout: 30 }, { cond, counter });
      expect(await next(late, 'late waiting')).toEqual({ waiting: true });
      expect(await next(late, 'late timed out')).toEqual({ woke: false });
      const waiter = await peer({ role: 'condWait', mode: 'async' }, { cond, counter });
      expect(await next(waiter, 'waiter waiting')).toEqual({ waiting: true });
      await cond.acquire(); // the waiter released it inside wait(): it is queued
      await cond.notify(1);
      await cond.release();
      expect(await next(waiter, 'waiter woke')).toEqual({ woke: true });
      expect(await counter.read()).toBe(1);
    });

    test('an aborted wait rejects holding the lock again, and passes on a notification it had got', async (made) => {
      const cond = await make(made, factory.createCondition(await make(made, factory.createLock())));
      const ac = new AbortController();
      const reason = new Error('stop');
      let inWait = 0;
      const waiter = async (options: ContractWaitOptions) => {
        await cond.acquire();
        try {
          const waiting = cond.wait(options);
          inWait++;
          return await waiting;
        } finally {
          await cond.release();
        }
      };
      await expect(waiter({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      inWait = 0;
      const aborted = waiter({ signal: ac.signal });
      const other = waiter({ timeout: LIMIT });
      // Both must be queued before the notify, or it has no one to go on to: a
      // fixed pause was too short under load. A waiter is queued once it has
      // called wait() and let the lock go, so: both called it, then take the lock.
      await within(
        (async () => {
          while (inWait < 2) await settle(5);
        })(),
        LIMIT,
        'both waiters in wait()',
      );
      await cond.acquire(); // both released it inside wait(): both are queued
      await cond.notify(1); // the longest waiting: the one about to be aborted
      ac.abort(reason);
      await cond.release();
      await expect(within(aborted, LIMIT, 'aborted wait')).rejects.toBe(reason);
      expect(await within(other, LIMIT, 'the other waiter')).toBe(true);
    });

    for (const mode of modes) {
      test(`notify(1) wakes exactly one of three ${mode} waiters; notifyAll the rest`, async (made) => {
        const cond = await make(made, factory.createCondition(await make(made, factory.createLock())));
        const counter = await make(made, factory.createCounter());
        const waiters = [];
        for (let i = 0; i < 3; i++) {
          const w = await peer({ role: 'condWait', mode }, { cond, counter });
          expect(await next(w, 'waiting')).toEqual({ waiting: true });
          waiters.push(w);
        }
        await cond.acquire(); // every waiter is inside wait() once the lock is free again
        await cond.notify(1);
        await cond.release();
        await within(
          (async () => {
            while ((await counter.read()) < 1) await settle(5);
          })(),
          LIMIT,
          'one waiter woken',
        );
        await settle(50);
        expect(await counter.read()).toBe(1);
        await cond.acquire();
        await cond.notifyAll();
        await cond.release();
        for (const w of waiters) expect(await next(w, 'woke')).toEqual({ woke: true });
        expect(await counter.read()).toBe(3);
      });

      test(`no lost wake-ups: ${mode} consumers and a producer notifying one per item`, async (made) => {
        const cond = await make(made, factory.createCondition(await make(made, factory.createLock())));
        const counter = await make(made, factory.createCounter());
        const items = 200;
        const consumers = await Promise.all(
          [0, 1, 2].map(() => peer({ role: 'consume', mode, items }, { cond, counter })),
        );
        for (let i = 0; i < items * 3; i++) {
          await cond.acquire();
          await counter.write((await counter.read()) + 1);
          await cond.notify(1);
          await cond.release();
          if (i % 50 === 0) await settle(0);
        }
        for (const c of consumers) expect(await next(c, 'consumed')).toEqual({ consumed: items });
        expect(await counter.read()).toBe(0);
      });
    }

    it(`scheduler: any interleaving of in-thread waiters and notifiers loses no wake-up (${runs} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 3 }),
          async (s, consumers, perConsumer) => {
            const lock = await factory.createLock();
            const cond = await factory.createCondition(lock);
            let available = 0;
            let consumed = 0;
            const step = (label: string) => s.schedule(Promise.resolve(label));
            const consume = async () => {
              for (let i = 0; i < perConsumer; i++) {
                await step('consumer acquires');
                await cond.acquire();
                try {
                  await step('consumer waits');
                  expect(await cond.waitFor(() => available > 0, { timeout: LIMIT })).toBe(true);
                  available--;
                  consumed++;
                } finally {
                  await cond.release();
                }
              }
            };
            const produce = async () => {
              for (let i = 0; i < consumers * perConsumer; i++) {
                await step('producer acquires');
                await cond.acquire();
                available++;
                await step('producer notifies');
                await cond.notify(1);
                await cond.release();
              }
            };
            try {
              await s.waitFor(
                within(
                  Promise.all([...Array.from({ length: consumers }, consume), produce()]),
                  LIMIT,
                  'scheduled consumers and producer',
                ),
              );
              expect(consumed).toBe(consumers * perConsumer);
              expect(available).toBe(0);
            } finally {
              await factory.destroy?.(cond);
              await factory.destroy?.(lock);
            }
          },
        ),
        { numRuns: runs },
      );
    });

    test('works on an RLock held several times: wait releases every hold and restores them', async (made) => {
      const r = await make(made, factory.createRLock());
      const cond = await make(made, factory.createCondition(r));
      await r.acquire();
      await r.acquire();
      const waiting = cond.wait({ timeout: LIMIT });
      // Another thread can take the lock while this one waits: every hold was released.
      const other = await peer({ role: 'acquire', mode: 'async', timeout: LIMIT }, { target: r });
      expect(await next(other, 'waiting')).toEqual({ waiting: true });
      expect(await next(other, 'other acquired')).toEqual({ acquired: true, ownerDied: false });
      expect(await next(other, 'other released')).toEqual({ released: true });
      const notifier = await peer({ role: 'notify' }, { cond });
      expect(await next(notifier, 'notified')).toEqual({ notified: true });
      expect(await within(waiting, LIMIT, 'rlock wait')).toBe(true);
      await r.release();
      expect(await r.locked()).toBe(true);
      await r.release();
      expect(await r.locked()).toBe(false);
    });
  });
}
