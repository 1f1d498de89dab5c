/**
 * Proxy of `m.queue()` and `m.joinableQueue()`, with `@conc/queue`'s
 * interface: `put/get({ block, timeout, signal })`, `putNowait/getNowait`,
 * batches, `taskDone/join`, Python 3.13's `shutdown({ immediate })`, and
 * `for await`. A blocked call parks on the server, which keeps serving every
 * other client meanwhile.
 */
import type { AsyncWaitOptions, JoinOptions, ShutdownOptions } from '@conc/queue';
import { isShutDownError } from '@conc/queue';
import { checkBlock, checkWait, rejecting } from './options.js';
import { BaseProxy } from './proxy.js';

export class QueueProxy<T = unknown> extends BaseProxy {
  /** Puts `item`, waiting for room in a bounded queue; `FullError` on `block: false` or timeout, `ShutDownError` after shutdown. */
  put(item: T, options?: AsyncWaitOptions): Promise<void> {
    return rejecting(() => {
      const { timeout, signal } = checkBlock('put', options);
      return this._wait<void>('put', [item, timeout], signal);
    });
  }

  putNowait(item: T): Promise<void> {
    return this._call('put', [item, 0]);
  }

  /** Takes the next item, waiting for one; `EmptyError` on `block: false` or timeout. */
  get(options?: AsyncWaitOptions): Promise<T> {
    return rejecting(() => {
      const { timeout, signal } = checkBlock('get', options);
      return this._wait<T>('get', [timeout], signal, (item) => this.#requeue([item]));
    });
  }

  getNowait(): Promise<T> {
    return this._call('get', [0]);
  }

  /** Puts every item in order (one round trip); a `FullError` / `ShutDownError` says how many went in (`enqueued`). */
  putMany(items: Iterable<T>, options?: AsyncWaitOptions): Promise<void> {
    return rejecting(() => {
      const { timeout, signal } = checkBlock('putMany', options);
      return this._wait<number>('putMany', [[...items], timeout], signal).then(() => undefined);
    });
  }

  /** Up to `max` items, waiting only for the first. */
  getMany(max: number, options?: AsyncWaitOptions): Promise<T[]> {
    return rejecting(() => {
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
        throw new RangeError(`getMany: max must be a positive integer, got ${String(max)}`);
      }
      const { timeout, signal } = checkBlock('getMany', options);
      return this._wait<T[]>('getMany', [max, timeout], signal, (items) => this.#requeue(items));
    });
  }

  #requeue(items: unknown[]): void {
    this._call('requeue', [items]).catch(() => {});
  }

  /** Items queued now (a snapshot). */
  qsize(): Promise<number> {
    return this._call('qsize', []);
  }
  empty(): Promise<boolean> {
    return this._call('empty', []);
  }
  full(): Promise<boolean> {
    return this._call('full', []);
  }
  /** Marks one item taken as done; `TaskDoneError` when called more times than items were put. */
  taskDone(): Promise<void> {
    return this._call('taskDone', []);
  }
  /** Resolves `true` once every item put was marked done, `false` when the timeout runs out first. */
  join(options?: JoinOptions): Promise<boolean> {
    return rejecting(() => {
      const { timeout, signal } = checkWait('join', options);
      return this._wait<boolean>('join', [timeout], signal);
    });
  }
  /** Python 3.13's shutdown: later puts fail; gets drain what is left (or fail at once with `immediate`). */
  shutdown(options?: ShutdownOptions): Promise<void> {
    return this._call('shutdown', [options?.immediate === true]);
  }

  /** Gets items until the queue is shut down and drained. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
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
}
