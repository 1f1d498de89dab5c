/**
 * The Redis queues that track tasks (Python's `Queue`, `LifoQueue`,
 * `PriorityQueue`, and multiprocessing's `JoinableQueue`), with reliable
 * processing: every item handed out is leased to its consumer until
 * `taskDone()`, and comes back to the queue if the consumer dies first.
 */
import { type AttemptResult, num } from '@conc/lock/internal';
import { abortReason, checkOptions, checkSignal, deadlineOf, remaining } from '@conc/serialize/internal';
import { TaskDoneError } from '../core/errors.js';
import type { AsyncWaitOptions, JoinOptions } from '../core/options.js';
import { defaultPriority, encodePriority, type Priority } from '../core/priority-key.js';
import { RedisBaseQueue, type Taken } from './base-queue.js';
import { LeaseLostError } from './errors.js';
import type { ReliableQueueOptions } from './options.js';
import { LIFO, PRIORITY, type RedisOrder } from './order.js';

/** One item handed out by {@link Queue.receive}, with what a consumer needs to know about it. */
export interface Delivery<T> {
  /** The item. */
  readonly item: T;
  /** The item's id in this queue (the same on every delivery of it). */
  readonly id: string;
  /** Which delivery this is: 1 the first time, more when a consumer died (or stalled) holding it. */
  readonly deliveries: number;
  /** Acknowledges this item (`taskDone()` for it). Rejects `LeaseLostError` if its lease ran out first. */
  taskDone(): Promise<void>;
}

/** A dead letter: an item delivered `maxDeliveries` times without being acknowledged. */
export interface DeadLetter<T> {
  readonly id: string;
  readonly deliveries: number;
  readonly item: T;
}

interface Held {
  readonly id: string;
  readonly delivery: string;
}

/**
 * A FIFO queue on Redis (Python's `queue.Queue`), shared by name by every
 * process and machine, with reliable processing (at-least-once):
 *
 * - `get()` hands an item out under a lease of `visibilityTimeout` ms, renewed
 *   while this process lives; `taskDone()` acknowledges the oldest item this
 *   instance holds (or `receive()`'s `delivery.taskDone()` a given one).
 * - A consumer that dies (or stalls past its lease, or loses Redis that long)
 *   before `taskDone()` has its items delivered again to another consumer,
 *   who reads the count in `receive()`'s `deliveries`. An item may therefore
 *   be processed twice: make its processing idempotent.
 * - Past `maxDeliveries`, an item goes to the dead letters
 *   (`deadLetters()`, `requeueDeadLetters()`) and counts as done for `join`.
 * - `join()` on any machine resolves once every item put was acknowledged.
 *
 * @example
 * ```ts
 * const q = new Queue<Job>({ client: redis, name: 'jobs', visibilityTimeout: 10_000 });
 * for await (const job of q) {
 *   await handle(job);
 *   await q.taskDone();
 * }
 * ```
 */
export class Queue<T = unknown> extends RedisBaseQueue<T> {
  readonly #held: Held[] = [];
  #renewal: NodeJS.Timeout | undefined;

  constructor(options: ReliableQueueOptions) {
    super('Queue', options, true);
  }

  /** How long a lease lasts without renewal, in ms. */
  get visibilityTimeout(): number {
    return this.settings.leaseMs;
  }

  /** Deliveries before the dead letters (0: no limit). */
  get maxDeliveries(): number {
    return this.settings.maxDeliveries;
  }

  /** @internal */
  protected override handedOut(taken: Taken<T>[]): Taken<T>[] {
    for (const t of taken) this.#held.push({ id: t.id, delivery: String(t.deliveries) });
    this.#renew();
    return taken;
  }

  /** Renews the leases of the items held every third of the lease, while any is held. */
  #renew(): void {
    if (this.#renewal || this.#held.length === 0) return;
    this.#renewal = setInterval(
      () => {
        if (this.#held.length === 0) {
          clearInterval(this.#renewal);
          this.#renewal = undefined;
          return;
        }
        const args: Array<string | number> = [this.settings.leaseMs];
        for (const h of this.#held) args.push(h.id, h.delivery);
        // A lost lease shows at taskDone (LeaseLostError); a failed renewal is tried again next time.
        this.run('renew', args).catch(() => {});
      },
      Math.max(10, Math.floor(this.settings.leaseMs / 3)),
    );
    // Holding items never keeps the process alive by itself.
    this.#renewal.unref();
  }

  /**
   * Like `get()`, with what a consumer needs to know: the item's id, which
   * delivery this is, and `taskDone()` for this very item.
   */
  async receive(options?: AsyncWaitOptions): Promise<Delivery<T>> {
    const [t] = await this.take('receive', 1, options);
    const { id, deliveries, item } = t!;
    return { id, deliveries, item, taskDone: () => this.#done('taskDone', id) };
  }

  /**
   * Acknowledges an item (Python's `task_done`): the oldest this instance
   * holds, or, holding none, one item put anywhere. Throws `TaskDoneError`
   * when more are acknowledged than were put, `LeaseLostError` when the
   * item's lease ran out first (it was delivered again).
   */
  async taskDone(): Promise<void> {
    await this.#done('taskDone', this.#held[0]?.id);
  }

  async #done(what: string, id: string | undefined): Promise<void> {
    this.open();
    const at = id === undefined ? -1 : this.#held.findIndex((h) => h.id === id);
    const held = at >= 0 ? this.#held.splice(at, 1)[0] : undefined;
    if (id !== undefined && held === undefined)
      throw new TaskDoneError(`${what}: item ${id} was acknowledged already`);
    const reply = num(await this.run('done', [held?.id ?? '', held?.delivery ?? '']));
    if (reply === -2)
      throw new LeaseLostError(`${what}: the lease of item ${held?.id} ran out; it was delivered again`);
    if (reply === -1) throw new TaskDoneError();
  }

  /**
   * Resolves `true` once every item put (by anyone) was acknowledged, or
   * `false` after `timeout`; rejects with the signal's reason on abort.
   */
  async join(options?: JoinOptions): Promise<boolean> {
    const o = checkOptions('join', options, '{ timeout, signal }');
    const deadline = deadlineOf('join', o?.timeout);
    const signal = checkSignal('join', o?.signal);
    if (signal?.aborted) throw abortReason(signal);
    this.open();
    const attempt = async (): Promise<AttemptResult<boolean>> => {
      const reply = await this.run('joined', [this.settings.maxDeliveries]);
      if (!Array.isArray(reply)) return { done: true, value: true };
      const next = num(reply[1]);
      return next >= 0 ? { done: false, retryIn: next + 1 } : { done: false };
    };
    const first = await attempt();
    if (first.done) return true;
    if (remaining(deadline) === 0) return false;
    return this.waits.wait<boolean>({
      keys: [this.joinKey],
      attempt,
      retryIn: first.retryIn,
      deadline,
      signal,
      timedOut: () => false,
    });
  }

  /** Items acknowledged by nobody yet: put and not yet done (waiting or handed out). */
  async unfinished(): Promise<number> {
    this.open();
    return num(((await this.run('size', [])) as unknown[])[1]);
  }

  /** The dead letters, oldest first (up to `count`). */
  async deadLetters(count = 100): Promise<DeadLetter<T>[]> {
    this.open();
    const reply = (await this.run('dead', [0, count - 1])) as unknown[];
    const out: DeadLetter<T>[] = [];
    for (let i = 0; i + 2 < reply.length; i += 3) {
      out.push({
        id: Buffer.from(reply[i] as Uint8Array).toString(),
        deliveries: num(reply[i + 1]),
        item: this.settings.codec.decode(reply[i + 2] as Uint8Array) as T,
      });
    }
    return out;
  }

  /** Puts up to `count` dead letters back in the queue, with their delivery count reset; resolves how many. */
  async requeueDeadLetters(count = Number.MAX_SAFE_INTEGER): Promise<number> {
    this.open();
    return num(await this.run('requeue', [count]));
  }

  override async close(): Promise<void> {
    clearInterval(this.#renewal);
    this.#renewal = undefined;
    await super.close();
  }
}

/** multiprocessing's `JoinableQueue`: the same reliable {@link Queue} (every Redis queue but SimpleQueue joins). */
export class JoinableQueue<T = unknown> extends Queue<T> {}

/** A {@link Queue} that hands out the newest item first (Python's `LifoQueue`); a redelivered item comes out next. */
export class LifoQueue<T = unknown> extends Queue<T> {
  /** @internal */
  static override readonly order: RedisOrder = LIFO;
}

/** Options of {@link PriorityQueue}. */
export interface PriorityQueueOptions<T> extends ReliableQueueOptions {
  /**
   * The priority of an item (lowest first). Without it: the first element of
   * a `[priority, data]` item, or the item itself when it is a number, bigint,
   * string or boolean. Every instance putting items must use the same.
   */
  key?: (item: T) => Priority;
}

/**
 * A {@link Queue} that hands out the item of lowest priority first (Python's
 * `PriorityQueue`); equal priorities in put order; the data is never compared.
 */
export class PriorityQueue<T = unknown> extends Queue<T> {
  /** @internal */
  static override readonly order: RedisOrder = PRIORITY;
  readonly #key: ((item: T) => Priority) | undefined;

  constructor(options: PriorityQueueOptions<T>) {
    super(options);
    const key = options.key;
    if (key !== undefined && typeof key !== 'function')
      throw new TypeError('PriorityQueue: key must be a function');
    this.#key = key;
  }

  /** @internal */
  protected override priorities(items: readonly T[]): Uint8Array[] {
    const key = this.#key;
    return items.map((item) => encodePriority(key ? key(item) : defaultPriority(item)));
  }
}
