import { RedisBaseQueue } from './base-queue.js';
import type { RedisQueueOptions } from './options.js';

/**
 * Python's `SimpleQueue` on Redis: FIFO, unbounded, no task tracking, and
 * at-most-once: an item is gone from Redis once `get()` hands it out, so a
 * consumer that dies before handling it loses it. Use {@link Queue} for
 * redelivery. The fastest Redis queue: one script per put and per get.
 *
 * @example
 * ```ts
 * const q = new SimpleQueue<string>({ client: redis, name: 'events' });
 * await q.put('hello');
 * await q.get(); // 'hello'
 * ```
 */
export class SimpleQueue<T = unknown> extends RedisBaseQueue<T> {
  constructor(options: Omit<RedisQueueOptions, 'maxsize'>) {
    super('SimpleQueue', { ...options, maxsize: 0 }, false);
  }
}
