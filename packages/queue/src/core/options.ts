/**
 * Options of the queue calls, shared by every tier, and their reading. The
 * checks themselves (messages, deadlines, abort wiring) are
 * `@conc/serialize/internal`'s, the one home for every conc package: a bad
 * option fails at once, with a message that says what was passed.
 */
import { blockingDeadline, checkOptions, checkSignal } from '@conc/serialize/internal';

/** How long and whether a `put` or `get` may wait, and how to cancel it. */
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
   * lock (held for well under a microsecond at a time; after its holder died,
   * until that death is known: see the README's "When a thread dies"). `0`
   * tries once. Leave it out (or pass `Infinity`) to wait as long as it takes.
   * @default Infinity
   * @example
   * ```ts
   * const job = await q.get({ timeout: 500 }); // EmptyError after 500 ms
   * ```
   */
  timeout?: number;
  /**
   * Cancels the call: it fails with `signal.reason` and leaves the queue as it
   * was (nothing put, nothing taken). An already aborted signal fails the call
   * before it looks at the queue.
   *
   * A promise-returning call rejects as soon as the signal aborts. A Sync call
   * checks the signal before it blocks and at each wake-up; while its thread
   * is blocked no JavaScript runs there, so nothing in that thread can abort
   * the signal meanwhile (an `AbortSignal.timeout()` fires from the event
   * loop, which is blocked too), and a signal cannot be sent to another
   * thread. Bound a Sync wait with `timeout`; stop threads blocked on a queue
   * from anywhere with `shutdown()`.
   * @example
   * ```ts
   * await q.get({ signal: AbortSignal.timeout(1000) });
   * ```
   */
  signal?: AbortSignal;
}

/**
 * The options of the promise-returning calls: the same as {@link WaitOptions}
 * (kept as a name of its own for code written against earlier releases).
 */
export type AsyncWaitOptions = WaitOptions;

/** Options of `join()` and `joinSync()`. */
export interface JoinOptions {
  /**
   * Stop waiting after this many milliseconds: `join` then resolves `false`
   * (as Python's `Event.wait` returns `False`); it resolves `true` once every
   * item put has been marked done.
   * @default Infinity
   */
  timeout?: number;
  /** Cancels the wait: `join` rejects with `signal.reason` (`joinSync` checks it as the Sync calls do: see {@link WaitOptions.signal}). */
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

/** A validated wait: its deadline on `performance.now()`'s clock (`NO_WAIT` for `block: false`), and its signal. */
export interface Wait {
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
}

/** The wait of a call without options: forever, no signal. */
const FOREVER_WAIT: Wait = { deadline: Number.POSITIVE_INFINITY, signal: undefined };

/** Reads `{ block, timeout, signal }` of call `what` into a deadline and a signal, or throws what is wrong. */
export function waitOf(what: string, options: WaitOptions | undefined): Wait {
  if (options === undefined) return FOREVER_WAIT;
  const o = checkOptions(what, options, '{ block, timeout, signal }') as WaitOptions;
  const deadline = blockingDeadline(what, 'block', o.block, o.timeout);
  return { deadline, signal: checkSignal(what, o.signal) };
}
