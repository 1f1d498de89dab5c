/**
 * Options of every blocking call, their validation, and deadlines.
 *
 * Timeouts are milliseconds measured on the monotonic clock
 * (`performance.now()`), so a wall-clock jump never shortens or stretches a wait.
 */

/** Who died and what it held, given to an {@link OwnerDiedHandler}. */
export interface OwnerDiedInfo {
  /** The primitive's class name: `'Lock'`, `'RLock'`, `'Semaphore'`, ... */
  readonly primitive: string;
  /** `threadId` of the thread that died holding it; `-1` when it is no longer known. */
  readonly threadId: number;
  /** How many holds (RLock count) or permits (Semaphore) were recovered. */
  readonly recovered: number;
}

/**
 * Called while the caller already holds what it acquired, before `acquire()`
 * returns, when that hold was taken over from a thread that died holding it.
 * The data the primitive protects may be half-updated: repair or re-validate it
 * here. If the handler throws, the hold is handed back as still abandoned (the
 * next acquirer is told again) and the error propagates from `acquire()`.
 */
export type OwnerDiedHandler = (info: OwnerDiedInfo) => void;

/** Options of `acquire()` / `acquireSync()` (Lock, RLock, Semaphore, Condition). */
export interface AcquireOptions {
  /**
   * `false`: take it only if it is free right now, never wait (Python's
   * `blocking=False`). Cannot be combined with `timeout`.
   * @default true
   */
  blocking?: boolean;
  /**
   * Give up after this many milliseconds and return `false`. `Infinity` (or
   * omitted) waits for ever; `0` tries once.
   * @default Infinity
   * @example
   * ```ts
   * if (!(await lock.acquire({ timeout: 100 }))) console.log('busy');
   * ```
   */
  timeout?: number;
  /**
   * Abort the wait: the promise rejects with `signal.reason` and the waiter
   * leaves the queue (it is never granted later). A sync call checks the signal
   * before it blocks and at each wake-up; nothing else in a blocked thread can
   * abort it.
   * @example
   * ```ts
   * await lock.acquire({ signal: AbortSignal.timeout(1000) });
   * ```
   */
  signal?: AbortSignal;
  /**
   * How to be told that the previous holder died holding it (the hold was taken
   * over). Without a handler here or on the constructor, a process warning
   * `OwnerDiedWarning` (code `ERR_CONC_OWNER_DIED`) is emitted, so an abandoned
   * lock is never handed over silently. Pass `() => {}` to ignore it on purpose.
   * @default undefined (emit a warning)
   * @example
   * ```ts
   * await lock.acquire({ onOwnerDied: () => repairSharedState() });
   * ```
   */
  onOwnerDied?: OwnerDiedHandler;
}

/** Options of `wait()` / `waitSync()` (Condition, Event, Barrier). */
export interface WaitOptions {
  /**
   * Give up after this many milliseconds (`Infinity` or omitted: never).
   * @default Infinity
   * @example
   * ```ts
   * const isSet = await event.wait({ timeout: 500 });
   * ```
   */
  timeout?: number;
  /**
   * Abort the wait: the promise rejects with `signal.reason`. A sync call checks
   * it before blocking and at each wake-up.
   */
  signal?: AbortSignal;
}

/** Options with everything resolved: a monotonic deadline instead of a timeout. */
export interface Resolved {
  /** `performance.now()` value to give up at; `Infinity` never, `-Infinity` don't wait at all. */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly onOwnerDied: OwnerDiedHandler | undefined;
}

/** Never wait: the deadline of `blocking: false`. */
export const NO_WAIT = Number.NEGATIVE_INFINITY;

/** Checks one timeout value and turns it into a deadline. */
export function deadlineOf(timeout: number | undefined, what: string): number {
  if (timeout === undefined || timeout === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError(
      `${what}: timeout must be a non-negative number of milliseconds or Infinity, got ${String(timeout)}`,
    );
  }
  return performance.now() + timeout;
}

function checkSignal(signal: unknown, what: string): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).aborted !== 'boolean') {
    throw new TypeError(`${what}: signal must be an AbortSignal`);
  }
  return signal as AbortSignal;
}

/** Validates {@link AcquireOptions} up front (Python's rules) and resolves the deadline. */
export function resolveAcquire(options: AcquireOptions | undefined, what: string): Resolved {
  if (options === undefined)
    return { deadline: Number.POSITIVE_INFINITY, signal: undefined, onOwnerDied: undefined };
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`${what}: options must be an object`);
  const { blocking = true, timeout, onOwnerDied } = options;
  if (typeof blocking !== 'boolean') throw new TypeError(`${what}: blocking must be a boolean`);
  if (!blocking && timeout !== undefined) {
    throw new TypeError(`${what}: can't specify a timeout for a non-blocking call`);
  }
  if (onOwnerDied !== undefined && typeof onOwnerDied !== 'function') {
    throw new TypeError(`${what}: onOwnerDied must be a function`);
  }
  return {
    deadline: blocking ? deadlineOf(timeout, what) : NO_WAIT,
    signal: checkSignal(options.signal, what),
    onOwnerDied,
  };
}

/** Validates {@link WaitOptions} and resolves the deadline. */
export function resolveWait(
  options: WaitOptions | undefined,
  what: string,
  defaultTimeout?: number,
): Resolved {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`${what}: options must be an object`);
  }
  return {
    deadline: deadlineOf(options?.timeout ?? defaultTimeout, what),
    signal: checkSignal(options?.signal, what),
    onOwnerDied: undefined,
  };
}

/** Checks an integer parameter (a count, a size) against its range. */
export function checkInt(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}
