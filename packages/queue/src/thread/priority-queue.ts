import type { Token } from '@conc/serialize';
import type { Priority } from '../core/priority-key.js';
import { Kind } from '../engine/layout.js';
import { Queue, type QueueOptions } from './queue.js';
import { type AttachOptions, attachSetup, defineQueueClass, fromSetup, tokenData } from './setup.js';

/** Options of {@link PriorityQueue}. */
export interface PriorityQueueOptions<T> extends QueueOptions {
  /**
   * Computes an item's priority in the thread that puts it (lowest first).
   * Without it, the priority is the first element of a `[priority, data]`
   * item, or the item itself when it is a number, bigint, string or boolean.
   * A function cannot travel to other threads: attach the queue there with
   * `PriorityQueue.attach(token, { key })`.
   * @default undefined
   * @example
   * ```ts
   * const q = new PriorityQueue<Job>({ key: (job) => [job.urgency, job.deadline] });
   * ```
   */
  key?: (item: T) => Priority;
}

/** {@link AttachOptions} plus the key function of a queue made with one. */
export interface PriorityAttachOptions<T> extends AttachOptions {
  /** The same key function the queue was made with (required for such a queue's puts). */
  key?: (item: T) => Priority;
}

/**
 * Python's `queue.PriorityQueue`: the item with the lowest priority comes out
 * first. Only priorities are compared, never the data, and items of equal
 * priority come out in the order they were put (Python would compare the data
 * next, and fail on data that cannot be compared). Priorities: numbers,
 * bigints and booleans by value, then strings by code point, then arrays
 * element by element.
 *
 * @example
 * ```ts
 * const q = new PriorityQueue<[number, string]>();
 * await q.putMany([[10, 'A'], [50, 'B'], [30, 'C']]);
 * await q.getMany(3); // [[10, 'A'], [30, 'C'], [50, 'B']]
 * ```
 */
export class PriorityQueue<T = unknown> extends Queue<T> {
  static {
    defineQueueClass(this, Kind.PRIORITY, 'PriorityQueue', (data) =>
      fromSetup(PriorityQueue, attachSetup(Kind.PRIORITY, data, undefined)),
    );
  }

  constructor(options?: PriorityQueueOptions<T>) {
    super(options);
  }

  /** Rebuilds a PriorityQueue shared from another thread; pass `key` if it was made with one. */
  static override attach<T = unknown>(
    token: Token<PriorityQueue<T>> | Token,
    options?: PriorityAttachOptions<T>,
  ): PriorityQueue<T> {
    return fromSetup(
      PriorityQueue<T>,
      attachSetup(Kind.PRIORITY, tokenData(token, 'queue.thread.PriorityQueue'), options),
    );
  }
}
