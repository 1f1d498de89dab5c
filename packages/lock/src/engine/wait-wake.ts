/**
 * The wait/wake primitive the waiting engine runs on: futex semantics on one
 * 32-bit word ("sleep while the word still holds what I saw; wake N
 * sleepers"). Everything else (spinning, slices, abort, keep-alive, passing on
 * a wake-up an aborted waiter took) is the engine's, written once, so a tier
 * supplies only this:
 *
 * - threads of one process: `Atomics.wait` / `Atomics.waitAsync` /
 *   `Atomics.notify` ({@link atomicsWaitWake});
 * - processes on one machine: a futex on a shared mapping, from the
 *   `@conc/shared-memory` addon (blocking `wait`, `waitAsync` on a helper
 *   thread, `wake`), over the same `Int32Array` view;
 * - Redis: `memory` names a key (the type parameter `W`), `waitAsync` is a
 *   blocking command (BLPOP with a timeout) on a duplicated connection, `wake`
 *   a push; `wait` may throw (no blocking calls on that tier).
 */

/** How one wait ended, as `Atomics.wait` says it. */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

/**
 * Futex-style waiting on `memory[index]`. `W` is what names the word: an
 * `Int32Array` for shared memory (threads, processes), a key for Redis.
 */
export interface WaitWake<W = Int32Array> {
  /**
   * Blocks the calling thread while `memory[index] === expected`, until woken
   * (`'ok'`) or `timeoutMs` passes (`'timed-out'`); `'not-equal'` at once when
   * the word already differs. The engine never asks for more than one slice.
   */
  wait(memory: W, index: number, expected: number, timeoutMs: number): WaitResult;
  /**
   * The same without blocking: a result at once (usually `'not-equal'`) or a
   * promise of one. It never rejects. `signal`, when given, may be used to
   * withdraw the wait early (settling `'timed-out'`); an implementation that
   * cannot withdraw it (Atomics.waitAsync) ignores it: the engine rejects the
   * caller itself, and passes on an `'ok'` that reaches an aborted waiter.
   */
  waitAsync(
    memory: W,
    index: number,
    expected: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): WaitResult | Promise<WaitResult>;
  /** Wakes up to `count` waiters of `memory[index]`, oldest first; returns how many it woke. */
  wake(memory: W, index: number, count: number): number;
  /**
   * Whether a pending `waitAsync` keeps the event loop alive by itself (a
   * ref'd handle). When false the engine holds one timer per thread while any
   * async wait is pending, as a pending read would.
   */
  readonly waitAsyncKeepsAlive: boolean;
}

/** The thread tier's primitive: V8's futex on a SharedArrayBuffer. */
export const atomicsWaitWake: WaitWake<Int32Array> = {
  wait: (memory, index, expected, timeoutMs) => Atomics.wait(memory, index, expected, timeoutMs),
  waitAsync(memory, index, expected, timeoutMs) {
    return Atomics.waitAsync(memory, index, expected, timeoutMs).value;
  },
  wake: (memory, index, count) => Atomics.notify(memory, index, count),
  // Its timeout is an unref'd platform task: a pending wait alone lets the process exit.
  waitAsyncKeepsAlive: false,
};
