/**
 * Whose permits come back when a thread ends (issue 14, finding 13). A
 * Semaphore has no owner in Python: by default a permit stays taken whatever
 * happens to the thread that took it, so a signal a consumer took is never
 * handed back. `returnPermitsOfDeadHolders: true` is the resource pool: a
 * thread that ends holding permits (terminated, or finished without releasing)
 * gives them back, and the acquirer that gets one is told.
 */
import { share } from '@conc/serialize';
import { fixture, startWorker, within } from '@conc/testkit';
import { describe, expect, it } from 'vitest';
import { BoundedSemaphore, type OwnerDiedInfo, Semaphore } from '../src/index.js';

const LIMIT = 10_000;
const taker = fixture(import.meta.url, 'sem-taker.mjs');

/** A worker takes one permit, then ends normally ('end') or is terminated ('terminate'). */
async function takeAndEnd(sem: Semaphore, how: 'end' | 'terminate'): Promise<number> {
  await using w = startWorker(taker, {
    workerData: { sem: share(sem), afterTaking: how === 'end' ? 'end' : 'hold' },
  });
  expect(await w.nextMessage()).toEqual({ took: true });
  const threadId = w.threadId;
  if (how === 'terminate') await w.terminate();
  else expect(await within(w.exited, LIMIT, 'taker exit')).toBe(0);
  return threadId;
}

describe('Semaphore as a signal (the default): a consumed permit stays consumed', () => {
  for (const how of ['end', 'terminate'] as const) {
    it(`Semaphore(0): main releases once, a worker takes it and ${how === 'end' ? 'finishes normally' : 'is terminated'}; main never gets it back`, async () => {
      const signal = new Semaphore(0);
      signal.release();
      await takeAndEnd(signal, how);
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      try {
        expect(await signal.acquire({ timeout: 500 })).toBe(false);
      } finally {
        process.off('warning', onWarning);
      }
      expect(signal.value).toBe(0);
      expect(warnings).toEqual([]);
    });
  }
});

describe('Semaphore as a resource pool: { returnPermitsOfDeadHolders: true }', () => {
  for (const how of ['end', 'terminate'] as const) {
    it(`a worker that ${how === 'end' ? 'finishes without releasing' : 'is terminated holding'} a permit gives it back, and the next acquirer is told`, async () => {
      const pool = new BoundedSemaphore(1, { returnPermitsOfDeadHolders: true, maxHolders: 4 });
      const threadId = await takeAndEnd(pool, how);
      const told: OwnerDiedInfo[] = [];
      expect(
        await within(pool.acquire({ timeout: LIMIT, onOwnerDied: (i) => told.push(i) }), LIMIT, 'acquire'),
      ).toBe(true);
      expect(told).toEqual([{ primitive: 'BoundedSemaphore', threadId, recovered: 1 }]);
      pool.release();
      expect(pool.value).toBe(1);
    });
  }

  it('the choice is stored in the memory: an object attached without options follows it, one asking otherwise is refused', () => {
    const pool = new Semaphore(2, { returnPermitsOfDeadHolders: true, maxHolders: 2 });
    const at = { buffer: pool.buffer, byteOffset: pool.byteOffset };
    expect(new Semaphore(0, at).value).toBe(2);
    expect(() => new Semaphore(0, { ...at, returnPermitsOfDeadHolders: false })).toThrow(
      expect.objectContaining({ code: 'ERR_CONC_FOREIGN_BUFFER' }),
    );
    expect(Semaphore.byteLength()).toBeLessThan(Semaphore.byteLength({ returnPermitsOfDeadHolders: true }));
    expect(() => new Semaphore(1, { maxHolders: 4 })).toThrow(
      /maxHolders .* needs returnPermitsOfDeadHolders: true/,
    );
  });
});
