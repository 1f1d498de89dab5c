import { fileURLToPath } from 'node:url';
import { attach, DeserializationError, isTokenError, jsonCodec, share, TokenError } from '@conc/serialize';
import { fixture, noise, spawnProcess, startWorker, within } from '@conc/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GetDeserializationError,
  type ItemTooLargeError,
  isEmptyError,
  isGetDeserializationError,
  isItemTooLargeError,
  isShutDownError,
  LifoQueue,
  PriorityQueue,
  Queue,
  SimpleQueue,
} from '../src/index.js';

const peer = fixture(import.meta.url, 'queue-peer.mjs');

/** Compares bytes (vitest's deep equality walks typed arrays element by element, slowly). */
function sameBytes(a: unknown, b: Uint8Array): boolean {
  return a instanceof Uint8Array && Buffer.compare(a, b) === 0;
}

/** Bytes that depend on a seed and never repeat a stretch of themselves, to check an item arrives intact. */
const pattern = (size: number, seed: number): Uint8Array => new Uint8Array(noise(size, seed));

describe('share and attach', () => {
  it('a token names the kind and rebuilds a queue over the same shared memory', async () => {
    const q = new Queue<string>({ maxsize: 3 });
    const token = share(q);
    expect(token.kind).toBe('queue.thread.Queue');
    const same = attach(token);
    expect(same).toBeInstanceOf(Queue);
    expect(same.maxsize).toBe(3);
    await q.put('a');
    expect(await same.get()).toBe('a');
    expect(share(new LifoQueue()).kind).toBe('queue.thread.LifoQueue');
    expect(share(new PriorityQueue()).kind).toBe('queue.thread.PriorityQueue');
    expect(share(new SimpleQueue()).kind).toBe('queue.thread.SimpleQueue');
    expect(LifoQueue.attach(share(new LifoQueue()))).toBeInstanceOf(LifoQueue);
  });

  it('refuses a token of another kind, a foreign buffer and an unknown codec with clear errors', () => {
    const lifo = share(new LifoQueue());
    expect(() => Queue.attach(lifo)).toThrow(/expected a queue.thread.Queue token/);
    // Queue.attach and LifoQueue.attach read the token themselves: the same version check as attach().
    for (const v of [2, Number.NaN, '1', 0]) {
      for (const [cls, made] of [
        [Queue, new Queue()],
        [LifoQueue, new LifoQueue()],
        [SimpleQueue, new SimpleQueue()],
        [PriorityQueue, new PriorityQueue()],
      ] as const) {
        const bad = { ...share(made), v } as never;
        expect(() => cls.attach(bad), `${cls.name} v=${String(v)}`).toThrow(TokenError);
        expect(() => attach(bad), `attach v=${String(v)}`).toThrow(TokenError);
      }
    }
    const forged = {
      ...share(new Queue()),
      data: { buffer: new SharedArrayBuffer(65536), codec: 'msgpack' },
    };
    const err = (() => {
      try {
        attach(forged);
      } catch (e) {
        return e;
      }
    })();
    expect(isTokenError(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/not a conc queue buffer/);
    const wrongKind = { ...share(new Queue()), data: { ...(share(new LifoQueue()).data as object) } };
    expect(() => attach(wrongKind)).toThrow(/different kind of queue/);
    const unknownCodec = {
      ...share(new Queue()),
      data: { ...(share(new Queue()).data as object), codec: 'nope' },
    };
    expect(() => attach(unknownCodec)).toThrow(/codec "nope" is not known/);
  });

  it('carries the codec by name: a json queue decodes as json in another thread', async () => {
    const q = new Queue({ codec: 'json' });
    expect(q.codec.name).toBe('json');
    const w = startWorker(peer, { workerData: { token: share(q), task: { role: 'getOne', mode: 'sync' } } });
    try {
      await w.nextMessage();
      await q.put({ n: 1, list: [1, 'two'] });
      expect(await w.nextMessage()).toEqual({ item: { n: 1, list: [1, 'two'] } });
    } finally {
      await w.terminate();
    }
  });
});

describe('options', () => {
  it('validates maxsize, capacityBytes and codec up front', () => {
    expect(() => new Queue({ maxsize: 1.5 })).toThrow(RangeError);
    expect(() => new Queue({ capacityBytes: 1000 })).toThrow(/capacityBytes/);
    expect(() => new Queue({ capacityBytes: 2 ** 40 })).toThrow(/capacityBytes/);
    expect(() => new Queue({ codec: 'nope' as 'json' })).toThrow(/unknown codec/);
    expect(new Queue({ maxsize: -5 }).maxsize).toBe(0); // Python: 0 or less is unbounded
  });

  it('the sync calls work on any thread, with timeouts', () => {
    const q = new Queue<number>({ maxsize: 1 });
    q.putSync(1);
    expect(() => q.putSync(2, { timeout: 10 })).toThrow(
      expect.objectContaining({ code: 'ERR_CONC_QUEUE_FULL' }),
    );
    expect(q.getSync()).toBe(1);
    let err: unknown;
    try {
      q.getSync({ timeout: 10 });
    } catch (e) {
      err = e;
    }
    expect(isEmptyError(err)).toBe(true);
    q.putManySync([5]);
    expect(q.getManySync(3)).toEqual([5]);
    expect(q.joinSync({ timeout: 0 })).toBe(false);
    q.taskDone();
    q.taskDone();
    expect(q.joinSync()).toBe(true);
  });

  it('isShutDown tells every thread the queue was shut down', async () => {
    const q = new SimpleQueue();
    const other = attach(share(q));
    expect(other.isShutDown).toBe(false);
    q.shutdown();
    expect(other.isShutDown).toBe(true);
    await expect(other.put(1)).rejects.toSatisfy(isShutDownError);
  });
});

describe('PriorityQueue priorities', () => {
  it('orders by a key function computed in the putting thread', async () => {
    const q = new PriorityQueue<{ job: string; urgency: number }>({ key: (x) => -x.urgency });
    await q.putMany([
      { job: 'low', urgency: 1 },
      { job: 'high', urgency: 9 },
      { job: 'mid', urgency: 5 },
    ]);
    expect((await q.getMany(3)).map((x) => x.job)).toEqual(['high', 'mid', 'low']);
  });

  it('a keyed queue attached without its key refuses puts and still serves gets', async () => {
    const q = new PriorityQueue<{ n: number }>({ key: (x) => x.n });
    await q.put({ n: 2 });
    const bare = attach(share(q));
    await expect(bare.put({ n: 1 })).rejects.toThrow(/key function/);
    const keyed = PriorityQueue.attach(share(q), { key: (x: { n: number }) => x.n });
    await keyed.put({ n: 1 });
    expect(await bare.getMany(2)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(() => PriorityQueue.attach(share(new PriorityQueue()), { key: () => 1 })).toThrow(/not a key/);
  });

  it('an item without a usable priority fails its put with a TypeError; nothing is enqueued', async () => {
    const q = new PriorityQueue();
    await expect(q.put({ not: 'a pair' })).rejects.toThrow(/cannot take a priority/);
    await expect(q.put([{ obj: 1 }, 'data'])).rejects.toThrow(/priority is an object/);
    await expect(q.put([])).rejects.toThrow(TypeError);
    await expect(
      q.putMany([
        [1, 'ok'],
        [null, 'bad'],
      ]),
    ).rejects.toThrow(TypeError);
    expect(q.qsize()).toBe(0);
  });
});

describe('items that cannot be decoded', () => {
  /** A codec that refuses to decode one value, as if that item were corrupt. */
  const picky = {
    name: 'picky-test',
    encode: (v: unknown) => jsonCodec.encode(v),
    decode(b: Uint8Array) {
      const v = jsonCodec.decode(b);
      if (v === 'bad') throw new Error('cannot decode this one');
      return v;
    },
  };
  type Undecodable = Error & { code: string; taken: number; items: unknown[]; cause: Error };

  it('a batched get keeps what decoded (error.items), says how many it took, and join still ends', async () => {
    const q = new Queue<string>({ codec: picky });
    await q.putMany(['a', 'bad', 'c', 'd']);
    const err = (await q.getMany(10).catch((e: unknown) => e)) as Undecodable;
    expect(err.code).toBe('ERR_CONC_DESERIALIZATION');
    // Typed: a DeserializationError that is also a GetDeserializationError with items and taken.
    expect(err).toBeInstanceOf(DeserializationError);
    expect(err).toBeInstanceOf(GetDeserializationError);
    expect(isGetDeserializationError<string>(err) && err.items.join()).toBe('a,c,d');
    expect([err.taken, err.items, err.cause.message]).toEqual([4, ['a', 'c', 'd'], 'cannot decode this one']);
    expect(q.qsize()).toBe(0);
    for (let i = 0; i < err.taken; i++) q.taskDone();
    expect(await within(q.join({ timeout: 5000 }), 10_000, 'join')).toBe(true);
    // The queue goes on.
    await q.put('e');
    expect(q.getManySync(5)).toEqual(['e']);
  });

  it('a single get of such an item fails with taken 1 and no items, and the next get goes on', async () => {
    const q = new Queue<string>({ codec: picky });
    await q.putMany(['bad', 'ok']);
    const err = (() => {
      try {
        q.getSync();
      } catch (e) {
        return e as Undecodable;
      }
      throw new Error('getSync did not fail');
    })();
    expect([err.code, err.taken, err.items]).toEqual(['ERR_CONC_DESERIALIZATION', 1, []]);
    expect(await q.get()).toBe('ok');
  });
});

describe('memory', () => {
  it('an item that can never fit fails at once with ItemTooLargeError', async () => {
    const q = new Queue({ capacityBytes: 1 << 20 });
    const err = await q.put(new Uint8Array(2 << 20)).catch((e: unknown) => e);
    expect(isItemTooLargeError(err)).toBe(true);
    expect((err as ItemTooLargeError).limit).toBeLessThan(1 << 20);
    expect((err as ItemTooLargeError).size).toBeGreaterThan(2 << 20);
    expect(q.qsize()).toBe(0);
  });

  it('a put waits while the bytes are full and goes in once a get frees them', async () => {
    const q = new Queue<Uint8Array>({ capacityBytes: 256 * 1024 });
    const big = (seed: number) => pattern(90 * 1024, seed);
    await q.put(big(1));
    await q.put(big(2));
    let third = false;
    const p = q.put(big(3)).then(() => {
      third = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(third).toBe(false);
    expect(sameBytes(await q.get(), big(1))).toBe(true);
    await within(p, 10_000, 'put waiting for bytes');
    const [second, third2] = await q.getMany(2);
    expect(sameBytes(second, big(2)) && sameBytes(third2, big(3))).toBe(true);
  });

  it('puts waiting on a full queue keep their own bytes while the thread goes on encoding', async () => {
    // Items the codec writes in msgpackr's buffer (a Date is not plain data), small and over 4 KiB:
    // each waiting put must have copied its bytes before the next put reuses that buffer.
    const item = (i: number) => ({
      i,
      when: new Date(1_700_000_000_000 + i),
      pad: 'p'.repeat(i % 2 ? 5000 : 10),
    });
    const q = new Queue<ReturnType<typeof item>>({ maxsize: 1 });
    await q.put(item(0));
    const waiting = [1, 2, 3, 4, 5, 6].map((i) => q.put(item(i)));
    for (let i = 0; i <= 6; i++) expect(await within(q.get(), 10_000, `get ${i}`)).toStrictEqual(item(i));
    await Promise.all(waiting);
  });

  it('grows to capacity, and once drained the freed blocks merge back into one', () => {
    const capacityBytes = 1 << 20;
    const q = new Queue<Uint8Array>({ capacityBytes });
    let n = 0;
    for (;;) {
      try {
        q.putNowait(pattern(100 + (n % 900), n));
        n++;
      } catch (err) {
        // Only "the bytes are full" may end the filling.
        expect((err as { code?: string }).code).toBe('ERR_CONC_QUEUE_FULL');
        break;
      }
    }
    expect(n).toBeGreaterThan(900);
    for (let i = 0; i < n; i++) {
      if (!sameBytes(q.getNowait(), pattern(100 + (i % 900), i))) throw new Error(`item ${i} changed`);
    }
    // The largest item fits only in a fully merged arena (this put frees the released blocks first).
    const err = (() => {
      try {
        q.putNowait(new Uint8Array(capacityBytes));
      } catch (e) {
        return e as ItemTooLargeError;
      }
    })();
    expect(isItemTooLargeError(err)).toBe(true);
    const overhead = q.codec.encode(new Uint8Array(err!.limit)).length - err!.limit;
    const largest = err!.limit - overhead;
    q.putNowait(new Uint8Array(largest));
    expect(q.getNowait()).toHaveLength(largest);
  });

  it('small items cost at most 64 bytes each beyond their payload, and a drained queue reuses its memory', () => {
    const q = new SimpleQueue<{ id: number; name: string; ts: number }>({ capacityBytes: 1 << 20 });
    const n = 10_000;
    const payload = q.codec.encode({ id: 5000, name: 'rose', ts: 1.5 }).length;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < n; i++) q.putNowait({ id: i, name: 'rose', ts: 1.5 });
      expect(q.usedBytes / n - payload).toBeLessThanOrEqual(64);
      for (let i = 0; i < n; i++) if (q.getNowait().id !== i) throw new Error(`item ${i} out of order`);
    }
  });

  it('random mixes of item sizes and orders keep every byte intact (allocator property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('fifo', 'lifo', 'priority'),
        fc.array(
          fc.oneof(
            { weight: 3, arbitrary: fc.integer({ min: 0, max: 200 }).map((size) => ({ put: size })) },
            { weight: 1, arbitrary: fc.integer({ min: 4000, max: 70_000 }).map((size) => ({ put: size })) },
            { weight: 3, arbitrary: fc.integer({ min: 1, max: 5 }).map((n) => ({ get: n })) },
          ),
          { maxLength: 80 },
        ),
        (kind, ops) => {
          const capacityBytes = 512 * 1024 + 5; // not a multiple of 8 on purpose
          const q =
            kind === 'fifo'
              ? new Queue<[number, Uint8Array]>({ capacityBytes })
              : kind === 'lifo'
                ? new LifoQueue<[number, Uint8Array]>({ capacityBytes })
                : new PriorityQueue<[number, Uint8Array]>({ capacityBytes });
          const model: Array<[number, Uint8Array]> = [];
          let seed = 0;
          for (const op of ops) {
            if ('put' in op) {
              const it: [number, Uint8Array] = [seed % 7, pattern(op.put, seed++)];
              try {
                q.putNowait(it);
                model.push(it);
              } catch (err) {
                // Full only when the bytes really are short.
                expect((err as { code?: string }).code).toBe('ERR_CONC_QUEUE_FULL');
                expect(q.usedBytes + op.put).toBeGreaterThan(capacityBytes / 4);
              }
            } else {
              const got = q.qsize() === 0 ? [] : q.getManySync(op.get, { block: false });
              for (const g of got) {
                let at = 0;
                if (kind === 'lifo') at = model.length - 1;
                if (kind === 'priority') {
                  for (let k = 1; k < model.length; k++) if (model[k]![0] < model[at]![0]) at = k;
                }
                const [want] = model.splice(at, 1);
                expect(g[0]).toBe(want![0]);
                expect(sameBytes(g[1], want![1])).toBe(true);
              }
            }
          }
          expect(q.qsize()).toBe(model.length);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('big items across threads', () => {
  it('1 MiB and 64 KiB items arrive intact in another worker', async () => {
    const q = new Queue<Uint8Array>();
    const w = startWorker(peer, {
      workerData: { token: share(q), task: { role: 'consume', mode: 'sync', taskDone: true } },
    });
    try {
      await w.nextMessage();
      const sent = [pattern(1 << 20, 1), pattern(65536, 2), pattern(3, 3), pattern(65536, 4)];
      await q.putMany(sent);
      await q.join();
      q.shutdown();
      const { items } = await w.nextMessage<{ items: Uint8Array[] }>();
      expect(items).toHaveLength(sent.length);
      for (let i = 0; i < sent.length; i++) expect(sameBytes(items[i], sent[i]!)).toBe(true);
    } finally {
      await w.terminate();
    }
  });
});

describe('keeping the process alive', () => {
  const script = fixture(import.meta.url, 'keepalive.mjs');

  it('an idle queue lets the process exit; a pending get keeps it alive until its item comes', async () => {
    const idle = spawnProcess(process.execPath, [fileURLToPath(script), 'idle']);
    expect(await within(idle.exited, 20_000, 'idle child')).toEqual({ code: 0, signal: null });
    expect(idle.stdout()).toContain('made a queue');

    const pending = spawnProcess(process.execPath, [fileURLToPath(script), 'pending']);
    expect(await within(pending.exited, 20_000, 'pending child')).toEqual({ code: 0, signal: null });
    expect(pending.stdout()).toContain('got late');
  });
});
