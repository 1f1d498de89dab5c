import { registerKind } from '@conc/serialize';
import { kTier } from '../core/tier.js';
import { give } from '../engine/robust-mutex.js';
import { attachData } from './layout.js';
import { COUNT, kReleaseSave, type LockOptions, OwnedLock, STATE } from './owned-lock.js';
import { TAG_MASK } from './registry.js';

const KIND = 'lock.thread.RLock';

/**
 * A reentrant lock (Python's `threading.RLock`): the holding thread may acquire
 * it again, and must release it as many times; only then can another thread
 * take it. Release by any other thread throws `LockNotOwnedError`.
 *
 * The owner is the *thread*: async tasks of the holding thread all count as the
 * owner, so an RLock does not keep two tasks of one thread apart (use
 * {@link Lock} for that). Owner death, fairness and liveness are as for
 * {@link Lock}; a taken-over RLock starts with a count of 1.
 *
 * @example
 * ```ts
 * const r = new RLock();
 * r.acquireSync();
 * r.acquireSync(); // same thread: count 2
 * r.release();
 * r.release(); // free
 * ```
 */
export class RLock extends OwnedLock {
  /**
   * Allocates a new RLock, or creates/attaches one in `buffer` at `byteOffset`
   * (zeroed memory creates it; memory holding an RLock attaches; anything else
   * throws `ForeignBufferError`).
   */
  constructor(options?: LockOptions) {
    super(options, 'RLock');
  }

  /** @internal */
  protected readonly shareKind = KIND;

  /** @internal */
  protected reenter(): boolean {
    if ((Atomics.load(this.i32, STATE) & TAG_MASK) !== this.me) return false;
    this.i32[COUNT] = this.i32[COUNT]! + 1;
    return true;
  }

  /** @internal */
  protected entered(): void {
    this.i32[COUNT] = 1;
  }

  /**
   * Releases one hold; the last one frees the lock. Throws `LockNotOwnedError`
   * (and changes nothing) when this thread holds none.
   */
  release(): void {
    const s = Atomics.load(this.i32, STATE);
    if ((s & TAG_MASK) !== this.me) throw this.notOwned(s);
    const count = this.i32[COUNT]!;
    if (count > 1) {
      this.i32[COUNT] = count - 1;
      return;
    }
    this.#free();
  }

  #free(): void {
    this.i32[COUNT] = 0;
    const me = this.me;
    if (Atomics.compareExchange(this.i32, STATE, me, 0) !== me)
      give(this.i32, STATE, this[kTier].engine.waitWake);
    this.released();
  }

  /** @internal releases every hold of this thread for a Condition wait */
  [kReleaseSave](): number {
    const s = Atomics.load(this.i32, STATE);
    if ((s & TAG_MASK) !== this.me) throw this.notOwned(s);
    const count = this.i32[COUNT]!;
    this.#free();
    return count;
  }

  /** @internal */
  protected override restored(saved: number): void {
    this.i32[COUNT] = saved;
  }

  static {
    registerKind<RLock>({
      kind: KIND,
      attach: (data) => attachData(data, KIND, (p) => new RLock(p)),
      Class: RLock,
    });
  }
}
