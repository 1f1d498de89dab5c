/**
 * What every primitive does when a holder, waiter or party dies (RELIABILITY 21-27).
 */
import { describe, expect } from 'vitest';
import { BROKEN, LIMIT, type LockHarness, settle, within } from './harness.js';
import type { ContractAcquirable, ContractOwnerDiedInfo } from './types.js';

/** Owner death, for every primitive. */
export function ownerDeathParts(h: LockHarness): void {
  const { factory, modes, peer, next, test, make } = h;
  describe('owner death (RELIABILITY 21-27)', () => {
    const holders = [
      ['Lock', () => factory.createLock()],
      ['RLock', () => factory.createRLock()],
      ['Semaphore', () => factory.createSemaphore(1, { returnPermitsOfDeadHolders: true })],
      ['BoundedSemaphore', () => factory.createBoundedSemaphore(1, { returnPermitsOfDeadHolders: true })],
    ] as const;
    for (const [name, create] of holders) {
      for (const mode of modes) {
        test(`${name}: a ${mode} holder killed while holding: the next acquirer gets it and is told, once`, async (made) => {
          const target = await make<ContractAcquirable>(made, create());
          const holder = await peer({ role: 'hold', mode, depth: name === 'RLock' ? 2 : 1 }, { target });
          expect(await next(holder, 'held')).toEqual({ held: true });
          expect(await target.acquire({ blocking: false })).toBe(false);
          const told: ContractOwnerDiedInfo[] = [];
          const waiting = target.acquire({ timeout: LIMIT, onOwnerDied: (info) => told.push(info) });
          await holder.kill();
          expect(await within(waiting, LIMIT, 'acquire after the holder died')).toBe(true);
          expect(told).toHaveLength(1);
          expect(told[0]?.primitive).toBe(name);
          await target.release();
          // Told once: the next acquisition is an ordinary one.
          const again: ContractOwnerDiedInfo[] = [];
          {
            await using g = await target.lock({ onOwnerDied: (info) => again.push(info) });
            expect(g.ownerDied).toBe(false);
          }
          expect(again).toEqual([]);
        });
      }
    }

    test('a waiter in another thread takes over from a dead holder and is told', async (made) => {
      const lock = await make(made, factory.createLock());
      const holder = await peer({ role: 'hold', mode: 'async' }, { target: lock });
      expect(await next(holder, 'held')).toEqual({ held: true });
      const waiter = await peer(
        { role: 'acquire', mode: factory.syncPeers ? 'sync' : 'async', timeout: LIMIT },
        { target: lock },
      );
      expect(await next(waiter, 'waiting')).toEqual({ waiting: true });
      await settle();
      await holder.kill();
      expect(await next(waiter, 'waiter acquired')).toEqual({ acquired: true, ownerDied: true });
      expect(await next(waiter, 'waiter released')).toEqual({ released: true });
      await using g = await lock.lock({ timeout: LIMIT, onOwnerDied: () => undefined });
      expect(g.ownerDied).toBe(false);
    });

    test('an onOwnerDied handler that throws hands the lock back still abandoned: the next acquirer is told', async (made) => {
      const lock = await make(made, factory.createLock());
      const holder = await peer({ role: 'hold', mode: 'async' }, { target: lock });
      expect(await next(holder, 'held')).toEqual({ held: true });
      await holder.kill();
      const boom = new Error('cannot repair');
      await expect(
        lock.acquire({
          timeout: LIMIT,
          onOwnerDied: () => {
            throw boom;
          },
        }),
      ).rejects.toBe(boom);
      await using g = await lock.lock({ timeout: LIMIT, onOwnerDied: () => undefined });
      expect(g.ownerDied).toBe(true);
    });

    test('without a handler the takeover is announced as an OwnerDiedWarning', async (made) => {
      const lock = await make(made, factory.createLock());
      const holder = await peer({ role: 'hold', mode: 'async' }, { target: lock });
      expect(await next(holder, 'held')).toEqual({ held: true });
      await holder.kill();
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      try {
        expect(await within(lock.acquire({ timeout: LIMIT }), LIMIT, 'acquire')).toBe(true);
        await within(
          (async () => {
            while (warnings.length === 0) await settle(5);
          })(),
          LIMIT,
          'warning',
        );
      } finally {
        process.off('warning', onWarning);
      }
      expect(warnings[0]?.name).toBe('OwnerDiedWarning');
      expect((warnings[0] as Error & { code?: string }).code).toBe('ERR_CONC_OWNER_DIED');
      await lock.release();
    });

    test('by default a semaphore keeps the permits a dead holder took (it has no owner, as in Python)', async (made) => {
      const s = await make(made, factory.createSemaphore(1));
      const holder = await peer({ role: 'hold', mode: 'async' }, { target: s });
      expect(await next(holder, 'held')).toEqual({ held: true });
      await holder.kill();
      let told = 0;
      const onOwnerDied = () => void told++;
      expect(await within(s.acquire({ timeout: 300, onOwnerDied }), LIMIT, 'acquire')).toBe(false);
      // A permit released by anyone is what lets the next acquirer in.
      await s.release();
      expect(await s.acquire({ blocking: false, onOwnerDied })).toBe(true);
      expect(told).toBe(0);
    });

    test('with returnPermitsOfDeadHolders a semaphore gets back every permit of a holder that died', async (made) => {
      const s = await make(made, factory.createSemaphore(3, { returnPermitsOfDeadHolders: true }));
      const holder = await peer({ role: 'hold', mode: 'async', depth: 2 }, { target: s });
      expect(await next(holder, 'held')).toEqual({ held: true });
      expect(await s.acquire({ blocking: false })).toBe(true);
      expect(await s.acquire({ blocking: false })).toBe(false);
      await holder.kill();
      let told = 0;
      const onOwnerDied = () => void told++;
      expect(await within(s.acquire({ timeout: LIMIT, onOwnerDied }), LIMIT, 'first recovered')).toBe(true);
      expect(await s.acquire({ timeout: LIMIT, onOwnerDied })).toBe(true);
      expect(await s.acquire({ blocking: false })).toBe(false);
      expect(told).toBe(2);
    });

    for (const mode of modes) {
      test(`a ${mode} waiter killed inside its wait does not swallow the next wake-up`, async (made) => {
        const lock = await make(made, factory.createLock());
        await lock.acquire();
        const doomed = await peer({ role: 'acquire', mode, timeout: LIMIT }, { target: lock });
        expect(await next(doomed, 'doomed waiting')).toEqual({ waiting: true });
        const survivor = await peer({ role: 'acquire', mode, timeout: LIMIT }, { target: lock });
        expect(await next(survivor, 'survivor waiting')).toEqual({ waiting: true });
        await settle(50);
        await doomed.kill();
        await lock.release();
        expect(await next(survivor, 'survivor acquired')).toEqual({ acquired: true, ownerDied: false });
        expect(await next(survivor, 'survivor released')).toEqual({ released: true });
        expect(await lock.acquire({ timeout: LIMIT })).toBe(true);
        await lock.release();
      });
    }

    test('a condition waiter killed while waiting never takes a notification', async (made) => {
      const cond = await make(made, factory.createCondition(await make(made, factory.createLock())));
      const counter = await make(made, factory.createCounter());
      const doomed = await peer({ role: 'condWait', mode: 'async' }, { cond, counter });
      expect(await next(doomed, 'doomed waiting')).toEqual({ waiting: true });
      const survivor = await peer({ role: 'condWait', mode: 'async' }, { cond, counter });
      expect(await next(survivor, 'survivor waiting')).toEqual({ waiting: true });
      await cond.acquire();
      await cond.release();
      await doomed.kill();
      await cond.acquire();
      await cond.notify(1);
      await cond.release();
      expect(await next(survivor, 'survivor woke')).toEqual({ woke: true });
      expect(await counter.read()).toBe(1);
    });

    test('a barrier party killed while waiting breaks it for the others', async (made) => {
      const b = await make(made, factory.createBarrier(3));
      const doomed = await peer({ role: 'barrierWait', mode: 'async' }, { barrier: b });
      expect(await next(doomed, 'doomed waiting')).toEqual({ waiting: true });
      const other = await peer(
        { role: 'barrierWait', mode: factory.syncPeers ? 'sync' : 'async' },
        { barrier: b },
      );
      expect(await next(other, 'other waiting')).toEqual({ waiting: true });
      await within(
        (async () => {
          while ((await b.nWaiting) < 2) await settle(5);
        })(),
        LIMIT,
        'both parties waiting',
      );
      await doomed.kill();
      expect(await next(other, 'other broken')).toEqual({ error: BROKEN });
      expect(await b.broken).toBe(true);
      await b.reset();
      const all = [0, 1, 2].map(() => b.wait({ timeout: LIMIT }));
      expect((await within(Promise.all(all), LIMIT, 'after reset')).sort()).toEqual([0, 1, 2]);
    });
  });
}
