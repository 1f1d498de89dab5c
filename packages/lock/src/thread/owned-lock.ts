/**
 * What Lock and RLock share: a robust mutex word owned by a thread tag, the
 * owner-died protocol, guards, the condition protocol and sharing. The classes
 * differ only in what a second acquire by the holder does and in `release()`.
 */
import { type Shareable, shareSymbol } from '@conc/serialize';
import { FOREVER } from '@conc/serialize/internal';
import { LockNotOwnedError } from '../core/errors.js';
import {
  ACQUIRED,
  FAILED,
  type GuardOptions,
  guard,
  guardSync,
  kTake,
  kTakeSync,
  type LockGuard,
  RECOVERED,
  type Takeable,
  withHold,
} from '../core/guard.js';
import {
  type AcquireOptions,
  type OwnerDiedHandler,
  type Resolved,
  resolveAcquire,
} from '../core/options.js';
import { reportOwnerDied } from '../core/owner-died.js';
import { kTier, ownerDiedInfo, type Tier } from '../core/tier.js';
import type { Liveness } from '../engine/liveness.js';
import { BUSY, CONTENDED, TAKEN, take } from '../engine/robust-mutex.js';
import type { WaitEngine, WaitRoutine } from '../engine/waiting.js';
import { type Placement, spanOf, tokenData } from './layout.js';
import { ABANDONED, type OwnerRegistry, TAG_MASK } from './registry.js';
import { threadTier } from './tier.js';

/** Word of the owner tag. */
export const STATE = 2;
/** Word of the RLock hold count (unused by Lock). */
export const COUNT = 3;
const BYTES = spanOf('Lock', 0);
const RESOLVED_TRUE: Promise<boolean> = Promise.resolve(true);

/**
 * What `Condition` needs from its lock (Python's `_is_owned`,
 * `_release_save`, `_acquire_restore`): Lock and RLock implement it.
 */
export const kIsOwned: unique symbol = Symbol('conc.lock.isOwned');
export const kReleaseSave: unique symbol = Symbol('conc.lock.releaseSave');
export const kRestore: unique symbol = Symbol('conc.lock.restore');
export const kWakeOnRelease: unique symbol = Symbol('conc.lock.wakeOnRelease');

/** A lock a `Condition` can be built on. */
export interface ConditionLock extends Takeable {
  /** True when this thread holds it. */
  [kIsOwned](): boolean;
  /** Releases every hold of this thread and returns what {@link kRestore} needs to restore them. */
  [kReleaseSave](): number;
  /**
   * Re-acquires (waiting as long as needed, whatever an abort signal says) and
   * restores the holds saved by {@link kReleaseSave}; `blocking`: the sync flavour.
   */
  [kRestore](saved: number, blocking: boolean): WaitRoutine<void>;
  /**
   * Wakes the waiter parked on `i32[index]` once this thread's hold ends, not
   * now: a waiter woken while the notifier still holds the lock would only
   * wake to find the lock taken and park again (a second wake-up per hand-off).
   */
  [kWakeOnRelease](i32: Int32Array, index: number): void;
}

const UNTIL_TAKEN: Resolved = { deadline: FOREVER, signal: undefined, onOwnerDied: undefined };

/** Options of `new Lock()` / `new RLock()`. */
export interface LockOptions extends Placement {
  /**
   * Default {@link AcquireOptions.onOwnerDied} for acquisitions through this
   * object (each thread's object has its own; also settable as a property).
   * @default undefined (emit an `OwnerDiedWarning`)
   */
  onOwnerDied?: OwnerDiedHandler;
}

/** Describes a lock word for an error message. */
export function describeHolder(registry: Liveness, word: number, holder = 'thread'): string {
  if (word === 0) return 'nobody holds it';
  const id = registry.holderId(word & TAG_MASK);
  return id >= 0 ? `${holder} ${id} holds it` : `another ${holder} holds it`;
}

/** Hands a hold back as abandoned: the next acquirer takes it over and is told again. */
export function abandon(i32: Int32Array, index: number, engine: WaitEngine<Int32Array>): void {
  for (;;) {
    const s = Atomics.load(i32, index);
    if (Atomics.compareExchange(i32, index, s, ABANDONED | (s & CONTENDED)) === s) {
      if ((s & CONTENDED) !== 0) engine.wake(i32, index, 1);
      return;
    }
  }
}

/** Base of {@link Lock} and {@link RLock}; not exported from the package. */
export abstract class OwnedLock implements Shareable, ConditionLock {
  /** @internal the tier whose memory and waits this primitive uses (see core/tier.ts) */
  get [kTier](): Tier {
    return threadTier;
  }

  /** Bytes a Lock or RLock occupies in a SharedArrayBuffer. */
  static byteLength(): number {
    return BYTES;
  }

  /** The shared memory this lock lives in. */
  readonly buffer: SharedArrayBuffer;
  /** Where in `buffer` it lives. */
  readonly byteOffset: number;
  /** Default owner-died handler of this object; see {@link AcquireOptions.onOwnerDied}. */
  onOwnerDied: OwnerDiedHandler | undefined;
  /** @internal */
  protected readonly i32: Int32Array;
  /** @internal */
  protected readonly registry: Liveness;
  /** @internal this thread's owner tag */
  protected readonly me: number;
  #ownerDied = false;
  /** Condition waiters to wake when this thread's hold ends (see {@link kWakeOnRelease}). */
  readonly #wakeViews: Int32Array[] = [];
  readonly #wakeIndices: number[] = [];

  /** @internal */
  protected constructor(
    options: LockOptions | undefined,
    private readonly kindName: 'Lock' | 'RLock',
  ) {
    const { i32, registry } = this[kTier].open(options, BYTES, kindName, () => {});
    this.i32 = i32;
    this.registry = registry;
    this.me = registry.me;
    this.buffer = i32.buffer as SharedArrayBuffer;
    this.byteOffset = i32.byteOffset;
    this.onOwnerDied = options?.onOwnerDied;
  }

  /** @internal the holder acquires again: true if handled (RLock counts it) */
  protected abstract reenter(): boolean;
  /** @internal a fresh hold starts (RLock sets its count to 1) */
  protected abstract entered(): void;
  /** Releases one hold; throws `LockNotOwnedError` when this thread holds none. */
  abstract release(): void;

  /**
   * Waits for the lock without blocking the event loop. Resolves `true` once
   * held, `false` when `timeout` passes (or at once with `blocking: false`);
   * rejects with `signal.reason` on abort (the waiter is then never granted).
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    if (options === undefined && Atomics.compareExchange(this.i32, STATE, 0, this.me) === 0) {
      this.#ownerDied = false;
      this.entered();
      return RESOLVED_TRUE;
    }
    return this.#acquireSlow(options);
  }

  async #acquireSlow(options: AcquireOptions | undefined): Promise<boolean> {
    return (await this[kTake](options)) !== FAILED;
  }

  /**
   * Blocks this thread until the lock is held (`true`) or `timeout` passes
   * (`false`). Meant for workers: on the main thread it freezes the event loop.
   */
  acquireSync(options?: AcquireOptions): boolean {
    if (options === undefined && Atomics.compareExchange(this.i32, STATE, 0, this.me) === 0) {
      this.#ownerDied = false;
      this.entered();
      return true;
    }
    return this[kTakeSync](options) !== FAILED;
  }

  /** @internal */
  async [kTake](options: AcquireOptions | undefined): Promise<number> {
    const what = `${this.kindName}.acquire`;
    const o = resolveAcquire(options, what);
    o.signal?.throwIfAborted();
    return this[kTier].engine.waitOn(this.#acquire(o, false, what), o.signal);
  }

  /** @internal */
  [kTakeSync](options: AcquireOptions | undefined): number {
    const what = `${this.kindName}.acquireSync`;
    const o = resolveAcquire(options, what);
    o.signal?.throwIfAborted();
    return this[kTier].engine.blockOn(this.#acquire(o, true, what), o.signal);
  }

  /** The one acquire routine behind every flavour. */
  *#acquire(o: Resolved, blocking: boolean, what: string, abortable = true): WaitRoutine<number> {
    if (this.reenter()) return ACQUIRED;
    const r = yield* take(this.i32, STATE, this.me, this.registry, o.deadline, blocking, what, abortable);
    return this.#settle(r, o.onOwnerDied);
  }

  #settle(r: number, handler: OwnerDiedHandler | undefined): number {
    if (r === BUSY) return FAILED;
    this.entered();
    if (r === TAKEN) {
      this.#ownerDied = false;
      return ACQUIRED;
    }
    this.#ownerDied = true;
    try {
      reportOwnerDied(
        ownerDiedInfo(this[kTier], this.kindName, this.registry.holderId(r), 1),
        handler ?? this.onOwnerDied,
      );
    } catch (err) {
      this.#ownerDied = false;
      abandon(this.i32, STATE, this[kTier].engine);
      throw err;
    }
    return RECOVERED;
  }

  /** @internal the hold ended (the subclass released the word): wake the waiters notified meanwhile */
  protected released(): void {
    this.#ownerDied = false;
    const views = this.#wakeViews;
    if (views.length === 0) return;
    const indices = this.#wakeIndices;
    for (let i = 0; i < views.length; i++) this[kTier].engine.wake(views[i]!, indices[i]!, 1);
    views.length = 0;
    indices.length = 0;
  }

  /** @internal */
  [kWakeOnRelease](i32: Int32Array, index: number): void {
    this.#wakeViews.push(i32);
    this.#wakeIndices.push(index);
  }

  /** @internal */
  protected notOwned(word: number): LockNotOwnedError {
    return new LockNotOwnedError(
      `${this.kindName}.release: this ${this[kTier].holder} does not hold the lock (${describeHolder(this.registry, word, this[kTier].holder)})`,
    );
  }

  /** True while some thread holds the lock (a snapshot). */
  locked(): boolean {
    return Atomics.load(this.i32, STATE) !== 0;
  }

  /**
   * True while this object's current hold was taken over from a thread that
   * died holding the lock; reset by the next fresh acquire and by release.
   */
  get ownerDied(): boolean {
    return this.#ownerDied;
  }

  /**
   * Acquires and returns a guard that releases at the end of a `using` scope.
   * Throws `AcquireTimeoutError` when `timeout` passes.
   * @example
   * ```ts
   * await using g = await lock.lock({ timeout: 1000 });
   * ```
   */
  lock(options?: GuardOptions): Promise<LockGuard> {
    return guard(this, options, `${this.kindName}.lock`);
  }

  /** Sync {@link OwnedLock.lock}, for `using g = lock.lockSync()` in workers. */
  lockSync(options?: GuardOptions): LockGuard {
    return guardSync(this, options, `${this.kindName}.lockSync`);
  }

  /** Runs `fn` holding the lock and releases it however `fn` ends; resolves to `fn`'s result. */
  withLock<T>(fn: (guard: LockGuard) => T | PromiseLike<T>, options?: GuardOptions): Promise<Awaited<T>> {
    return withHold(this, fn, options, `${this.kindName}.withLock`);
  }

  /** @internal */
  [kIsOwned](): boolean {
    return (Atomics.load(this.i32, STATE) & TAG_MASK) === this.me;
  }

  /** @internal */
  abstract [kReleaseSave](): number;

  /** @internal */
  *[kRestore](saved: number, blocking: boolean): WaitRoutine<void> {
    yield* this.#acquire(UNTIL_TAKEN, blocking, `${this.kindName} (Condition.wait)`, false);
    this.restored(saved);
  }

  /** @internal after re-acquiring for a Condition */
  protected restored(_saved: number): void {}

  /** @internal the token kind */
  protected abstract readonly shareKind: string;

  /** Token data for `share()`. */
  [shareSymbol](): { kind: string; data: unknown } {
    return {
      kind: this.shareKind,
      data: tokenData(this, this.registry as OwnerRegistry),
    };
  }
}
