/**
 * Options of the queue calls, shared by every tier, and their validation:
 * a bad combination fails at once with a clear message, before anything waits.
 */

/** How long and whether a `put` or `get` may wait. */
export interface WaitOptions {
  /**
   * Wait for room (put) or an item (get). With `false` the call fails at once
   * with `FullError` / `EmptyError` instead of waiting; `timeout` must then be
   * left out.
   * @default true
   * @example
   * ```ts
   * q.put(job, { block: false }); // FullError at once when the queue is full
   * ```
   */
  block?: boolean;
  /**
   * Give up after this many milliseconds with `FullError` / `EmptyError`. The
   * time covers the whole call, including any wait for the queue's internal
   * lock. `0` tries once. Leave it out (or pass `Infinity`) to wait as long as it takes.
   * @default Infinity
   * @example
   * ```ts
   * const job = await q.get({ timeout: 500 }); // EmptyError after 500 ms
   * ```
   */
  timeout?: number;
}

/** {@link WaitOptions} plus cancellation, for the promise-returning calls. */
export interface AsyncWaitOptions extends WaitOptions {
  /**
   * Cancels the wait: the call rejects with `signal.reason` and leaves the
   * queue as it was (nothing put, nothing taken). An already aborted signal
   * rejects before the call looks at the queue.
   * @example
   * ```ts
   * await q.get({ signal: AbortSignal.timeout(1000) });
   * ```
   */
  signal?: AbortSignal;
}

/** Options of `join()`. */
export interface JoinOptions {
  /**
   * Stop waiting after this many milliseconds: `join` then resolves `false`
   * (as Python's `Event.wait` returns `False`); it resolves `true` once every
   * item put has been marked done.
   * @default Infinity
   */
  timeout?: number;
  /** Cancels the wait; `join` rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of `shutdown()`. */
export interface ShutdownOptions {
  /**
   * Python 3.13's `shutdown(immediate=True)`: drop every queued item (counting
   * each as done for `join`), and make `get` fail at once instead of after the
   * queue drains.
   * @default false
   */
  immediate?: boolean;
}

/** A validated wait: whether to block, and the deadline on `performance.now()`'s clock. */
export interface Wait {
  readonly block: boolean;
  readonly deadline: number;
}

/** `block: false`: try once. */
export const NO_WAIT: Wait = { block: false, deadline: 0 };
const FOREVER: Wait = { block: true, deadline: Number.POSITIVE_INFINITY };

/** Checks a timeout in milliseconds: a non-negative number or Infinity. */
export function checkTimeout(op: string, timeout: unknown): number {
  if (timeout === undefined) return Number.POSITIVE_INFINITY;
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError(
      `${op}: timeout must be a non-negative number of milliseconds, got ${String(timeout)}`,
    );
  }
  return timeout;
}

/** Validates `{ block, timeout }` and turns it into a deadline. */
export function toWait(op: string, options: WaitOptions | undefined): Wait {
  if (options === undefined) return FOREVER;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${op}: options must be an object like { block, timeout, signal }`);
  }
  const { block = true, timeout } = options;
  if (typeof block !== 'boolean') throw new TypeError(`${op}: block must be a boolean`);
  if (!block) {
    if (timeout !== undefined) {
      throw new TypeError(`${op}: timeout has no effect with block: false; pass one or the other`);
    }
    return NO_WAIT;
  }
  const ms = checkTimeout(op, timeout);
  return ms === Number.POSITIVE_INFINITY ? FOREVER : { block: true, deadline: performance.now() + ms };
}

/** Validates an optional AbortSignal. */
export function checkSignal(op: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (
    typeof signal !== 'object' ||
    signal === null ||
    typeof (signal as AbortSignal).aborted !== 'boolean' ||
    typeof (signal as AbortSignal).addEventListener !== 'function'
  ) {
    throw new TypeError(`${op}: signal must be an AbortSignal`);
  }
  return signal as AbortSignal;
}

/** Checks a batch size: a positive integer. */
export function checkMax(op: string, max: unknown): number {
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
    throw new RangeError(`${op}: max must be a positive integer, got ${String(max)}`);
  }
  return max;
}
