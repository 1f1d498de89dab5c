/**
 * What every Redis queue shares: put and get (waiting, non-blocking, timed,
 * batched), sizes, shutdown, async iteration, and the leases of the items
 * handed out. The order lives in the scripts (`order.ts`); waiting is
 * `@conc/lock/redis`'s engine (a token list and `BLPOP`, never polling).
 */
import { type AttemptResult, BlockingWaits, num, type RedisArgument } from '@conc/lock/internal';
import type { Codec } from '@conc/serialize';
import {
  abortReason,
  blockingDeadline,
  checkInt,
  checkOptions,
  checkSignal,
  NO_WAIT,
  remaining,
} from '@conc/serialize/internal';
import { EmptyError, FullError, ShutDownError } from '../core/errors.js';
import type { AsyncWaitOptions, ShutdownOptions } from '../core/options.js';
import { QueueClosedError } from './errors.js';
import { type ReliableQueueOptions, type Settings, settings } from './options.js';
import { FIFO, type RedisOrder } from './order.js';
import { KEY_NAMES, type QueueScripts, SCRIPTS } from './scripts.js';

const K_GET = 6;
const K_PUT = 7;
const K_JOIN = 8;
const K_SHUT = 9;

/** One item as it was handed out: its id, which delivery this is, and the item. */
export interface Taken<T> {
  readonly id: string;
  readonly deliveries: number;
  readonly item: T;
}

/** The part of every Redis queue that does not depend on task tracking. */
export abstract class RedisBaseQueue<T> {
  /** @internal */ protected readonly settings: Settings;
  /** @internal */ protected readonly scripts: QueueScripts;
  /** @internal */ protected readonly waits: BlockingWaits;
  readonly #codec: Codec;
  #closed: QueueClosedError | undefined;
  /** @internal the order of this class's items (the subclasses change it). */
  static readonly order: RedisOrder = FIFO;

  /** @internal */
  protected constructor(what: string, options: ReliableQueueOptions | undefined, reliable: boolean) {
    this.settings = settings(what, options, KEY_NAMES, reliable);
    this.scripts = SCRIPTS[(new.target as unknown as { order: RedisOrder }).order.name];
    this.waits = new BlockingWaits(this.settings.connection);
    this.#codec = this.settings.codec;
  }

  /** The queue's name, as given. */
  get name(): string {
    return this.settings.name;
  }

  /** The largest number of items waiting (0: no limit). */
  get maxsize(): number {
    return this.settings.maxsize;
  }

  /** @internal runs one of the queue's scripts. */
  protected run(script: keyof QueueScripts, args: readonly RedisArgument[]): Promise<unknown> {
    return this.scripts[script].run(this.settings.connection, this.settings.keys, args);
  }

  /** @internal the priority bytes of each item (PriorityQueue), or nothing. */
  protected priorities(_items: readonly T[]): Uint8Array[] | undefined {
    return undefined;
  }

  /** @internal throws once closed. */
  protected open(): void {
    if (this.#closed) throw this.#closed;
  }

  /**
   * Puts `item` at the end (Python's `put`), waiting for room in a bounded
   * queue. Rejects `FullError` on `block: false` or after `timeout`,
   * `ShutDownError` after `shutdown()`, `SerializationError` (nothing put) for
   * an item the codec cannot carry.
   */
  async put(item: T, options?: AsyncWaitOptions): Promise<void> {
    await this.#put('put', [item], options);
  }

  /** `put(item, { block: false })`. */
  putNowait(item: T): Promise<void> {
    return this.put(item, { block: false });
  }

  /**
   * Puts every item in order (one round trip per batch that fits), waiting for
   * room as `put` does. On failure the error's `enqueued` says how many went in.
   */
  async putMany(items: Iterable<T>, options?: AsyncWaitOptions): Promise<void> {
    await this.#put('putMany', [...items], options);
  }

  async #put(what: string, items: T[], options: AsyncWaitOptions | undefined): Promise<void> {
    const o = checkOptions(what, options, '{ block, timeout, signal }');
    const deadline = blockingDeadline(what, 'block', o?.block, o?.timeout);
    const signal = checkSignal(what, o?.signal);
    if (signal?.aborted) throw abortReason(signal);
    this.open();
    if (items.length === 0) return;
    // Every item is encoded before any goes in: one that cannot be fails the call, nothing put.
    const payloads = items.map((item) => this.#codec.encode(item));
    const keys = this.priorities(items);
    let enqueued = 0;
    const attempt = async (): Promise<AttemptResult<number>> => {
      const args: RedisArgument[] = [this.settings.maxsize, items.length - enqueued];
      for (let i = enqueued; i < items.length; i++) args.push(payloads[i]!);
      if (keys) for (let i = enqueued; i < items.length; i++) args.push(keys[i]!);
      const reply = (await this.run('put', args)) as unknown[];
      const status = num(reply[0]);
      enqueued += num(reply[1]);
      if (status === 2) throw new ShutDownError(undefined, { enqueued });
      return status === 0 ? { done: true, value: enqueued } : { done: false };
    };
    const first = await attempt();
    if (first.done) return;
    const full = () => new FullError(undefined, { enqueued });
    if (deadline === NO_WAIT || remaining(deadline) === 0) throw full();
    await this.waits.wait({
      keys: [this.settings.keys[K_PUT]!, this.settings.keys[K_SHUT]!],
      attempt,
      deadline,
      signal,
      timedOut: () => {
        throw full();
      },
    });
  }

  /** @internal takes up to `max` items, waiting as `options` say. */
  protected async take(
    what: string,
    max: number,
    options: AsyncWaitOptions | undefined,
  ): Promise<Taken<T>[]> {
    const o = checkOptions(what, options, '{ block, timeout, signal }');
    const deadline = blockingDeadline(what, 'block', o?.block, o?.timeout);
    const signal = checkSignal(what, o?.signal);
    if (signal?.aborted) throw abortReason(signal);
    this.open();
    const attempt = async (): Promise<AttemptResult<Taken<T>[]>> => {
      const reply = (await this.run('take', [
        max,
        this.settings.leaseMs,
        this.settings.maxDeliveries,
      ])) as unknown[];
      const status = num(reply[0]);
      if (status === -1) throw new ShutDownError();
      if (status === 0) {
        const next = num(reply[1]);
        return next >= 0 ? { done: false, retryIn: next + 1 } : { done: false };
      }
      return { done: true, value: this.#decode(reply) };
    };
    let retryIn: number | undefined;
    // Waiters already queued here go first: a new get takes no item from under them.
    if (this.waits.waitingOn(this.settings.keys[K_GET]!) === 0 || deadline === NO_WAIT) {
      const first = await attempt();
      if (first.done) return this.handedOut(first.value);
      if (deadline === NO_WAIT || remaining(deadline) === 0) throw new EmptyError();
      retryIn = first.retryIn;
    } else {
      retryIn = 0;
    }
    const taken = await this.waits.wait({
      keys: [this.settings.keys[K_GET]!, this.settings.keys[K_SHUT]!],
      attempt,
      retryIn,
      undo: (value) =>
        this.run(
          'untake',
          value.map((t) => t.id),
        ).then(() => undefined),
      deadline,
      signal,
      timedOut: () => {
        throw new EmptyError();
      },
    });
    return this.handedOut(taken);
  }

  /** @internal what the tracking subclass does with items handed out (leases). */
  protected handedOut(taken: Taken<T>[]): Taken<T>[] {
    return taken;
  }

  #decode(reply: unknown[]): Taken<T>[] {
    const out: Taken<T>[] = [];
    for (let i = 1; i + 2 < reply.length + 1; i += 3) {
      const id = reply[i];
      out.push({
        id: id instanceof Uint8Array ? Buffer.from(id).toString() : String(id),
        deliveries: num(reply[i + 1]),
        item: this.#codec.decode(reply[i + 2] as Uint8Array) as T,
      });
    }
    return out;
  }

  /**
   * Removes and returns the next item (Python's `get`), waiting for one.
   * Rejects `EmptyError` on `block: false` or after `timeout`, `ShutDownError`
   * once the queue is shut down and empty.
   */
  async get(options?: AsyncWaitOptions): Promise<T> {
    const [first] = await this.take('get', 1, options);
    return first!.item;
  }

  /** `get({ block: false })`. */
  getNowait(): Promise<T> {
    return this.get({ block: false });
  }

  /** Up to `max` items in one round trip, waiting (as `get`) only for the first. */
  async getMany(max: number, options?: AsyncWaitOptions): Promise<T[]> {
    checkInt('getMany', 'max', max, 1, 1_000_000);
    return (await this.take('getMany', max, options)).map((t) => t.item);
  }

  /** Items waiting (not counting those handed out and not yet acknowledged): a snapshot. */
  async qsize(): Promise<number> {
    this.open();
    return num(((await this.run('size', [])) as unknown[])[0]);
  }

  /** `qsize() === 0`: a snapshot. */
  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }

  /** Whether a bounded queue holds `maxsize` items: a snapshot. */
  async full(): Promise<boolean> {
    return this.settings.maxsize > 0 && (await this.qsize()) >= this.settings.maxsize;
  }

  /**
   * Python 3.13's `shutdown`, seen by every instance on every machine: later
   * puts fail with `ShutDownError`, gets drain what is left and then fail;
   * with `immediate` the waiting items are dropped (each counted done) and
   * gets fail at once. Blocked calls everywhere wake.
   */
  async shutdown(options?: ShutdownOptions): Promise<void> {
    const o = checkOptions('shutdown', options, '{ immediate }');
    const immediate = o?.immediate ?? false;
    if (typeof immediate !== 'boolean') throw new TypeError('shutdown: immediate must be a boolean');
    this.open();
    await this.run('shutdown', [immediate ? 1 : 0]);
  }

  /**
   * Closes this instance (not the queue: other instances go on): pending calls
   * reject with `QueueClosedError`, the blocking connection closes. Your client
   * stays open.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = new QueueClosedError();
    await this.waits.close(this.#closed);
  }

  /** `close()` at the end of an `await using` scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Deletes every key of the queue from Redis (items, leases, dead letters,
   * state) and closes this instance: the name is free for a new queue.
   */
  async destroy(): Promise<void> {
    await this.close();
    await this.settings.connection.send('DEL', this.settings.keys);
  }

  /** Gets items until the queue is shut down and drained. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      let item: T;
      try {
        item = await this.get();
      } catch (err) {
        if (err instanceof ShutDownError || (err as { code?: string }).code === 'ERR_CONC_QUEUE_SHUT_DOWN')
          return;
        throw err;
      }
      yield item;
    }
  }

  /** @internal key of the join wake list. */
  protected get joinKey(): string {
    return this.settings.keys[K_JOIN]!;
  }
}
