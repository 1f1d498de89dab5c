/**
 * The server side of `m.queue()` and `m.joinableQueue()`: Python 3.13's
 * `queue.Queue` semantics (maxsize, task tracking, `shutdown(immediate)`)
 * over an array on the server's one thread. A blocked put or get is a parked
 * waiter, so the server keeps serving everyone else meanwhile.
 */
import { EmptyError, FullError, ShutDownError, TaskDoneError } from '@conc/queue';
import { type CallContext, timeoutArg, WaitQueue } from '../waiters.js';

interface PendingPut {
  readonly items: unknown[];
  /** How many of `items` are in the queue already. */
  done: number;
}

export class SharedQueue {
  static readonly exposed: ReadonlySet<string> = new Set([
    'put',
    'putMany',
    'get',
    'getMany',
    'qsize',
    'empty',
    'full',
    'taskDone',
    'join',
    'shutdown',
    'requeue',
  ]);
  readonly #maxsize: number;
  #items: unknown[] = [];
  #head = 0;
  #unfinished = 0;
  #state: 'open' | 'shutdown' | 'immediate' = 'open';
  readonly #getters = new WaitQueue<unknown[], number>();
  readonly #putters = new WaitQueue<number, PendingPut>();
  readonly #joiners = new WaitQueue<boolean>();

  constructor(maxsize: unknown = 0) {
    if (typeof maxsize !== 'number' || !Number.isInteger(maxsize) || maxsize < 0) {
      throw new RangeError(`queue: maxsize must be a non-negative integer, got ${String(maxsize)}`);
    }
    this.#maxsize = maxsize;
  }

  get #size(): number {
    return this.#items.length - this.#head;
  }

  #room(): number {
    return this.#maxsize === 0 ? Number.POSITIVE_INFINITY : this.#maxsize - this.#size;
  }

  put(ctx: CallContext, item: unknown, timeout?: unknown): void | Promise<void> {
    const r = this.putMany(ctx, [item], timeout);
    return r instanceof Promise ? r.then(() => undefined) : undefined;
  }

  /** Puts every item in order, waiting for room as needed; the result is how many went in. */
  putMany(ctx: CallContext, items: unknown, timeout?: unknown): number | Promise<number> {
    if (!Array.isArray(items)) throw new TypeError('putMany: expected an array of items');
    const ms = timeoutArg(timeout);
    if (this.#state !== 'open') throw new ShutDownError('put: the queue was shut down', { enqueued: 0 });
    const pending: PendingPut = { items, done: 0 };
    if (this.#putters.size === 0) this.#fill(pending);
    if (pending.done === items.length) return items.length;
    if (ms === 0) throw new FullError('put: the queue is full', { enqueued: pending.done });
    return this.#putters.wait(ctx, ms, pending, () => {
      throw new FullError('put: the queue stayed full', { enqueued: pending.done });
    });
  }

  #fill(p: PendingPut): void {
    let n = Math.min(this.#room(), p.items.length - p.done);
    if (n <= 0) return;
    this.#unfinished += n;
    while (n-- > 0) this.#items.push(p.items[p.done++]);
    this.#serveGetters();
  }

  get(ctx: CallContext, timeout?: unknown): unknown | Promise<unknown> {
    const r = this.getMany(ctx, 1, timeout);
    return r instanceof Promise ? r.then((batch) => batch[0]) : r[0];
  }

  /** Up to `max` items, waiting only for the first. */
  getMany(ctx: CallContext, max: unknown, timeout?: unknown): unknown[] | Promise<unknown[]> {
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
      throw new RangeError(`getMany: max must be a positive integer, got ${String(max)}`);
    }
    const ms = timeoutArg(timeout);
    if (this.#state === 'immediate') throw new ShutDownError('get: the queue was shut down');
    if (this.#size > 0) return this.#take(max);
    if (this.#state === 'shutdown') throw new ShutDownError('get: the queue was shut down and is drained');
    if (ms === 0) throw new EmptyError('get: the queue is empty');
    return this.#getters.wait(ctx, ms, max, () => {
      throw new EmptyError('get: no item arrived in time');
    });
  }

  #take(max: number): unknown[] {
    const n = Math.min(max, this.#size);
    const out = this.#items.slice(this.#head, this.#head + n);
    this.#head += n;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#servePutters();
    return out;
  }

  #serveGetters(): void {
    while (this.#size > 0) {
      const w = this.#getters.first();
      if (!w) return;
      w.grant(this.#take(w.data));
    }
  }

  #servePutters(): void {
    while (this.#room() > 0) {
      const w = this.#putters.first();
      if (!w) return;
      this.#fill(w.data);
      if (w.data.done < w.data.items.length) return;
      w.grant(w.data.done);
    }
  }

  /** Puts items back at the head: undoes a get whose caller aborted just as it was served. */
  requeue(_: CallContext, items: unknown): void {
    if (!Array.isArray(items)) throw new TypeError('requeue: expected an array');
    if (this.#state === 'immediate') {
      this.#unfinished -= items.length;
      this.#checkJoined();
      return;
    }
    this.#items.splice(this.#head, 0, ...items);
    this.#serveGetters();
  }

  /** What the queue holds, for releasing the proxies in it when it is freed. */
  contents(): Iterable<unknown> {
    return this.#items.slice(this.#head);
  }

  qsize(): number {
    return this.#size;
  }

  empty(): boolean {
    return this.#size === 0;
  }

  full(): boolean {
    return this.#maxsize > 0 && this.#size >= this.#maxsize;
  }

  taskDone(): void {
    if (this.#unfinished <= 0) throw new TaskDoneError();
    this.#unfinished--;
    this.#checkJoined();
  }

  join(ctx: CallContext, timeout?: unknown): boolean | Promise<boolean> {
    const ms = timeoutArg(timeout);
    if (this.#unfinished === 0) return true;
    if (ms === 0) return false;
    return this.#joiners.wait(ctx, ms, undefined, () => false);
  }

  shutdown(_: CallContext, immediate: unknown = false): void {
    if (immediate === true) {
      this.#state = 'immediate';
      this.#unfinished = Math.max(0, this.#unfinished - this.#size);
      this.#items = [];
      this.#head = 0;
      this.#checkJoined();
    } else if (this.#state === 'open') {
      this.#state = 'shutdown';
    }
    for (let w = this.#putters.first(); w; w = this.#putters.first()) {
      w.fail(new ShutDownError('put: the queue was shut down', { enqueued: w.data.done }));
    }
    // Getters wait only on an empty queue: nothing is left for them.
    for (let w = this.#getters.first(); w; w = this.#getters.first()) {
      w.fail(new ShutDownError('get: the queue was shut down'));
    }
  }

  #checkJoined(): void {
    if (this.#unfinished !== 0) return;
    for (let w = this.#joiners.first(); w; w = this.#joiners.first()) w.grant(true);
  }
}
