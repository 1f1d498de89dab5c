/**
 * Options of every blocking call of the lock package, and how they resolve.
 *
 * The checks themselves are conc's one options module
 * (`@conc/serialize/internal`): one message per mistake, saying what was
 * passed (`timeout must be a number of milliseconds ..., got the string "10"`).
 * Timeouts are milliseconds measured on the monotonic clock
 * (`performance.now()`), so a wall-clock jump never shortens or stretches a wait.
 */
import {
  blockingDeadline,
  checkFunction,
  checkOptions,
  checkSignal,
  deadlineOf,
  FOREVER,
} from '@conc/serialize/internal';

/** Who died and what it held, given to an {@link OwnerDiedHandler}. */
export interface OwnerDiedInfo {
  /** The primitive's class name: `'Lock'`, `'RLock'`, `'Semaphore'`, ... */
  readonly primitive: string;
  /** `threadId` of the thread that died holding it; `-1` when it is no longer known (and in the process tier). */
  readonly threadId: number;
  /** Process tier (`@conc/lock/process`): the pid of the process that died holding it, `-1` once unknown. */
  readonly pid?: number;
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
  /** `performance.now()` value to give up at; `FOREVER` never, `NO_WAIT` don't wait at all. */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly onOwnerDied: OwnerDiedHandler | undefined;
}

const WAIT_FOREVER: Resolved = { deadline: FOREVER, signal: undefined, onOwnerDied: undefined };
const ACQUIRE_SHAPE = '{ blocking, timeout, signal, onOwnerDied }';
const WAIT_SHAPE = '{ timeout, signal }';

/** Validates {@link AcquireOptions} up front (Python's rules) and resolves the deadline. */
export function resolveAcquire(options: AcquireOptions | undefined, what: string): Resolved {
  if (options === undefined) return WAIT_FOREVER;
  const o = checkOptions(what, options, ACQUIRE_SHAPE) as AcquireOptions;
  return {
    deadline: blockingDeadline(what, 'blocking', o.blocking, o.timeout),
    signal: checkSignal(what, o.signal),
    onOwnerDied: checkFunction<OwnerDiedHandler>(what, 'onOwnerDied', o.onOwnerDied),
  };
}

/** Validates {@link WaitOptions} and resolves the deadline (`defaultTimeout` when none is given). */
export function resolveWait(
  options: WaitOptions | undefined,
  what: string,
  defaultTimeout?: number,
): Resolved {
  const o = checkOptions(what, options, WAIT_SHAPE);
  return {
    deadline: deadlineOf(what, o?.timeout === undefined ? defaultTimeout : o.timeout),
    signal: checkSignal(what, o?.signal),
    onOwnerDied: undefined,
  };
}
