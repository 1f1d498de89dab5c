/**
 * Scoped holds: `await using g = await lock.lock()`, `using g = lock.lockSync()`
 * and `await lock.withLock(fn)`, built once for every primitive that can be
 * acquired and released.
 */
import { AcquireTimeoutError } from './errors.js';
import type { AcquireOptions } from './options.js';

/** Outcome codes of an internal acquire. */
export const FAILED = 0;
export const ACQUIRED = 1;
/** Acquired by taking over from a holder that died. */
export const RECOVERED = 2;

/** Internal acquire methods returning {@link FAILED} / {@link ACQUIRED} / {@link RECOVERED}. */
export const kTake: unique symbol = Symbol('conc.lock.take');
export const kTakeSync: unique symbol = Symbol('conc.lock.takeSync');

/** What {@link LockGuard} needs from a primitive. */
export interface Takeable {
  [kTake](options: AcquireOptions | undefined): Promise<number>;
  [kTakeSync](options: AcquireOptions | undefined): number;
  release(): void;
}

/** Options of `lock()` / `lockSync()` / `withLock()`: as `acquire()`, but failing to acquire throws. */
export type GuardOptions = AcquireOptions;

/**
 * One hold of a Lock, RLock, Semaphore or Condition, released exactly once: by
 * `release()`, or when a `using` / `await using` scope ends.
 *
 * @example
 * ```ts
 * {
 *   await using g = await lock.lock();
 *   if (g.ownerDied) repair();
 *   counter[0]++;
 * } // released here, even on throw
 * ```
 */
export class LockGuard implements Disposable, AsyncDisposable {
  /** True when this hold was taken over from a thread that died holding it. */
  readonly ownerDied: boolean;
  #release: (() => void) | undefined;

  /** @internal built by `lock()` / `lockSync()` */
  constructor(release: () => void, ownerDied: boolean) {
    this.#release = release;
    this.ownerDied = ownerDied;
  }

  /** False once released. */
  get held(): boolean {
    return this.#release !== undefined;
  }

  /** Releases the hold; later calls do nothing. */
  release(): void {
    const release = this.#release;
    if (release === undefined) return;
    this.#release = undefined;
    release();
  }

  /** Releases at the end of a `using` scope. */
  [Symbol.dispose](): void {
    this.release();
  }

  /** Releases at the end of an `await using` scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}

function failed(what: string, options: AcquireOptions | undefined): AcquireTimeoutError {
  const how =
    options?.blocking === false ? 'it is held' : `not acquired within ${String(options?.timeout)} ms`;
  return new AcquireTimeoutError(`${what}: ${how}`);
}

/** Acquires and wraps the hold in a {@link LockGuard}; throws {@link AcquireTimeoutError} when not acquired. */
export async function guard(
  p: Takeable,
  options: AcquireOptions | undefined,
  what: string,
): Promise<LockGuard> {
  const r = await p[kTake](options);
  if (r === FAILED) throw failed(what, options);
  return new LockGuard(() => p.release(), r === RECOVERED);
}

/** Sync {@link guard}. */
export function guardSync(p: Takeable, options: AcquireOptions | undefined, what: string): LockGuard {
  const r = p[kTakeSync](options);
  if (r === FAILED) throw failed(what, options);
  return new LockGuard(() => p.release(), r === RECOVERED);
}

/** Runs `fn` holding `p`, releasing it however `fn` ends; returns what `fn` returns. */
export async function withHold<T>(
  p: Takeable,
  fn: (guard: LockGuard) => T | PromiseLike<T>,
  options: AcquireOptions | undefined,
  what: string,
): Promise<Awaited<T>> {
  if (typeof fn !== 'function') throw new TypeError(`${what}: expected a function`);
  const g = await guard(p, options, what);
  try {
    return await fn(g);
  } finally {
    g.release();
  }
}
