/**
 * Wait and wake on a 32-bit word across processes: Linux futexes without the private
 * flag, so any process that maps the word reaches the others.
 *
 * They do not meet V8's own: `Atomics.notify` never wakes a `wait`/`waitAsync` of this
 * module, and `wake` never wakes an `Atomics.wait`. On shared memory, use these three
 * for every wait and wake of a word; `Atomics.load/store/add/compareExchange` remain the
 * way to read and change it.
 */
import { type Addon, native } from './addon.js';

/** How a wait ended, as `Atomics.wait` says it. */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

/** Options of {@link waitAsync}. */
export interface WaitAsyncOptions {
  /** Ends the wait: the promise rejects with `signal.reason` at once. */
  signal?: AbortSignal;
  /**
   * Whether the pending wait keeps the process alive, as a ref'd timer does. An idle
   * process (no wait pending) is never kept alive.
   * @default true
   */
  ref?: boolean;
}

/** Where a word is: a view and an index in it, as `Atomics` takes them, or a buffer and a word index. */
export type WordHolder = Int32Array | SharedArrayBuffer;

const RESULTS: readonly WaitResult[] = ['ok', 'not-equal', 'timed-out'];
const OK = 0;
const NOT_EQUAL = 1;

/**
 * Longest single blocking call into the kernel. A worker thread blocked in `wait` can be
 * terminated only between calls (V8 cannot interrupt a thread inside a system call), so
 * this bounds how late `worker.terminate()` takes effect. Wake-ups are not delayed by it.
 */
const BLOCKING_SLICE_MS = 50;

function locate(where: WordHolder, index: number, op: string): [SharedArrayBuffer, number] {
  let buffer: ArrayBufferLike;
  let base: number;
  let words: number;
  if (where instanceof Int32Array) {
    buffer = where.buffer;
    base = where.byteOffset;
    words = where.length;
  } else if (where instanceof SharedArrayBuffer) {
    buffer = where;
    base = 0;
    words = where.byteLength >> 2;
  } else {
    throw new TypeError(`${op}: expected an Int32Array over a SharedArrayBuffer, or a SharedArrayBuffer`);
  }
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new TypeError(`${op}: the Int32Array must be over a SharedArrayBuffer`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= words) {
    throw new RangeError(`${op}: index ${String(index)} is outside the ${words} words`);
  }
  return [buffer, base + index * 4];
}

function timeoutOf(timeout: number | undefined, op: string): number {
  if (timeout === undefined || Number.isNaN(timeout)) return Number.POSITIVE_INFINITY;
  if (typeof timeout !== 'number') throw new TypeError(`${op}: timeout must be a number of milliseconds`);
  return Math.max(0, timeout);
}

/**
 * Blocks this thread while `where[index] === expected`, until a `wake` from any process
 * or `timeout` ms (default: no limit). For worker threads; on the main thread it freezes
 * the event loop for as long as it waits, as `Atomics.wait` would.
 *
 * @returns `'not-equal'` when the word did not hold `expected`, `'ok'` when woken,
 * `'timed-out'` otherwise.
 */
export function wait(where: WordHolder, index: number, expected: number, timeout?: number): WaitResult {
  const [buffer, byteOffset] = locate(where, index, 'wait');
  const ms = timeoutOf(timeout, 'wait');
  const addon = native();
  const value = expected | 0;
  if (ms <= BLOCKING_SLICE_MS) {
    // One call: the common short park reads no clock.
    return RESULTS[addon.wait(buffer, byteOffset, value, ms)] as WaitResult;
  }
  const deadline = performance.now() + ms; // Infinity stays Infinity
  for (let first = true; ; first = false) {
    const left = Math.min(BLOCKING_SLICE_MS, Math.max(0, deadline - performance.now()));
    const result = addon.wait(buffer, byteOffset, value, left);
    // A changed word after a slice means it changed while this thread was between calls.
    if (result === NOT_EQUAL) return first ? 'not-equal' : 'ok';
    if (result === OK) return 'ok';
    if (performance.now() >= deadline) return 'timed-out';
  }
}

/** An async wait that has not ended yet, by id. */
interface Pending {
  /** Settles the caller's promise, or passes a wake-up on when the caller has gone. */
  ended(result: number): void;
}

interface Waits {
  readonly pending: Map<number, Pending>;
  nextId: number;
}

/**
 * One table per thread, shared by every copy of this package loaded in it (the ESM and
 * CommonJS builds both load the one addon, which has one dispatcher per thread: the copy
 * that installed it last must still settle the waits of the other).
 */
const WAITS = Symbol.for('conc.shared-memory.waits');
const slots = globalThis as unknown as Record<symbol, Waits | undefined>;
const waits: Waits = slots[WAITS] ?? { pending: new Map(), nextId: 1 };
slots[WAITS] = waits;
let dispatching: Addon | undefined;

function dispatch(id: number, result: number): void {
  const wait = waits.pending.get(id);
  if (wait === undefined) return;
  waits.pending.delete(id);
  wait.ended(result);
}

/**
 * Waits without blocking while `where[index] === expected`, until a `wake` from any
 * process, `timeout` ms (default: no limit), or `signal` aborts (rejects with its reason).
 *
 * A thread of this package's own small pool (never libuv's) sleeps in the kernel for each
 * pending wait; an abort wakes it at once. A wake-up that reaches an aborted wait is passed
 * on to another waiter of the word, so an abort never swallows one.
 */
export function waitAsync(
  where: WordHolder,
  index: number,
  expected: number,
  timeout?: number,
  options: WaitAsyncOptions = {},
): Promise<WaitResult> {
  const { signal, ref = true } = options;
  const [buffer, byteOffset] = locate(where, index, 'waitAsync');
  const ms = timeoutOf(timeout, 'waitAsync');
  if (signal?.aborted) return Promise.reject(signal.reason);
  const addon = native();
  if (dispatching !== addon) {
    addon.setDispatcher(dispatch);
    dispatching = addon;
  }
  const id = waits.nextId++;
  const now = addon.waitAsync(
    buffer,
    byteOffset,
    expected | 0,
    ms === Number.POSITIVE_INFINITY ? -1 : ms,
    id,
    ref,
  );
  if (now >= 0) return Promise.resolve(RESULTS[now] as WaitResult);
  return new Promise<WaitResult>((resolve, reject) => {
    let abandoned = false;
    const onAbort = (): void => {
      abandoned = true;
      addon.cancel(id);
      reject(signal?.reason);
    };
    waits.pending.set(id, {
      ended(result) {
        signal?.removeEventListener('abort', onAbort);
        if (!abandoned) resolve(RESULTS[result] ?? 'ok');
        else if (result === OK) addon.wake(buffer, byteOffset, 1);
      },
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Wakes up to `count` (default: all) waiters of `where[index]`, in every process, that
 * wait through this module. Returns how many were woken.
 */
export function wake(where: WordHolder, index: number, count?: number): number {
  const [buffer, byteOffset] = locate(where, index, 'wake');
  const n = count === undefined || count === Number.POSITIVE_INFINITY ? -1 : Math.max(0, Math.floor(count));
  return native().wake(buffer, byteOffset, n > 0x7fffffff ? -1 : n);
}

/** Async waits of this thread not yet ended (diagnostics and tests). */
export function pendingWaits(): number {
  return waits.pending.size;
}
