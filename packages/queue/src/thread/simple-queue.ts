import type { Token } from '@conc/serialize';
import { Kind } from '../engine/layout.js';
import { BaseQueue } from './base-queue.js';
import {
  type AttachOptions,
  attachSetup,
  type BaseQueueOptions,
  defineQueueClass,
  fromSetup,
  setup,
  tokenData,
} from './setup.js';

/** Options of {@link SimpleQueue}. */
export type SimpleQueueOptions = BaseQueueOptions;

/**
 * Python's `queue.SimpleQueue`: an unbounded FIFO queue without task tracking
 * (no `taskDone`/`join`, no `maxsize`), so each put and get does a little less.
 * Unlike Python's it can be shut down, which ends `for await` loops; and its
 * memory is bounded by `capacityBytes`, where `put` waits when it is full.
 */
export class SimpleQueue<T = unknown> extends BaseQueue<T> {
  static {
    defineQueueClass(this, Kind.SIMPLE, 'SimpleQueue', (data) =>
      fromSetup(SimpleQueue, attachSetup(Kind.SIMPLE, data, undefined)),
    );
  }

  constructor(options?: SimpleQueueOptions) {
    super(setup(Kind.SIMPLE, 'SimpleQueue', options));
  }

  /** Rebuilds a SimpleQueue shared from another thread (as `attach(token)`). */
  static attach<T = unknown>(token: Token<SimpleQueue<T>> | Token, options?: AttachOptions): SimpleQueue<T> {
    return fromSetup(
      SimpleQueue<T>,
      attachSetup(Kind.SIMPLE, tokenData(token, 'queue.thread.SimpleQueue'), options),
    );
  }
}
