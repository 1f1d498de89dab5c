/**
 * Block reuse and the lock-free empty get, checked against a model:
 * - a put reuses a block a take released (or frees some released blocks in
 *   passing); takes leave up to about 64 KiB of a thread's released blocks
 *   for puts to reuse (README, "Memory");
 * - a put copies straight from the codec's buffer (`encodeRange`) for small
 *   items and takes the large-copy path above 4 KiB;
 * - a get on an empty queue (answered without taking the lock) still says
 *   EMPTY exactly when the model is empty, from any handle, between puts and
 *   gets in any order. (That it skips the lock is not observable here.)
 */
import { share } from '@conc/serialize';
import { fixture, noise, startWorker, type TrackedWorker, within } from '@conc/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isEmptyError, LifoQueue, PriorityQueue, Queue } from '../src/index.js';

type Item = [number, Uint8Array];
type Kind = 'fifo' | 'lifo' | 'priority';

/** The README's bound on what a getting thread's takes leave allocated for reuse. */
const KEPT_PER_GETTER = 64 * 1024;
const CAPACITY = 512 * 1024;
/** Largest item the model puts: above INLINE_MAX (4 KiB), so it takes the large-copy path. */
const LARGE_MAX = 70_000;

/** Bytes that depend on a seed and never repeat a stretch of themselves, to check an item arrives intact. */
const pattern = (size: number, seed: number): Uint8Array => new Uint8Array(noise(size, seed));

const sameBytes = (a: unknown, b: Uint8Array) => a instanceof Uint8Array && Buffer.compare(a, b) === 0;

function make(
  kind: Kind,
): [Queue<Item> | LifoQueue<Item> | PriorityQueue<Item>, Queue<Item> | LifoQueue<Item>] {
  if (kind === 'fifo') {
    const q = new Queue<Item>({ capacityBytes: CAPACITY });
    return [q, Queue.attach<Item>(share(q))];
  }
  if (kind === 'lifo') {
    const q = new LifoQueue<Item>({ capacityBytes: CAPACITY });
    return [q, LifoQueue.attach<Item>(share(q))];
  }
  const q = new PriorityQueue<Item>({ capacityBytes: CAPACITY });
  return [q, PriorityQueue.attach(share(q)) as unknown as Queue<Item>];
}

/** Which model item the queue hands out next. */
function nextIndex(kind: Kind, model: readonly Item[]): number {
  if (kind === 'fifo') return 0;
  if (kind === 'lifo') return model.length - 1;
  let at = 0;
  for (let k = 1; k < model.length; k++) if (model[k]![0] < model[at]![0]) at = k;
  return at;
}

type Op = { put: number; via: 0 | 1 } | { get: number; via: 0 | 1 } | { emptyGet: 0 | 1 };

const via = fc.constantFrom<0 | 1>(0, 1);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ put: fc.integer({ min: 0, max: 200 }), via }) },
  { weight: 1, arbitrary: fc.record({ put: fc.integer({ min: 200, max: 4000 }), via }) },
  { weight: 1, arbitrary: fc.record({ put: fc.integer({ min: 4200, max: LARGE_MAX }), via }) },
  { weight: 4, arbitrary: fc.record({ get: fc.integer({ min: 1, max: 4 }), via }) },
  { weight: 1, arbitrary: fc.record({ emptyGet: via }) },
);

describe('released blocks and the empty get (model)', () => {
  it('mixed sizes across FIFO, LIFO and priority queues: items intact, usedBytes bounded after every fill/drain cycle', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Kind>('fifo', 'lifo', 'priority'),
        fc.array(op, { maxLength: 60 }),
        (kind, ops) => {
          const handles = make(kind);
          const model: Item[] = [];
          /** Encoded size of each model item: what its block holds at least. */
          const sizes = new Map<Item, number>();
          let seed = 0;
          let queued = 0;
          const codec = handles[0].codec;

          const take = (h: 0 | 1, max: number) => {
            const got = handles[h].getManySync(max, { block: false });
            for (const g of got) {
              const [want] = model.splice(nextIndex(kind, model), 1);
              expect(g[0]).toBe(want![0]);
              expect(sameBytes(g[1], want![1])).toBe(true);
              queued -= sizes.get(want!)!;
            }
          };
          const checkBytes = () => {
            const used = handles[0].usedBytes;
            expect(used).toBe(handles[1].usedBytes);
            expect(used).toBeLessThanOrEqual(CAPACITY);
            expect(used).toBeGreaterThanOrEqual(queued);
          };

          // The same operations three times over: fill/drain cycles.
          for (let round = 0; round < 3; round++) {
            for (const o of ops) {
              if ('put' in o) {
                const it: Item = [seed % 7, pattern(o.put, seed)];
                seed++;
                try {
                  handles[o.via].putNowait(it);
                  model.push(it);
                  const size = codec.encode(it).length;
                  sizes.set(it, size);
                  queued += size;
                } catch (err) {
                  // Full only when the bytes really are short (a put may find them in released blocks).
                  expect((err as { code?: string }).code).toBe('ERR_CONC_QUEUE_FULL');
                  expect(handles[0].usedBytes + o.put).toBeGreaterThan(CAPACITY / 4);
                }
              } else if ('get' in o) {
                if (model.length > 0) take(o.via, o.get);
                else
                  expect(() => handles[o.via].getNowait()).toThrow(
                    expect.objectContaining({ code: 'ERR_CONC_QUEUE_EMPTY' }),
                  );
              } else {
                if (model.length === 0) {
                  let err: unknown;
                  try {
                    handles[o.emptyGet].getNowait();
                  } catch (e) {
                    err = e;
                  }
                  expect(isEmptyError(err)).toBe(true);
                } else take(o.emptyGet, 1);
              }
              checkBytes();
            }
            // Drain through both handles, then the empty get answers EMPTY on each.
            let h: 0 | 1 = 0;
            while (model.length > 0) {
              take(h, 3);
              h = h === 0 ? 1 : 0;
              checkBytes();
            }
            expect(handles[0].qsize()).toBe(0);
            for (const q of handles)
              expect(() => q.getNowait()).toThrow(expect.objectContaining({ code: 'ERR_CONC_QUEUE_EMPTY' }));
            // A few more put/get cycles free or reuse what the takes left.
            for (let k = 0; k < 8; k++) {
              for (const q of handles) {
                const it: Item = [k, pattern(40, k)];
                q.putNowait(it);
                const back = q.getNowait();
                expect(sameBytes(back[1], it[1])).toBe(true);
              }
            }
            expect(handles[0].qsize()).toBe(0);
            const used = handles[0].usedBytes;
            // About 64 KiB per getting thread (two handles here), plus the last large block a take released.
            expect(used).toBeLessThanOrEqual(2 * KEPT_PER_GETTER + LARGE_MAX + 1024);
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  it('thousands of items taken one at a time: a drained queue keeps at most about 64 KiB per getting thread', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Kind>('fifo', 'lifo', 'priority'),
        fc.array(
          fc.record({
            count: fc.integer({ min: 200, max: 2500 }),
            small: fc.integer({ min: 0, max: 1500 }),
            largeEvery: fc.integer({ min: 0, max: 40 }),
            getters: fc.constantFrom<1 | 2>(1, 2),
          }),
          { minLength: 2, maxLength: 3 },
        ),
        (kind, rounds) => {
          const handles = make(kind);
          let seed = 0;
          let getters = 1;
          for (const r of rounds) {
            getters = Math.max(getters, r.getters);
            const sent: Item[] = [];
            for (let i = 0; i < r.count; i++) {
              // Mostly small items; every largeEvery-th one takes the large-copy path.
              const size =
                r.largeEvery > 0 && i % r.largeEvery === r.largeEvery - 1
                  ? 4200 + ((i * 977) % 20_000)
                  : r.small;
              const it: Item = [0, pattern(size, seed++)];
              try {
                handles[(i % 2) as 0 | 1].putNowait(it);
              } catch (err) {
                expect((err as { code?: string }).code).toBe('ERR_CONC_QUEUE_FULL');
                break;
              }
              sent.push(it);
              expect(handles[0].usedBytes).toBeLessThanOrEqual(CAPACITY);
            }
            let h: 0 | 1 = 0;
            for (let i = 0; i < sent.length; i++) {
              const got = handles[h].getNowait();
              const want = kind === 'lifo' ? sent[sent.length - 1 - i]! : sent[i]!;
              if (!sameBytes(got[1], want[1])) throw new Error(`item ${i} of the round changed`);
              if (r.getters === 2) h = h === 0 ? 1 : 0;
            }
            expect(handles[0].qsize()).toBe(0);
            // Right after the drain, takes have freed nothing since their last ~64 KiB and the large
            // blocks that crossed it: bounded, not yet within the README's figure.
            expect(handles[0].usedBytes).toBeLessThanOrEqual(2 * getters * KEPT_PER_GETTER);
            // A few puts later: about 64 KiB per thread that ever took, plus one large block.
            const kept = getters * KEPT_PER_GETTER + 28 * 1024;
            for (let k = 0; k < 8; k++) {
              for (const q of handles) {
                q.putNowait([k, pattern(40, k)]);
                expect(sameBytes(q.getNowait()[1], pattern(40, k))).toBe(true);
              }
            }
            expect(handles[0].usedBytes).toBeLessThanOrEqual(kept);
          }
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('mixed sizes across real worker threads', () => {
  const peer = fixture(import.meta.url, 'mixed-peer.mjs');

  it('2 producers and 2 consumers: every item arrives exactly once and intact (SHA-1), memory comes back', async () => {
    // Small enough that large items fill it: puts wait for room and reuse what takes released.
    const q = new Queue<unknown>({ capacityBytes: 1024 * 1024 });
    const token = share(q);
    const count = 500;
    const workers: TrackedWorker[] = [];
    try {
      const start = (task: object) => {
        const w = startWorker(peer, { workerData: { token, task } });
        workers.push(w);
        return w;
      };
      const consumers = [start({ role: 'consume' }), start({ role: 'consume' })];
      const producers = [
        start({ role: 'produce', producer: 1, count, seed: 11 }),
        start({ role: 'produce', producer: 2, count, seed: 22 }),
      ];
      await within(Promise.all(workers.map((w) => w.nextMessage())), 15_000, 'workers ready');
      const produced = await within(
        Promise.all(producers.map((w) => w.nextMessage<{ produced: number }>(15_000))),
        15_000,
        'producers done',
      );
      expect(produced).toEqual([{ produced: count }, { produced: count }]);
      // One end marker per consumer, after every item (FIFO).
      await q.put(null);
      await q.put(null);
      const results = await within(
        Promise.all(consumers.map((w) => w.nextMessage<{ ids: number[]; bad: [number, number][] }>(15_000))),
        15_000,
        'consumers done',
      );
      expect(results.flatMap((r) => r.bad)).toEqual([]);
      const ids = results.flatMap((r) => r.ids).sort((a, b) => a - b);
      const want: number[] = [];
      for (const p of [1, 2]) for (let i = 0; i < count; i++) want.push(p * 1_000_000 + i);
      expect(ids).toEqual(want);
      expect(q.qsize()).toBe(0);
      // Two consumer threads took; after a few puts, about 64 KiB each (and this thread's) at most.
      for (let k = 0; k < 8; k++) {
        await q.put({ k });
        expect(await q.get()).toEqual({ k });
      }
      expect(q.usedBytes).toBeLessThanOrEqual(3 * KEPT_PER_GETTER + 110 * 1024);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});

describe('released blocks after batched gets', () => {
  for (const batch of [16, 256]) {
    it(`getManySync(${batch}): memory left after a drain is freed by later puts and never grows across rounds`, () => {
      const q = new Queue<Uint8Array>({ capacityBytes: 16 << 20 });
      const round = () => {
        for (let i = 0; i < 4000; i++) q.putNowait(new Uint8Array(1000));
        const peak = q.usedBytes;
        while (q.qsize() > 0) q.getManySync(batch, { block: false });
        return { peak, left: q.usedBytes };
      };
      const first = round();
      // Batches release blocks faster than a take frees them: some stay allocated...
      expect(first.left).toBeLessThan(first.peak / 2);
      // ...and later puts free them a few blocks at a time.
      for (let k = 0; k < 1000; k++) {
        q.putNowait(new Uint8Array(40));
        q.getNowait();
      }
      expect(q.usedBytes).toBeLessThanOrEqual(64 * 1024 + 4096);
      const second = round();
      expect(second.left).toBeLessThanOrEqual(first.left + 64 * 1024);
    });
  }
});
