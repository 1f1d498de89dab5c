import type { Token } from '@conc/serialize';
import { abortReason, checkOptions, checkSignal, deadlineOf } from '@conc/serialize/internal';
import { TaskDoneError } from '../core/errors.js';
import type { JoinOptions } from '../core/options.js';
import { Header, Kind } from '../engine/layout.js';
import { ALL_DONE, waitAsync, waitSync } from '../engine/wait.js';
import { BaseQueue, queueStore } from './base-queue.js';
import {
  type AttachOptions,
  attachSetup,
  type BaseQueueOptions,
  defineQueueClass,
  fromSetup,
  kindOf,
  setup,
  tokenData,
} from './setup.js';

/** Options of {@link Queue}, {@link LifoQueue} and {@link PriorityQueue}. */
export interface QueueOptions extends BaseQueueOptions {
  /**
   * The most items the queue holds (Python's `maxsize`); `put` waits while it
   * is full. 0 or less: no limit on the count (memory is still bounded by
   * `capacityBytes`).
   * @default 0
   * @example
   * ```ts
   * const q = new Queue<Job>({ maxsize: 100 }); // producers wait when 100 jobs are queued
   * ```
   */
  maxsize?: number;
}

/**
 * Python's `queue.Queue` for worker threads: a first-in first-out queue in
 * shared memory that any thread holding it (see `share`/`attach`) can put
 * to and get from, with `taskDone`/`join` and Python 3.13's `shutdown`.
 *
 * @example
 * ```ts
 * const q = new Queue<{ id: number }>({ maxsize: 1000 });
 * new Worker(url, { workerData: { q: share(q) } });   // worker: const q = attach(workerData.q); q.getSync()
 * await q.put({ id: 1 });
 * await q.join();                                      // until a consumer called taskDone() for each item
 * ```
 */
export class Queue<T = unknown> extends BaseQueue<T> {
  static {
    defineQueueClass(this, Kind.FIFO, 'Queue', (data) =>
      fromSetup(Queue, attachSetup(Kind.FIFO, data, undefined)),
    );
  }

  constructor(options?: QueueOptions) {
    super(setup(kindOf(new.target), new.target.name, options));
  }

  /**
   * Rebuilds a queue shared from another thread: the same as `attach(token)`
   * from `@conc/serialize`, with options for this side.
   */
  static attach<T = unknown>(token: Token<Queue<T>> | Token, options?: AttachOptions): Queue<T> {
    return fromSetup(Queue<T>, attachSetup(Kind.FIFO, tokenData(token, 'queue.thread.Queue'), options));
  }

  /** The item limit given at construction (Python's `maxsize`); 0 when unbounded. */
  get maxsize(): number {
    return queueStore(this).maxsize;
  }

  /** True when the queue held `maxsize` items at the moment of the call (a snapshot). */
  full(): boolean {
    const store = queueStore(this);
    return store.maxsize > 0 && store.count() >= store.maxsize;
  }

  /**
   * Marks one item taken with `get` as processed (Python's `task_done`). When
   * every item put has been marked, `join()` resolves in every thread.
   * @throws TaskDoneError when called more times than items were put.
   */
  taskDone(): void {
    const store = queueStore(this);
    const left = store.taskDone(1);
    if (left === 'too-often') throw new TaskDoneError();
    if (left === 0) store.wake(Header.ALL_DONE, Header.JOIN_WAITERS, Number.POSITIVE_INFINITY);
  }

  /**
   * Waits until every item put has been marked with `taskDone()` (Python's
   * `join`); also resolves when `shutdown({ immediate: true })` dropped the rest.
   * Resolves `true`, or `false` when `timeout` passes first.
   */
  join(options?: JoinOptions): Promise<boolean> {
    try {
      const o = checkOptions('join', options, '{ timeout, signal }');
      const deadline = deadlineOf('join', o?.timeout);
      const signal = checkSignal('join', o?.signal);
      if (signal?.aborted) return Promise.reject(abortReason(signal));
      const store = queueStore(this);
      if (store.unfinished() === 0) return Promise.resolve(true);
      return waitAsync(store.s.i32, ALL_DONE, deadline, signal, () => store.unfinished() === 0);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Blocking {@link join} for worker threads; `true` when done, `false` after
   * `timeout`. The signal is checked before it blocks and at each wake-up (as
   * for `getSync`).
   */
  joinSync(options?: JoinOptions): boolean {
    const o = checkOptions('joinSync', options, '{ timeout, signal }');
    const deadline = deadlineOf('joinSync', o?.timeout);
    const signal = checkSignal('joinSync', o?.signal);
    if (signal?.aborted) throw abortReason(signal);
    const store = queueStore(this);
    return waitSync(store.s.i32, ALL_DONE, deadline, signal, () => store.unfinished() === 0);
  }
}
