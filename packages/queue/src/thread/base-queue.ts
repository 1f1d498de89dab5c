/**
 * What every thread-tier queue shares: put and get in their async, sync,
 * non-blocking and batch forms, shutdown, async iteration and sharing.
 * The order (FIFO, LIFO, priority) lives in the shared store; this class
 * encodes, waits and decodes.
 */
import { type Codec, shareSymbol } from '@conc/serialize';
import { abortReason, checkBoolean, checkInt, checkOptions, NO_WAIT } from '@conc/serialize/internal';
import { EmptyError, FullError, ItemTooLargeError, isShutDownError, ShutDownError } from '../core/errors.js';
import { type ShutdownOptions, type Wait, type WaitOptions, waitOf } from '../core/options.js';
import { Header } from '../engine/layout.js';
import { Putter } from '../engine/putter.js';
import { type Batch, batchOf, INLINE_MAX, type Store } from '../engine/store.js';
import { NOT_EMPTY, NOT_FULL, waitAsync, waitSync } from '../engine/wait.js';
import { kindName, type QueueSetup } from './setup.js';
import { TakenItems } from './taken-items.js';

const RESOLVED: Promise<void> = Promise.resolve();

let storeOf: (q: object) => Store;

/** The store behind a queue (for the subclasses in this folder). */
export function queueStore(q: object): Store {
  return storeOf(q);
}

/** The part of every thread-tier queue that does not depend on the order or on task tracking. */
export abstract class BaseQueue<T> {
  readonly #store: Store;
  readonly #codec: Codec;
  readonly #keyOf: ((item: T) => Uint8Array) | undefined;
  readonly #keyed: boolean;
  /** Decodes what each take unlinked. */
  readonly #taken: TakenItems<T>;
  /** The batch of one that every single put goes through (reused: the fast path allocates nothing). */
  readonly #one: Batch;
  /** Where the codec's `encodeRange` leaves an item. */
  readonly #range: { bytes: Uint8Array; start: number; end: number } = {
    bytes: EMPTY_BYTES,
    start: 0,
    end: 0,
  };

  static {
    storeOf = (q) => (q as BaseQueue<unknown>).#store;
  }

  /** @param setup what {@link setup} or {@link attachSetup} returned (opaque to users). */
  protected constructor(setup: object) {
    const init = setup as QueueSetup;
    this.#store = init.store;
    this.#codec = init.codec;
    this.#keyOf = init.keyOf as ((item: T) => Uint8Array) | undefined;
    this.#keyed = init.keyed ?? false;
    this.#taken = new TakenItems(init.store, init.codec);
    this.#one = {
      bytes: [EMPTY_BYTES],
      start: [0],
      end: [0],
      keys: init.keyOf === undefined ? undefined : [undefined],
      done: 0,
    };
  }

  /** The codec items are encoded with (its name travels in share tokens). */
  get codec(): Codec {
    return this.#codec;
  }

  /** Approximate number of items in the queue: a snapshot that other threads may change at once. */
  qsize(): number {
    return this.#store.count();
  }

  /** True when the queue held no items at the moment of the call (a snapshot). */
  empty(): boolean {
    return this.#store.count() === 0;
  }

  /** Bytes of shared memory the queue's items occupy now, bookkeeping included (a snapshot). */
  get usedBytes(): number {
    return this.#store.usedBytes();
  }

  /** True once `shutdown()` was called (in any thread). */
  get isShutDown(): boolean {
    return this.#store.state() !== 0;
  }

  // ---- put ------------------------------------------------------------------

  #check(length: number, key: Uint8Array | undefined): void {
    const size = length + (key ? key.length : 0);
    if (size > this.#store.maxItem) throw new ItemTooLargeError(size, this.#store.maxItem);
  }

  /**
   * Encodes items (and their priorities) before anything is enqueued, so a
   * bad item fails the whole call. With a codec that encodes into its own
   * buffer, the items are copied one after another into one array of the
   * batch's own (one allocation per batch instead of one per item).
   */
  #encodeAll(items: Iterable<T>): Batch {
    const codec = this.#codec;
    const keyOf = this.#keyOf;
    const keys: (Uint8Array | undefined)[] | undefined = keyOf ? [] : undefined;
    if (codec.encodeRange === undefined || BATCH_ENCODE_OFF) {
      const all: Uint8Array[] = [];
      for (const item of items) {
        const b = codec.encode(item);
        const k = keyOf?.(item);
        this.#check(b.length, k);
        all.push(b);
        keys?.push(k);
      }
      return batchOf(all, keys);
    }
    const r = this.#range;
    const start: number[] = [];
    const end: number[] = [];
    let buf = new Uint8Array(BATCH_START_BYTES);
    let used = 0;
    try {
      for (const item of items) {
        // The key first: a key function may use the codec, whose buffer holds the range until copied.
        const k = keyOf?.(item);
        codec.encodeRange(item, r);
        const len = r.end - r.start;
        this.#check(len, k);
        if (used + len > buf.length) {
          const grown = new Uint8Array(Math.max(2 * buf.length, used + len));
          grown.set(buf.subarray(0, used));
          buf = grown;
        }
        const src = r.bytes;
        const from = r.start;
        if (len <= 128) for (let i = 0; i < len; i++) buf[used + i] = src[from + i]!;
        else buf.set(src.subarray(from, r.end), used);
        start.push(used);
        used += len;
        end.push(used);
        keys?.push(k);
      }
    } finally {
      r.bytes = EMPTY_BYTES;
    }
    return { bytes: new Array<Uint8Array>(start.length).fill(buf), start, end, keys, done: 0 };
  }

  /**
   * Encodes one item and puts it at once when it fits (the fast path: one
   * section, nothing allocated), else returns a Putter to wait with.
   */
  #putFast(item: T): Putter | undefined {
    const codec = this.#codec;
    const store = this.#store;
    const one = this.#one;
    const keys = one.keys;
    // Bytes from encodeRange are the codec's until its next call (borrowed).
    let borrowed = false;
    if (codec.encodeRange !== undefined && keys === undefined) {
      // Straight from the codec's buffer into shared memory: no view, no copy of our own.
      const r = this.#range;
      codec.encodeRange(item, r);
      one.bytes[0] = r.bytes;
      one.start[0] = r.start;
      one.end[0] = r.end;
      r.bytes = EMPTY_BYTES;
      borrowed = true;
    } else {
      const bytes = codec.encode(item);
      one.bytes[0] = bytes;
      one.start[0] = 0;
      one.end[0] = bytes.length;
      if (keys !== undefined) keys[0] = this.#keyOf!(item);
    }
    const len = one.end[0]! - one.start[0]!;
    const size = len + (keys?.[0]?.length ?? 0);
    try {
      if (size > store.maxItem) throw new ItemTooLargeError(size, store.maxItem);
      if (len <= INLINE_MAX) {
        one.done = 0;
        const outcome = store.put(one, 1);
        if (outcome === 'done') {
          store.wake(Header.NOT_EMPTY, Header.GET_WAITERS, 1);
          return undefined;
        }
        if (outcome === 'shut-down') throw new ShutDownError();
      }
      // Full (or a section to retry): a batch of its own, to wait with.
      const batch: Batch = {
        bytes: [one.bytes[0]!],
        start: [one.start[0]!],
        end: [one.end[0]!],
        keys: keys === undefined ? undefined : [keys[0]],
        done: 0,
      };
      return new Putter(store, batch, borrowed);
    } finally {
      one.bytes[0] = EMPTY_BYTES;
      if (keys !== undefined) keys[0] = undefined;
    }
  }

  /**
   * Puts an item, waiting for room while the queue is full (Python's `put`).
   * Rejects with `FullError` (`block: false`, or after `timeout`),
   * `ShutDownError`, `SerializationError` (nothing is enqueued), or the signal's reason.
   */
  put(item: T, options?: WaitOptions): Promise<void> {
    try {
      const wait = waitOf('put', options);
      if (wait.signal?.aborted) return Promise.reject(abortReason(wait.signal));
      const putter = this.#putFast(item);
      return putter ? this.#putAsync(putter, wait) : RESOLVED;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #putAsync(putter: Putter, wait: Wait): Promise<void> {
    try {
      if (putter.step()) return;
      if (wait.deadline === NO_WAIT) throw new FullError(undefined, { enqueued: putter.done });
      putter.keep();
      const a = this.#store.s.i32;
      if (!(await waitAsync(a, NOT_FULL, wait.deadline, wait.signal, () => putter.step()))) {
        throw new FullError(undefined, { enqueued: putter.done });
      }
    } finally {
      putter.abandon();
    }
  }

  #putSync(putter: Putter, wait: Wait): void {
    try {
      if (putter.step()) return;
      if (wait.deadline === NO_WAIT) throw new FullError(undefined, { enqueued: putter.done });
      putter.keep();
      if (!waitSync(this.#store.s.i32, NOT_FULL, wait.deadline, wait.signal, () => putter.step())) {
        throw new FullError(undefined, { enqueued: putter.done });
      }
    } finally {
      putter.abandon();
    }
  }

  /** Puts an item only if there is room now; throws `FullError` otherwise (Python's `put_nowait`). */
  putNowait(item: T): void {
    const putter = this.#putFast(item);
    if (putter) this.#putSync(putter, TRY_ONCE);
  }

  /**
   * Blocking `put` for worker threads: sleeps the thread (`Atomics.wait`) while
   * the queue is full. On the main thread it blocks the event loop. The signal
   * is checked before it blocks and at each wake-up (see {@link WaitOptions.signal}).
   */
  putSync(item: T, options?: WaitOptions): void {
    const wait = waitOf('putSync', options);
    throwIfAborted(wait);
    const putter = this.#putFast(item);
    if (putter) this.#putSync(putter, wait);
  }

  /**
   * Puts many items in order, fewer critical sections and wake-ups than one `put`
   * each. Every item is encoded first, so a bad one fails the call with nothing
   * enqueued. Waits for room as `put` does; on `FullError` / `ShutDownError`,
   * `err.enqueued` tells how many went in. On abort the items already in stay in.
   */
  putMany(items: Iterable<T>, options?: WaitOptions): Promise<void> {
    try {
      const wait = waitOf('putMany', options);
      if (wait.signal?.aborted) return Promise.reject(abortReason(wait.signal));
      return this.#putAsync(new Putter(this.#store, this.#encodeAll(items)), wait);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Blocking {@link putMany} for worker threads. */
  putManySync(items: Iterable<T>, options?: WaitOptions): void {
    const wait = waitOf('putManySync', options);
    throwIfAborted(wait);
    this.#putSync(new Putter(this.#store, this.#encodeAll(items)), wait);
  }

  // ---- get ------------------------------------------------------------------

  /** Takes up to `max` items now: true when it got some; throws once shut down and empty. */
  #take(max: number): boolean {
    const outcome = this.#store.take(max);
    if (outcome === 'taken') return true;
    if (outcome === 'shut-down') throw new ShutDownError();
    return false;
  }

  /**
   * Removes and returns the next item, waiting while the queue is empty
   * (Python's `get`). Rejects with `EmptyError` (`block: false`, or after
   * `timeout`), `ShutDownError` (shut down and empty, or shut down
   * immediately), `GetDeserializationError` (an item taken could not be
   * decoded), or the signal's reason; a cancelled get takes nothing.
   */
  get(options?: WaitOptions): Promise<T> {
    try {
      const wait = waitOf('get', options);
      if (wait.signal?.aborted) return Promise.reject(abortReason(wait.signal));
      if (this.#take(1)) return Promise.resolve(this.#taken.finish(undefined) as T);
      if (wait.deadline === NO_WAIT) throw new EmptyError();
      return this.#getAsync(1, undefined, wait);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Waits for items; decodes them in the same tick as the take, so concurrent gets never mix up blocks. */
  async #getAsync(max: number, into: T[] | undefined, wait: Wait): Promise<T> {
    let first: T | undefined;
    const got = await waitAsync(this.#store.s.i32, NOT_EMPTY, wait.deadline, wait.signal, () => {
      if (!this.#take(max)) return false;
      first = this.#taken.finish(into);
      return true;
    });
    if (!got) throw new EmptyError();
    return first as T;
  }

  #getSync(max: number, into: T[] | undefined, wait: Wait): T {
    throwIfAborted(wait);
    if (this.#take(max)) return this.#taken.finish(into) as T;
    if (wait.deadline === NO_WAIT) throw new EmptyError();
    let first: T | undefined;
    const got = waitSync(this.#store.s.i32, NOT_EMPTY, wait.deadline, wait.signal, () => {
      if (!this.#take(max)) return false;
      first = this.#taken.finish(into);
      return true;
    });
    if (!got) throw new EmptyError();
    return first as T;
  }

  /** Removes and returns an item if one is there now; throws `EmptyError` otherwise (Python's `get_nowait`). */
  getNowait(): T {
    return this.#getSync(1, undefined, TRY_ONCE);
  }

  /**
   * Blocking `get` for worker threads: sleeps the thread (`Atomics.wait`) while
   * the queue is empty. On the main thread it blocks the event loop. The signal
   * is checked before it blocks and at each wake-up (see {@link WaitOptions.signal}).
   */
  getSync(options?: WaitOptions): T {
    return this.#getSync(1, undefined, waitOf('getSync', options));
  }

  /**
   * Removes and returns up to `max` items in queue order, waiting only for the
   * first: it never waits to fill the batch. Errors as {@link get}.
   */
  getMany(max: number, options?: WaitOptions): Promise<T[]> {
    try {
      checkMax('getMany', max);
      const wait = waitOf('getMany', options);
      if (wait.signal?.aborted) return Promise.reject(abortReason(wait.signal));
      const out: T[] = [];
      if (this.#take(max)) {
        this.#taken.finish(out);
        return Promise.resolve(out);
      }
      if (wait.deadline === NO_WAIT) throw new EmptyError();
      return this.#getAsync(max, out, wait).then(() => out);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Blocking {@link getMany} for worker threads. */
  getManySync(max: number, options?: WaitOptions): T[] {
    checkMax('getManySync', max);
    const out: T[] = [];
    this.#getSync(max, out, waitOf('getManySync', options));
    return out;
  }

  // ---- shutdown and iteration -----------------------------------------------

  /**
   * Python 3.13's `shutdown`: later puts fail with `ShutDownError`, blocked
   * putters wake with it, and gets fail once the queue is empty. With
   * `immediate`, queued items are dropped (each counted as done for `join`) and
   * blocked getters and joiners wake at once. Affects every thread.
   */
  shutdown(options?: ShutdownOptions): void {
    const o = checkOptions('shutdown', options, '{ immediate }');
    const immediate = checkBoolean('shutdown', 'immediate', o?.immediate, false);
    const store = this.#store;
    store.shutdown(immediate);
    store.wakeAll(Header.NOT_EMPTY);
    store.wakeAll(Header.NOT_FULL);
    store.wakeAll(Header.ALL_DONE);
  }

  /** `for await (const item of q)`: gets items until the queue is shut down and empty. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let item: T;
      try {
        item = await this.get();
      } catch (err) {
        if (isShutDownError(err)) return;
        throw err;
      }
      yield item;
    }
  }

  /**
   * What `share(q)` sends: the shared buffer, the codec's name, whether
   * priorities need a key function, and the registry of live threads that
   * tells the queue's users whether the holder of its internal lock is alive.
   */
  [shareSymbol](): {
    kind: string;
    data: { buffer: SharedArrayBuffer; codec: string; keyed: boolean; registry: SharedArrayBuffer };
  } {
    const store = this.#store;
    return {
      kind: kindName(this),
      data: {
        buffer: store.sab,
        codec: this.#codec.name,
        keyed: this.#keyed,
        registry: store.registryBuffer,
      },
    };
  }
}

const EMPTY_BYTES = new Uint8Array(0);

/** First size of a batch's own array of encoded items (it doubles as needed). */
const BATCH_START_BYTES = 4096;
/** For A/B runs only: `putMany` encodes each item into an array of its own, as before. */
const BATCH_ENCODE_OFF = process.env.CONC_QUEUE_BATCH_ENCODE === '0';

/** The wait of the `Nowait` calls: one try, no signal. */
const TRY_ONCE: Wait = { deadline: NO_WAIT, signal: undefined };

/** Checks a batch size: a positive integer. */
function checkMax(what: string, max: unknown): number {
  return checkInt(what, 'max', max, 1, 0x7fffffff);
}

/** A Sync call's first look at its signal, before it touches the queue. */
function throwIfAborted(wait: Wait): void {
  if (wait.signal?.aborted) throw abortReason(wait.signal);
}
