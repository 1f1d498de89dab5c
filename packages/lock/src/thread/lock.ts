import { registerKind } from '@conc/serialize';
import { kTier } from '../core/tier.js';
import { give } from '../engine/robust-mutex.js';
import { attachData } from './layout.js';
import { kReleaseSave, type LockOptions, OwnedLock, STATE } from './owned-lock.js';
import { TAG_MASK } from './registry.js';

const KIND = 'lock.thread.Lock';

/**
 * A mutual-exclusion lock for worker threads (Python's `threading.Lock`), in 16
 * bytes of shared memory.
 *
 * - The owner is the thread: any code of the holding thread may release it; a
 *   release from another thread throws `LockNotOwnedError`. Two async tasks of
 *   one thread do exclude each other (the second waits).
 * - If the holder dies (worker terminated, crashed or exited), a waiter takes
 *   the lock over within about 100 ms of the death being noticed and is told:
 *   `onOwnerDied`, {@link Lock.ownerDied}, the guard's `ownerDied`, or else an
 *   `OwnerDiedWarning`.
 * - Waiters wake in the order they parked, but a running thread may take a
 *   just-released lock first: not strictly FIFO.
 * - `acquire()` never blocks the event loop; `acquireSync()` blocks the thread
 *   (meant for workers; on the main thread it freezes the event loop) and throws
 *   `WouldDeadlockError` when the thread already holds the lock.
 * - An idle lock keeps nothing alive; a pending `acquire()` keeps the process
 *   alive, as a pending read does.
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * new Worker(url, { workerData: { lock: share(lock) } });
 * // in the worker: const lock = attach(workerData.lock);
 * await lock.withLock(() => { shared[0] += 1; });
 * ```
 */
export class Lock extends OwnedLock {
  /**
   * Allocates a new lock, or creates/attaches one in `buffer` at `byteOffset`
   * (zeroed memory creates it; memory holding a Lock attaches; anything else
   * throws `ForeignBufferError`).
   */
  constructor(options?: LockOptions) {
    super(options, 'Lock');
  }

  /** @internal */
  protected readonly shareKind = KIND;

  /** @internal */
  protected reenter(): boolean {
    return false;
  }

  /** @internal */
  protected entered(): void {}

  /**
   * Releases the lock. Throws `LockNotOwnedError` (and changes nothing) when
   * this thread does not hold it.
   */
  release(): void {
    const me = this.me;
    const prev = Atomics.compareExchange(this.i32, STATE, me, 0);
    if (prev !== me) {
      if ((prev & TAG_MASK) !== me) throw this.notOwned(prev);
      give(this.i32, STATE, this[kTier].engine.waitWake);
    }
    this.released();
  }

  /** @internal */
  [kReleaseSave](): number {
    this.release();
    return 1;
  }

  static {
    registerKind<Lock>({
      kind: KIND,
      attach: (data) => attachData(data, KIND, (p) => new Lock(p)),
      Class: Lock,
    });
  }
}
