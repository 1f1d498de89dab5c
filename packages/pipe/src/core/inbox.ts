/**
 * The receiving side every connection shares: complete messages waiting to be
 * read, the `recv` calls waiting for one (served first come, first served),
 * readiness watchers for `poll` and `wait`, and the reason the stream ended.
 * Messages that arrived before the end are always handed out before the end
 * is reported.
 */
import { PipeTimeoutError } from '../errors.js';
import { checkTimeout, type WaitOptions, waitWith } from './deadline.js';
import type { KeepAlive } from './keep-alive.js';

interface Waiter<M> {
  resolve(message: M): void;
  reject(error: unknown): void;
  release(): void;
}

const noop = () => {};

export class Inbox<M> {
  #items: M[] = [];
  #head = 0;
  readonly #waiters: Waiter<M>[] = [];
  readonly #watchers = new Set<() => void>();
  #reason: Error | undefined;
  readonly #keepAlive: KeepAlive;
  readonly #onTake: ((message: M) => void) | undefined;

  /**
   * @param keepAlive held while a `recv` or a watcher waits
   * @param onTake told of every message handed out (for backpressure accounting)
   */
  constructor(keepAlive: KeepAlive, onTake?: (message: M) => void) {
    this.#keepAlive = keepAlive;
    this.#onTake = onTake;
  }

  /** Messages buffered and not yet taken. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** True once no more messages will arrive (they may still be buffered). */
  get ended(): boolean {
    return this.#reason !== undefined;
  }

  /** Why the stream ended, once it has. */
  get reason(): Error | undefined {
    return this.#reason;
  }

  /** True when a `recv` would settle at once: a message is buffered or the stream has ended. */
  get ready(): boolean {
    return this.size > 0 || this.#reason !== undefined;
  }

  /** Adds a complete message: handed to the oldest waiting `recv`, else buffered. */
  push(message: M): void {
    if (this.#reason !== undefined) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.release();
      this.#onTake?.(message);
      waiter.resolve(message);
      return;
    }
    this.#items.push(message);
    if (this.#watchers.size > 0) this.#notify();
  }

  /** No more messages will come: waiting `recv`s reject with `reason` (buffered messages stay readable). */
  end(reason: Error): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.release();
      waiter.reject(reason);
    }
    this.#notify();
  }

  /** Drops every buffered message (a local close). */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  /** Takes the oldest buffered message; only call when `size > 0`. */
  shift(): M {
    const message = this.#items[this.#head] as M;
    this.#items[this.#head] = undefined as M;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#onTake?.(message);
    return message;
  }

  /**
   * The next message, waiting for one when none is buffered.
   * @param what names the call in errors (`recv: no message within 100 ms`)
   */
  take(options: WaitOptions | undefined, keepAlive = true, what = 'recv'): Promise<M> {
    if (this.size > 0) return Promise.resolve(this.shift());
    if (this.#reason !== undefined) return Promise.reject(this.#reason);
    try {
      checkTimeout(what, options?.timeout);
    } catch (err) {
      return Promise.reject(err);
    }
    return waitWith<M>(
      what,
      options,
      (ms) => new PipeTimeoutError(`${what}: nothing arrived within ${ms} ms`, ms),
      (resolve, reject) => {
        const waiter: Waiter<M> = { resolve, reject, release: keepAlive ? this.#keepAlive.hold() : noop };
        this.#waiters.push(waiter);
        return () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          waiter.release();
        };
      },
    );
  }

  /**
   * Calls `fn` whenever a message arrives or the stream ends, until the
   * returned function is called. Holds the keep-alive meanwhile, unless told not to.
   */
  watch(fn: () => void, keepAlive = true): () => void {
    const release = keepAlive ? this.#keepAlive.hold() : noop;
    // A distinct wrapper per registration, so one function can watch twice.
    const entry = () => fn();
    this.#watchers.add(entry);
    return () => {
      if (this.#watchers.delete(entry)) release();
    };
  }

  #notify(): void {
    for (const fn of [...this.#watchers]) fn();
  }
}
