/**
 * The errors every queue tier throws. They carry a stable `name` and `code`,
 * survive crossing a thread or process boundary (`errorToWire`), and are
 * recognised with the `isXxxError` guards rather than `instanceof` alone (a
 * worker loads its own copy of the package).
 */
import {
  ConcError,
  type ConcErrorOptions,
  DeserializationError,
  defineConcError,
  errorGuard,
} from '@conc/serialize';

/** Options of the queue errors that report a partly done batch. */
export interface QueueErrorOptions extends ConcErrorOptions {
  /** For `putMany`: how many items of the batch were enqueued before the failure. */
  enqueued?: number;
}

/**
 * `put` found the queue full: `block: false`, or the `timeout` passed. Python's `queue.Full`.
 * From `putMany`, {@link FullError.enqueued} tells how many items went in first.
 */
export class FullError extends ConcError {
  /** Items of a `putMany` batch that were enqueued before the queue stayed full (0 for `put`). */
  readonly enqueued: number;
  constructor(message = 'the queue is full', options?: QueueErrorOptions) {
    super(message, options);
    this.enqueued = options?.enqueued ?? 0;
  }
  static {
    defineConcError(this, 'FullError', 'ERR_CONC_QUEUE_FULL');
  }
}

/** `get` found the queue empty: `block: false`, or the `timeout` passed. Python's `queue.Empty`. */
export class EmptyError extends ConcError {
  constructor(message = 'the queue is empty', options?: ConcErrorOptions) {
    super(message, options);
  }
  static {
    defineConcError(this, 'EmptyError', 'ERR_CONC_QUEUE_EMPTY');
  }
}

/**
 * The queue was shut down (Python 3.13's `queue.ShutDown`): every `put` after
 * `shutdown()`, and every `get` once the queue is empty (at once after
 * `shutdown({ immediate: true })`).
 */
export class ShutDownError extends ConcError {
  /** Items of a `putMany` batch that were enqueued before the shutdown (0 for `put`). */
  readonly enqueued: number;
  constructor(message = 'the queue was shut down', options?: QueueErrorOptions) {
    super(message, options);
    this.enqueued = options?.enqueued ?? 0;
  }
  static {
    defineConcError(this, 'ShutDownError', 'ERR_CONC_QUEUE_SHUT_DOWN');
  }
}

/** `taskDone()` was called more times than items were put (Python raises `ValueError`). */
export class TaskDoneError extends ConcError {
  constructor(message = 'taskDone() called more times than there were items', options?: ConcErrorOptions) {
    super(message, options);
  }
  static {
    defineConcError(this, 'TaskDoneError', 'ERR_CONC_QUEUE_TASK_DONE');
  }
}

/**
 * An item's encoded size exceeds what the queue can ever hold (`capacityBytes`
 * minus its bookkeeping), so `put` fails at once instead of waiting forever.
 */
export class ItemTooLargeError extends ConcError {
  /** The item's size in bytes as the queue would store it (encoded payload and priority key). */
  readonly size: number;
  /** The largest item the queue can hold, in bytes. */
  readonly limit: number;
  constructor(size: number, limit: number, options?: ConcErrorOptions) {
    super(
      `an item of ${size} bytes (encoded) can never fit: the queue holds items of at most ${limit} bytes; raise capacityBytes`,
      options,
    );
    this.size = size;
    this.limit = limit;
  }
  static {
    defineConcError(this, 'ItemTooLargeError', 'ERR_CONC_QUEUE_ITEM_TOO_LARGE');
  }
}

/**
 * A get whose taken items did not all decode (a corrupt item, or one holding a
 * primitive whose package this thread has not imported). It is a
 * `DeserializationError` (same `name` and `code`, `ERR_CONC_DESERIALIZATION`)
 * that says what became of the items: they are out of the queue either way.
 *
 * @example
 * ```ts
 * try {
 *   jobs = await q.getMany(100);
 * } catch (err) {
 *   if (!isGetDeserializationError<Job>(err)) throw err;
 *   jobs = err.items;                                // the ones that decoded
 *   for (let i = jobs.length; i < err.taken; i++) q.taskDone(); // the lost ones count as done
 * }
 * ```
 */
export class GetDeserializationError<T = unknown> extends DeserializationError {
  /** The items of this get that did decode, in queue order (none for a single `get`). */
  readonly items: T[];
  /** How many items the get took out of the queue (each to mark with `taskDone()` when tasks are tracked). */
  readonly taken: number;
  constructor(message: string, items: T[], taken: number, options?: ConcErrorOptions) {
    super(message, options);
    this.items = items;
    this.taken = taken;
  }
}

/**
 * True for a {@link GetDeserializationError}: a `DeserializationError` from a
 * queue's get, with `items` and `taken`.
 */
export function isGetDeserializationError<T = unknown>(value: unknown): value is GetDeserializationError<T> {
  return (
    isDeserializationError(value) &&
    Array.isArray((value as Partial<GetDeserializationError>).items) &&
    typeof (value as Partial<GetDeserializationError>).taken === 'number'
  );
}

const isDeserializationError = errorGuard(DeserializationError);

/** True for a {@link FullError} from any copy of this package, in any thread. */
export const isFullError = errorGuard(FullError);
/** True for an {@link EmptyError} from any copy of this package, in any thread. */
export const isEmptyError = errorGuard(EmptyError);
/** True for a {@link ShutDownError} from any copy of this package, in any thread. */
export const isShutDownError = errorGuard(ShutDownError);
/** True for a {@link TaskDoneError} from any copy of this package, in any thread. */
export const isTaskDoneError = errorGuard(TaskDoneError);
/** True for an {@link ItemTooLargeError} from any copy of this package, in any thread. */
export const isItemTooLargeError = errorGuard(ItemTooLargeError);
