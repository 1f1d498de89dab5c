import { ConcError, defineConcError, errorGuard } from '@conc/serialize';

/**
 * `release()` by a thread that does not hold the lock, or of a lock nobody
 * holds; also `Condition.wait()`/`notify()` without holding the condition's
 * lock. Nothing changes when it is thrown.
 *
 * Python raises `RuntimeError` here; `threading.Lock` even lets any thread
 * release it. Our locks always know their owner, so a stray release is an
 * error instead of a silent handover.
 */
export class LockNotOwnedError extends ConcError {
  static {
    defineConcError(this, 'LockNotOwnedError', 'ERR_CONC_LOCK_NOT_OWNED');
  }
}

/**
 * `BoundedSemaphore.release()` would raise the value above its initial value
 * (Python's `ValueError: Semaphore released too many times`). The value is left
 * unchanged.
 */
export class SemaphoreOverReleaseError extends ConcError {
  static {
    defineConcError(this, 'SemaphoreOverReleaseError', 'ERR_CONC_SEMAPHORE_OVER_RELEASE');
  }
}

/**
 * The barrier was broken, reset or aborted while (or before) this party waited:
 * another party timed out, was aborted or died, the action threw, or someone
 * called `abort()` / `reset()`.
 */
export class BrokenBarrierError extends ConcError {
  static {
    defineConcError(this, 'BrokenBarrierError', 'ERR_CONC_BROKEN_BARRIER');
  }
}

/**
 * `lock()`, `lockSync()` or `withLock()` could not acquire within the timeout
 * (or at once, with `blocking: false`). `acquire()` never throws this: it
 * resolves `false`, as in Python.
 */
export class AcquireTimeoutError extends ConcError {
  static {
    defineConcError(this, 'AcquireTimeoutError', 'ERR_CONC_ACQUIRE_TIMEOUT');
  }
}

/**
 * A blocking call without a timeout could never return: a thread waiting
 * synchronously for a `Lock` it holds itself (nothing else in the thread can
 * run to release it). Python would hang; we throw.
 */
export class WouldDeadlockError extends ConcError {
  static {
    defineConcError(this, 'WouldDeadlockError', 'ERR_CONC_WOULD_DEADLOCK');
  }
}

/**
 * A fixed-size shared table is full: more live threads than the registry holds
 * (1023), more simultaneous `Condition` waiters than its `capacity`, or more
 * threads holding permits of one `Semaphore` than its `maxHolders`.
 */
export class LockCapacityError extends ConcError {
  static {
    defineConcError(this, 'LockCapacityError', 'ERR_CONC_LOCK_CAPACITY');
  }
}

/**
 * The memory given to a constructor holds something else: another primitive,
 * unrelated data, a primitive with different parameters, or one created under a
 * registry this thread has not seen (pass primitives with `share()`/`attach()`).
 */
export class ForeignBufferError extends ConcError {
  static {
    defineConcError(this, 'ForeignBufferError', 'ERR_CONC_FOREIGN_BUFFER');
  }
}

/** True for a {@link LockNotOwnedError} from any thread or copy of this package. */
export const isLockNotOwnedError = errorGuard(LockNotOwnedError);
/** True for a {@link SemaphoreOverReleaseError} from any thread or copy of this package. */
export const isSemaphoreOverReleaseError = errorGuard(SemaphoreOverReleaseError);
/** True for a {@link BrokenBarrierError} from any thread or copy of this package. */
export const isBrokenBarrierError = errorGuard(BrokenBarrierError);
/** True for an {@link AcquireTimeoutError} from any thread or copy of this package. */
export const isAcquireTimeoutError = errorGuard(AcquireTimeoutError);
/** True for a {@link WouldDeadlockError} from any thread or copy of this package. */
export const isWouldDeadlockError = errorGuard(WouldDeadlockError);
/** True for a {@link LockCapacityError} from any thread or copy of this package. */
export const isLockCapacityError = errorGuard(LockCapacityError);
/** True for a {@link ForeignBufferError} from any thread or copy of this package. */
export const isForeignBufferError = errorGuard(ForeignBufferError);
