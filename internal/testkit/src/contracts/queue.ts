/**
 * The conformance suite every queue tier passes: the thread tier (shared
 * memory), and later the process, manager and Redis tiers, which speak the
 * same interface. Structural types only (no `@conc/*` import); errors are
 * recognised by their stable `code`.
 *
 * A tier supplies a factory: how to make a queue of each kind, and how to start
 * a *peer* (a worker thread, a child process...) that attaches the queue and
 * runs one {@link QueuePeerTask}. The peer program is the tier's own (it must
 * attach the queue the tier's way), and follows the protocol below:
 *
 * - it posts `{ ready: true }` once attached, then runs its task and posts one result;
 * - `produce`: puts `[i, producer]` for i = 0..count-1 (in batches of `batch` with
 *   putMany when given), then posts `{ produced: count }`;
 * - `consume`: gets (getMany of `batch` when given) until `ShutDownError`, calling
 *   taskDone() after each item when `taskDone`; posts `{ items: [[i, producer], ...] }`
 *   in the order it got them;
 * - `getOne`: one get (with `timeout` when given); posts `{ item }` or `{ error: code }`;
 * - `putOne`: one put of `item`; posts `{ done: true }` or `{ error: code }`.
 * `mode: 'sync'` asks for the blocking calls (`getSync`, `putSync`...) where the tier has them.
 *
 * @example
 * ```ts
 * queueContract('thread', {
 *   kinds: ['fifo', 'lifo', 'priority', 'simple'],
 *   syncPeers: true,
 *   create: (kind, { maxsize }) => new Queue({ maxsize }),
 *   startPeer: async (q, task) => { ...start a worker with share(q) and task... },
 * });
 * ```
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failure as failureOf, sleep, within } from '../time.js';

type Maybe<T> = T | Promise<T>;

/** Options of the blocking calls. */
export interface ContractQueueWaitOptions {
  block?: boolean;
  timeout?: number;
  signal?: AbortSignal;
}

/** What the contract needs of a queue (SimpleQueue has no task tracking or maxsize). */
export interface ContractQueue {
  put(item: unknown, options?: ContractQueueWaitOptions): Promise<void>;
  putNowait(item: unknown): Maybe<void>;
  get(options?: ContractQueueWaitOptions): Promise<unknown>;
  getNowait(): Maybe<unknown>;
  putMany(items: Iterable<unknown>, options?: ContractQueueWaitOptions): Promise<void>;
  getMany(max: number, options?: ContractQueueWaitOptions): Promise<unknown[]>;
  qsize(): Maybe<number>;
  empty(): Maybe<boolean>;
  full?(): Maybe<boolean>;
  taskDone?(): Maybe<void>;
  join?(options?: { timeout?: number; signal?: AbortSignal }): Promise<boolean>;
  shutdown(options?: { immediate?: boolean }): Maybe<void>;
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
}

/** The orders a tier offers. */
export type QueueKind = 'fifo' | 'lifo' | 'priority' | 'simple';

/** One job for a peer (see the module comment for the protocol). */
export type QueuePeerTask =
  | { role: 'produce'; producer: number; count: number; mode: 'async' | 'sync'; batch?: number }
  | { role: 'consume'; mode: 'async' | 'sync'; taskDone?: boolean; batch?: number }
  | { role: 'getOne'; mode: 'async' | 'sync'; timeout?: number }
  | { role: 'putOne'; mode: 'async' | 'sync'; item: unknown };

/** A running peer: its messages in order, and how to stop it. */
export interface QueuePeer {
  /** The next message the peer posted (after `{ ready: true }`, which startPeer consumed). */
  next<T = unknown>(timeoutMs?: number): Promise<T>;
  /** Ends the peer (terminate, kill) and frees everything. */
  stop(): Promise<void>;
}

/** How a tier plugs into {@link queueContract}. */
export interface QueueContractFactory<Q extends ContractQueue = ContractQueue> {
  /** The kinds this tier offers; the contract runs the kind-specific tests for these. */
  readonly kinds: readonly QueueKind[];
  /** A fresh queue of a kind (`maxsize` is ignored for `simple`). */
  create(kind: QueueKind, options: { maxsize?: number }): Maybe<Q>;
  /** Frees a queue the contract is done with. */
  destroy?(queue: Q): Maybe<void>;
  /** Starts a peer on a queue and resolves once it posted `{ ready: true }`. */
  startPeer(queue: Q, task: QueuePeerTask): Promise<QueuePeer>;
  /** Whether peers offer the blocking calls (`mode: 'sync'`). @default false */
  readonly syncPeers?: boolean;
  /** Items per producer in the many-peers test. @default 2000 */
  readonly itemsPerProducer?: number;
  /** fast-check runs of the model test. @default 100 */
  readonly modelRuns?: number;
}

const FULL = 'ERR_CONC_QUEUE_FULL';
const EMPTY = 'ERR_CONC_QUEUE_EMPTY';
const SHUT_DOWN = 'ERR_CONC_QUEUE_SHUT_DOWN';
const TASK_DONE = 'ERR_CONC_QUEUE_TASK_DONE';
const LIMIT = 10_000;

/** The error (thrown or rejected) of an operation; fails if it succeeds or hangs. */
const failure = (op: () => unknown) => failureOf<Error & { code?: string; enqueued?: number }>(op, LIMIT);

/** The error code an operation fails with, or 'ok'. */
async function outcome(op: () => unknown): Promise<unknown> {
  try {
    return { ok: await op() };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? (err as Error).name };
  }
}

/** Lets every pending callback (and other threads' wake-ups) run for a moment. */
const settle = (ms = 30): Promise<void> => sleep(ms);

/** An item of the kind's shape: `[priority, data]` pairs for every kind, so one format fits all. */
function item(i: number, data: unknown = i): [number, unknown] {
  return [i, data];
}

/**
 * Runs the queue contract for a tier. Every kind-specific test runs for each
 * kind the factory offers; every blocking step is bounded.
 */
export function queueContract<Q extends ContractQueue>(tier: string, factory: QueueContractFactory<Q>): void {
  const has = (k: QueueKind) => factory.kinds.includes(k);
  const tracked = (k: QueueKind) => k !== 'simple';

  async function use<R>(
    kind: QueueKind,
    options: { maxsize?: number },
    fn: (q: Q) => Promise<R>,
  ): Promise<R> {
    const q = await factory.create(kind, options);
    try {
      return await fn(q);
    } finally {
      await factory.destroy?.(q);
    }
  }

  describe(`queue contract: ${tier}`, () => {
    describe('order', () => {
      for (const kind of ['fifo', 'simple'] as const) {
        it.runIf(has(kind))(`${kind}: first in, first out`, () =>
          use(kind, {}, async (q) => {
            for (const v of [1, 2, 3]) await q.put(v);
            expect([await q.get(), await q.get(), await q.get()]).toEqual([1, 2, 3]);
          }),
        );
      }

      it.runIf(has('lifo'))('lifo: last in, first out', () =>
        use('lifo', {}, async (q) => {
          for (const v of [1, 2, 3]) await q.put(v);
          expect([await q.get(), await q.get(), await q.get()]).toEqual([3, 2, 1]);
        }),
      );

      it.runIf(has('priority'))('priority: lowest first; data never compared; equal priorities FIFO', () =>
        use('priority', {}, async (q) => {
          for (const v of [
            [10, 'A'],
            [50, 'B'],
            [30, 'C'],
          ])
            await q.put(v);
          expect(await q.getMany(3)).toEqual([
            [10, 'A'],
            [30, 'C'],
            [50, 'B'],
          ]);
          // Objects as data: Python would raise comparing them; equal priorities keep put order.
          await q.putMany([
            [1, { n: 1 }],
            [1, { n: 2 }],
            [0, { n: 3 }],
            [1, { n: 4 }],
          ]);
          expect(await q.getMany(4)).toEqual([
            [0, { n: 3 }],
            [1, { n: 1 }],
            [1, { n: 2 }],
            [1, { n: 4 }],
          ]);
        }),
      );

      it.runIf(has('priority'))('priority: numbers and bigints by value, then strings, then arrays', () =>
        use('priority', {}, async (q) => {
          const items = [
            [[1, 2], 'array 1,2'],
            ['b', 'string b'],
            [2n ** 70n, 'bigint 2^70'],
            [-1.5, 'number -1.5'],
            [[1], 'array 1'],
            [1n, 'bigint 1'],
            ['a', 'string a'],
            [1.25, 'number 1.25'],
            [false, 'false is 0'],
            [Number.POSITIVE_INFINITY, 'Infinity'],
          ];
          await q.putMany(items);
          const out = (await q.getMany(items.length)) as Array<[unknown, string]>;
          expect(out.map((x) => x[1])).toEqual([
            'number -1.5',
            'false is 0',
            'bigint 1',
            'number 1.25',
            'bigint 2^70',
            'Infinity',
            'string a',
            'string b',
            'array 1',
            'array 1,2',
          ]);
        }),
      );
    });

    describe('sizes, nowait and timeouts', () => {
      it.runIf(has('fifo'))('qsize, empty and full follow puts and gets', () =>
        use('fifo', { maxsize: 2 }, async (q) => {
          expect(await q.qsize()).toBe(0);
          expect(await q.empty()).toBe(true);
          await q.put('a');
          await q.put('b');
          expect(await q.qsize()).toBe(2);
          expect(await q.full?.()).toBe(true);
          await q.get();
          expect(await q.full?.()).toBe(false);
          expect(await q.empty()).toBe(false);
        }),
      );

      it.runIf(has('fifo'))(
        'a full bounded queue: putNowait, block:false and timeout fail with FullError',
        () =>
          use('fifo', { maxsize: 1 }, async (q) => {
            await q.put('a');
            expect((await failure(() => q.putNowait('b'))).code).toBe(FULL);
            expect((await failure(() => q.put('b', { block: false }))).code).toBe(FULL);
            expect((await failure(() => q.put('b', { timeout: 20 }))).code).toBe(FULL);
            expect(await q.qsize()).toBe(1);
            expect(await q.get()).toBe('a');
            await expect(q.get({ block: false })).rejects.toMatchObject({ code: EMPTY });
          }),
      );

      it.runIf(has('fifo'))('an empty queue: getNowait, block:false and timeout fail with EmptyError', () =>
        use('fifo', {}, async (q) => {
          expect((await failure(() => q.getNowait())).code).toBe(EMPTY);
          expect((await failure(() => q.get({ block: false }))).code).toBe(EMPTY);
          expect((await failure(() => q.get({ timeout: 20 }))).code).toBe(EMPTY);
          expect((await failure(() => q.getMany(5, { timeout: 0 }))).code).toBe(EMPTY);
        }),
      );

      it.runIf(has('fifo'))('a put blocked on a full queue goes in once a get makes room', () =>
        use('fifo', { maxsize: 1 }, async (q) => {
          await q.put('a');
          let done = false;
          const blocked = q.put('b').then(() => {
            done = true;
          });
          await settle();
          expect(done).toBe(false);
          expect(await q.get()).toBe('a');
          await within(blocked, LIMIT, 'blocked put');
          expect(await q.get({ timeout: LIMIT })).toBe('b');
        }),
      );

      it.runIf(has('fifo'))('a get blocked on an empty queue gets the next item put', () =>
        use('fifo', {}, async (q) => {
          const waiting = q.get();
          await settle();
          await q.put('x');
          expect(await within(waiting, LIMIT, 'blocked get')).toBe('x');
          expect(await q.qsize()).toBe(0);
        }),
      );

      it.runIf(has('fifo'))('many blocked gets in one thread are served in order, each once', () =>
        use('fifo', {}, async (q) => {
          const gets = [q.get(), q.get(), q.get()];
          await settle();
          await q.putMany(['a', 'b', 'c']);
          expect(await within(Promise.all(gets), LIMIT, 'three gets')).toEqual(['a', 'b', 'c']);
        }),
      );

      it.runIf(has('fifo'))('bad options fail at once with a clear error', () =>
        use('fifo', {}, async (q) => {
          // The right class, and a message that names the call and the option (not some crash).
          const negative = await failure(() => q.get({ timeout: -1 }));
          expect(negative).toBeInstanceOf(RangeError);
          expect(negative.message).toMatch(/get.*timeout/);
          const both = await failure(() => q.get({ block: false, timeout: 5 }));
          expect(both).toBeInstanceOf(TypeError);
          expect(both.message).toMatch(/get.*timeout.*block/);
          const none = await failure(() => q.getMany(0));
          expect(none).toBeInstanceOf(RangeError);
          expect(none.message).toMatch(/getMany/);
        }),
      );

      it.runIf(has('fifo'))(
        'an unserializable item fails the put with SerializationError; nothing is enqueued',
        () =>
          use('fifo', {}, async (q) => {
            const err = await failure(() => q.put({ ok: 1, callback: () => 1 }));
            expect(err.code).toBe('ERR_CONC_SERIALIZATION');
            await expect(q.putMany([1, 2, { bad: Symbol('s') }])).rejects.toMatchObject({
              code: 'ERR_CONC_SERIALIZATION',
            });
            expect(await q.qsize()).toBe(0);
            await q.put('fine');
            expect(await q.get()).toBe('fine');
          }),
      );
    });

    describe('cancellation', () => {
      it.runIf(has('fifo'))('an aborted signal rejects with its reason before touching the queue', () =>
        use('fifo', {}, async (q) => {
          await q.put('kept');
          const reason = new Error('stop');
          await expect(q.get({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
          await expect(q.put('x', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
          expect(await q.qsize()).toBe(1);
          expect(await q.get()).toBe('kept');
        }),
      );

      it.runIf(has('fifo'))('aborting a blocked get takes nothing; the next get gets the item', () =>
        use('fifo', {}, async (q) => {
          const ac = new AbortController();
          const reason = new Error('cancelled');
          const g = q.get({ signal: ac.signal });
          await settle();
          ac.abort(reason);
          await expect(within(g, LIMIT, 'aborted get')).rejects.toBe(reason);
          await q.put('x');
          expect(await q.get({ timeout: LIMIT })).toBe('x');
        }),
      );

      it.runIf(has('fifo'))('aborting a blocked put enqueues nothing', () =>
        use('fifo', { maxsize: 1 }, async (q) => {
          await q.put('a');
          const ac = new AbortController();
          const p = q.put('b', { signal: ac.signal });
          await settle();
          ac.abort(new Error('never mind'));
          await expect(within(p, LIMIT, 'aborted put')).rejects.toThrow('never mind');
          expect(await q.get()).toBe('a');
          expect((await failure(() => q.getNowait())).code).toBe(EMPTY);
        }),
      );

      it.runIf(has('fifo'))('a get aborted while others wait does not swallow their wake-up', () =>
        use('fifo', {}, async (q) => {
          const ac = new AbortController();
          const cancelled = q.get({ signal: ac.signal });
          const waiting = q.get();
          await settle();
          ac.abort(new Error('x'));
          await expect(cancelled).rejects.toThrow('x');
          await q.put('for the one still waiting');
          expect(await within(waiting, LIMIT, 'remaining get')).toBe('for the one still waiting');
        }),
      );
    });

    describe('taskDone and join', () => {
      for (const kind of factory.kinds.filter(tracked)) {
        it(`${kind}: join resolves when every item put was marked done`, () =>
          use(kind, {}, async (q) => {
            expect(await within(q.join!(), LIMIT, 'join on idle queue')).toBe(true);
            await q.putMany([item(1), item(2)]);
            let joined: boolean | undefined;
            const j = q.join!().then((v) => {
              joined = v;
            });
            await q.get();
            await q.taskDone!();
            await settle();
            expect(joined).toBeUndefined();
            await q.get();
            await q.taskDone!();
            await within(j, LIMIT, 'join');
            expect(joined).toBe(true);
            expect((await failure(() => q.taskDone!())).code).toBe(TASK_DONE);
          }));
      }

      it.runIf(has('fifo'))('join with a timeout resolves false while tasks are unfinished', () =>
        use('fifo', {}, async (q) => {
          await q.put(1);
          expect(await within(q.join!({ timeout: 20 }), LIMIT, 'join timeout')).toBe(false);
          expect(await within(q.join!({ timeout: 0 }), LIMIT, 'join timeout 0')).toBe(false);
        }),
      );
    });

    describe('shutdown (Python 3.13)', () => {
      for (const kind of factory.kinds) {
        it(`${kind}: puts fail, gets drain what is left, then fail`, () =>
          use(kind, {}, async (q) => {
            await q.putMany([item(1), item(2)]);
            await q.shutdown();
            expect((await failure(() => q.put(item(3)))).code).toBe(SHUT_DOWN);
            expect((await failure(() => q.putNowait(item(3)))).code).toBe(SHUT_DOWN);
            const got = [await q.get(), await q.getNowait()];
            // Priorities 1 and 2: every order but LIFO gives 1 first.
            expect(got).toEqual(kind === 'lifo' ? [item(2), item(1)] : [item(1), item(2)]);
            expect((await failure(() => q.get())).code).toBe(SHUT_DOWN);
            expect((await failure(() => q.getNowait())).code).toBe(SHUT_DOWN);
            if (tracked(kind)) {
              let joined = false;
              const j = q.join!().then((v) => {
                joined = true;
                return v;
              });
              await q.taskDone!();
              await settle();
              expect(joined).toBe(false);
              await q.taskDone!();
              expect(await within(j, LIMIT, 'join after shutdown')).toBe(true);
            }
          }));
      }

      it.runIf(has('fifo'))('blocked getters and putters wake with ShutDownError', () =>
        use('fifo', { maxsize: 1 }, async (q) => {
          const getter = q.get();
          await settle();
          await q.put('x');
          expect(await within(getter, LIMIT, 'getter')).toBe('x');
          await q.put('fills');
          const putter = q.put('blocked');
          const empty = await factory.create('fifo', {});
          try {
            const emptyGetter = empty.get();
            await settle();
            await empty.shutdown();
            expect((await failure(() => emptyGetter)).code).toBe(SHUT_DOWN);
          } finally {
            await factory.destroy?.(empty);
          }
          await q.shutdown();
          expect((await failure(() => putter)).code).toBe(SHUT_DOWN);
          expect(await q.get()).toBe('fills');
        }),
      );

      for (const kind of factory.kinds) {
        it(`${kind}: immediate drops the items, counts them done, and fails gets at once`, () =>
          use(kind, {}, async (q) => {
            await q.putMany([item(1), item(2), item(3)]);
            await q.get(); // in flight: not yet done
            const j = tracked(kind) ? q.join!() : undefined;
            await q.shutdown({ immediate: true });
            expect(await q.qsize()).toBe(0);
            expect((await failure(() => q.get())).code).toBe(SHUT_DOWN);
            expect((await failure(() => q.put(item(4)))).code).toBe(SHUT_DOWN);
            if (j) {
              let joined = false;
              void j.then(() => {
                joined = true;
              });
              await settle();
              expect(joined).toBe(false); // the item taken before the shutdown is still unfinished
              await q.taskDone!();
              expect(await within(j, LIMIT, 'join after immediate shutdown')).toBe(true);
            }
          }));
      }

      it.runIf(has('fifo'))('immediate shutdown wakes a blocked get at once', () =>
        use('fifo', {}, async (q) => {
          const g = q.get();
          await settle();
          await q.shutdown({ immediate: true });
          expect((await failure(() => g)).code).toBe(SHUT_DOWN);
        }),
      );

      for (const kind of factory.kinds) {
        it(`${kind}: for await ends when the queue is shut down and drained`, () =>
          use(kind, {}, async (q) => {
            await q.putMany([item(1), item(2), item(3)]);
            const seen: unknown[] = [];
            const loop = (async () => {
              for await (const x of q as AsyncIterable<unknown>) {
                seen.push(x);
                // Shut down with two items still queued: the loop drains them, then ends.
                if (seen.length === 1) void q.shutdown();
              }
            })();
            await within(loop, LIMIT, 'for await');
            expect(seen).toEqual(kind === 'lifo' ? [item(3), item(2), item(1)] : [item(1), item(2), item(3)]);
          }));
      }
    });

    describe('batches', () => {
      it.runIf(has('fifo'))(
        'putMany keeps order; getMany returns up to max, waiting only for the first',
        () =>
          use('fifo', {}, async (q) => {
            await q.putMany([1, 2, 3, 4, 5]);
            expect(await q.getMany(3)).toEqual([1, 2, 3]);
            expect(await q.getMany(10)).toEqual([4, 5]);
            const g = q.getMany(10);
            await settle();
            await q.put(6);
            expect(await within(g, LIMIT, 'getMany')).toEqual([6]);
          }),
      );

      it.runIf(has('fifo'))('putMany on a bounded queue waits for room and keeps order', () =>
        use('fifo', { maxsize: 2 }, async (q) => {
          const p = q.putMany([1, 2, 3, 4, 5]);
          const got: unknown[] = [];
          while (got.length < 5) got.push(...(await q.getMany(2, { timeout: LIMIT })));
          await within(p, LIMIT, 'putMany');
          expect(got).toEqual([1, 2, 3, 4, 5]);
        }),
      );

      it.runIf(has('fifo'))('putMany with block:false puts what fits and reports it', () =>
        use('fifo', { maxsize: 2 }, async (q) => {
          const err = await failure(() => q.putMany([1, 2, 3], { block: false }));
          expect(err.code).toBe(FULL);
          expect(err.enqueued).toBe(2);
          expect(await q.getMany(5)).toEqual([1, 2]);
        }),
      );
    });

    describe('across threads or processes', () => {
      const modes = factory.syncPeers ? (['async', 'sync'] as const) : (['async'] as const);

      for (const mode of modes) {
        it.runIf(has('fifo'))(`a peer blocked in get (${mode}) gets the item put here`, () =>
          use('fifo', {}, async (q) => {
            const peer = await factory.startPeer(q, { role: 'getOne', mode });
            try {
              await settle(50);
              await q.put({ hello: 'peer', n: 1n, when: new Date(0) });
              expect(await peer.next(LIMIT)).toEqual({ item: { hello: 'peer', n: 1n, when: new Date(0) } });
            } finally {
              await peer.stop();
            }
          }),
        );

        it.runIf(has('fifo'))(
          `a peer blocked in put (${mode}) on a full queue goes on after a get here`,
          () =>
            use('fifo', { maxsize: 1 }, async (q) => {
              await q.put('first');
              const peer = await factory.startPeer(q, { role: 'putOne', mode, item: 'second' });
              try {
                await settle(50);
                expect(await q.get()).toBe('first');
                expect(await peer.next(LIMIT)).toEqual({ done: true });
                expect(await q.get({ timeout: LIMIT })).toBe('second');
              } finally {
                await peer.stop();
              }
            }),
        );

        it.runIf(has('fifo'))(`a peer's get (${mode}) times out with EmptyError`, () =>
          use('fifo', {}, async (q) => {
            const peer = await factory.startPeer(q, { role: 'getOne', mode, timeout: 30 });
            try {
              expect(await peer.next(LIMIT)).toEqual({ error: EMPTY });
            } finally {
              await peer.stop();
            }
          }),
        );
      }

      const kindsWithOrder: QueueKind[] = factory.kinds.filter((k) => k !== 'lifo');
      const runs: Array<[QueueKind, 'async' | 'sync', number | undefined]> = [];
      for (const kind of factory.kinds) runs.push([kind, 'async', undefined]);
      if (factory.syncPeers) {
        runs.push([factory.kinds[0]!, 'sync', undefined]);
        runs.push([factory.kinds[0]!, 'sync', 64]);
      }
      for (const [kind, mode, batch] of runs) {
        it(
          `${kind}: 3 producers and 3 consumers (${mode}${batch ? `, batches of ${batch}` : ''}): nothing lost, nothing twice, each producer's order kept`,
          () =>
            use(kind, { maxsize: 100 }, async (q) => {
              const count = factory.itemsPerProducer ?? 2000;
              const peers: QueuePeer[] = [];
              try {
                for (let c = 0; c < 3; c++) {
                  peers.push(
                    await factory.startPeer(q, { role: 'consume', mode, taskDone: tracked(kind), batch }),
                  );
                }
                const producers: QueuePeer[] = [];
                for (let p = 0; p < 3; p++) {
                  const peer = await factory.startPeer(q, {
                    role: 'produce',
                    producer: p,
                    count,
                    mode,
                    batch,
                  });
                  producers.push(peer);
                  peers.push(peer);
                }
                for (const p of producers) expect(await p.next(60_000)).toEqual({ produced: count });
                if (tracked(kind)) expect(await within(q.join!(), 60_000, 'join')).toBe(true);
                await q.shutdown();
                const seen = new Map<string, number>();
                for (const consumer of peers.slice(0, 3)) {
                  const { items } = await consumer.next<{ items: Array<[number, number]> }>(60_000);
                  const last = new Map<number, number>();
                  for (const [i, p] of items) {
                    const key = `${p}:${i}`;
                    seen.set(key, (seen.get(key) ?? 0) + 1);
                    if (kindsWithOrder.includes(kind)) {
                      expect(i, `producer ${p}'s items out of order`).toBeGreaterThan(last.get(p) ?? -1);
                      last.set(p, i);
                    }
                  }
                }
                expect(seen.size).toBe(3 * count);
                expect([...seen.values()].every((n) => n === 1)).toBe(true);
                expect(await q.qsize()).toBe(0);
              } finally {
                await Promise.all(peers.map((p) => p.stop()));
              }
            }),
          90_000,
        );
      }
    });

    describe('model', () => {
      it(`random sequences of non-blocking operations match an in-memory model`, async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...factory.kinds),
            fc.integer({ min: 0, max: 4 }),
            fc.array(operation, { minLength: 1, maxLength: 40 }),
            async (kind, maxsize, ops) => {
              const q = await factory.create(kind, { maxsize });
              try {
                const model = new QueueModel(kind, kind === 'simple' ? 0 : maxsize);
                for (const op of ops) {
                  if (!tracked(kind) && (op.t === 'taskDone' || op.t === 'join')) continue;
                  const expected = model.apply(op);
                  const actual = await run(q, op);
                  expect(actual, `${kind} maxsize ${maxsize}: ${JSON.stringify(op)}`).toEqual(expected);
                }
              } finally {
                await factory.destroy?.(q);
              }
            },
          ),
          { numRuns: factory.modelRuns ?? 100 },
        );
      });
    });
  });
}

type Op =
  | { t: 'put'; p: number; id: number }
  | { t: 'putMany'; items: Array<[number, number]> }
  | { t: 'get' }
  | { t: 'getMany'; n: number }
  | { t: 'qsize' }
  | { t: 'taskDone' }
  | { t: 'join' }
  | { t: 'shutdown'; immediate: boolean };

let nextId = 0;
const priority = fc.integer({ min: 0, max: 3 });
const operation: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: priority.map((p) => ({ t: 'put' as const, p, id: nextId++ })) },
  {
    weight: 1,
    arbitrary: fc
      .array(priority, { minLength: 1, maxLength: 4 })
      .map((ps) => ({ t: 'putMany' as const, items: ps.map((p): [number, number] => [p, nextId++]) })),
  },
  { weight: 4, arbitrary: fc.constant({ t: 'get' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }).map((n) => ({ t: 'getMany' as const, n })) },
  { weight: 1, arbitrary: fc.constant({ t: 'qsize' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'taskDone' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'join' as const }) },
  { weight: 1, arbitrary: fc.boolean().map((immediate) => ({ t: 'shutdown' as const, immediate })) },
);

async function run(q: ContractQueue, op: Op): Promise<unknown> {
  switch (op.t) {
    case 'put':
      return outcome(async () => {
        await q.putNowait([op.p, op.id]);
      });
    case 'putMany':
      try {
        await q.putMany(op.items, { block: false });
        return { ok: undefined };
      } catch (err) {
        const e = err as { code?: string; enqueued?: number };
        return { error: e.code, enqueued: e.enqueued };
      }
    case 'get':
      return outcome(() => q.getNowait());
    case 'getMany':
      return outcome(() => q.getMany(op.n, { block: false }));
    case 'qsize':
      return { ok: await q.qsize() };
    case 'taskDone':
      return outcome(async () => {
        await q.taskDone!();
      });
    case 'join':
      return outcome(() => q.join!({ timeout: 0 }));
    case 'shutdown':
      return outcome(async () => {
        await q.shutdown({ immediate: op.immediate });
      });
  }
}

/** Python 3.13's queue semantics over an array, the reference the model test compares with. */
class QueueModel {
  private items: Array<{ item: [number, number]; seq: number }> = [];
  private seq = 0;
  private unfinished = 0;
  private state: 'open' | 'shutdown' | 'immediate' = 'open';

  constructor(
    private readonly kind: QueueKind,
    private readonly maxsize: number,
  ) {}

  private put(item: [number, number]): string | undefined {
    if (this.state !== 'open') return SHUT_DOWN;
    if (this.maxsize > 0 && this.items.length >= this.maxsize) return FULL;
    this.items.push({ item, seq: this.seq++ });
    this.unfinished++;
    return undefined;
  }

  private take(): [number, number] | undefined {
    if (this.items.length === 0) return undefined;
    let at = 0;
    if (this.kind === 'lifo') at = this.items.length - 1;
    else if (this.kind === 'priority') {
      for (let k = 1; k < this.items.length; k++) {
        const a = this.items[k]!;
        const b = this.items[at]!;
        if (a.item[0] < b.item[0] || (a.item[0] === b.item[0] && a.seq < b.seq)) at = k;
      }
    }
    return this.items.splice(at, 1)[0]!.item;
  }

  private getError(): string | undefined {
    if (this.state === 'immediate') return SHUT_DOWN;
    if (this.items.length === 0) return this.state === 'open' ? EMPTY : SHUT_DOWN;
    return undefined;
  }

  apply(op: Op): unknown {
    switch (op.t) {
      case 'put': {
        const err = this.put([op.p, op.id]);
        return err ? { error: err } : { ok: undefined };
      }
      case 'putMany': {
        let n = 0;
        for (const it of op.items) {
          const err = this.put(it);
          if (err) return { error: err, enqueued: n };
          n++;
        }
        return { ok: undefined };
      }
      case 'get': {
        const err = this.getError();
        return err ? { error: err } : { ok: this.take() };
      }
      case 'getMany': {
        const err = this.getError();
        if (err) return { error: err };
        const out: Array<[number, number]> = [];
        while (out.length < op.n && this.items.length > 0) out.push(this.take()!);
        return { ok: out };
      }
      case 'qsize':
        return { ok: this.items.length };
      case 'taskDone':
        if (this.unfinished === 0) return { error: TASK_DONE };
        this.unfinished--;
        return { ok: undefined };
      case 'join':
        return { ok: this.unfinished === 0 };
      case 'shutdown':
        if (op.immediate) {
          this.state = 'immediate';
          this.unfinished = Math.max(0, this.unfinished - this.items.length);
          this.items = [];
        } else if (this.state === 'open') this.state = 'shutdown';
        return { ok: undefined };
    }
  }
}
