import type { Token } from '@conc/serialize';
import { Kind } from '../engine/layout.js';
import { Queue } from './queue.js';
import { type AttachOptions, attachSetup, defineQueueClass, fromSetup, tokenData } from './setup.js';

/**
 * Python's `queue.LifoQueue`: the most recently put item comes out first (a
 * stack), with everything else as in {@link Queue}.
 *
 * @example
 * ```ts
 * const q = new LifoQueue<number>();
 * await q.putMany([1, 2, 3]);
 * await q.getMany(3); // [3, 2, 1]
 * ```
 */
export class LifoQueue<T = unknown> extends Queue<T> {
  static {
    defineQueueClass(this, Kind.LIFO, 'LifoQueue', (data) =>
      fromSetup(LifoQueue, attachSetup(Kind.LIFO, data, undefined)),
    );
  }

  /** Rebuilds a LifoQueue shared from another thread (as `attach(token)`). */
  static override attach<T = unknown>(
    token: Token<LifoQueue<T>> | Token,
    options?: AttachOptions,
  ): LifoQueue<T> {
    return fromSetup(
      LifoQueue<T>,
      attachSetup(Kind.LIFO, tokenData(token, 'queue.thread.LifoQueue'), options),
    );
  }
}
