import { ConcError, type ConcErrorOptions, defineConcError, errorGuard } from '@conc/serialize';

/**
 * The lease of an item this consumer took ran out before `taskDone()` (the
 * process stalled past `visibilityTimeout`, or lost Redis for that long): the
 * item was handed to another consumer (or to the dead letters), and this
 * acknowledgement counts for nothing. At-least-once: the item is processed
 * again elsewhere.
 */
export class LeaseLostError extends ConcError {
  constructor(
    message = 'the lease of this item ran out; it was delivered again',
    options?: ConcErrorOptions,
  ) {
    super(message, options);
  }
  static {
    defineConcError(this, 'LeaseLostError', 'ERR_CONC_LEASE_LOST');
  }
}

/** Whether `err` is a {@link LeaseLostError} (from any copy of the package). */
export const isLeaseLostError = errorGuard(LeaseLostError);

/** The queue was closed in this process (`close()`): its calls fail with this. */
export class QueueClosedError extends ConcError {
  constructor(message = 'the queue was closed in this process', options?: ConcErrorOptions) {
    super(message, options);
  }
  static {
    defineConcError(this, 'QueueClosedError', 'ERR_CONC_QUEUE_CLOSED');
  }
}

/** Whether `err` is a {@link QueueClosedError}. */
export const isQueueClosedError = errorGuard(QueueClosedError);
