import { registerKind, type Shareable, shareSymbol } from '@conc/serialize';
import { checkBoolean, checkInt, checkOptions, NO_WAIT } from '@conc/serialize/internal';
import { LockCapacityError, SemaphoreOverReleaseError } from '../core/errors.js';
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
import type { WaitResult } from '../engine/wait-wake.js';
import type { WaitRoutine } from '../engine/waiting.js';
import {
  attachData,
  expectParam,
  MAX_SIZE_PARAM,
  type Placement,
  SIZE_PARAM,
  spanOf,
  tokenData,
} from './layout.js';
import type { OwnerRegistry } from './registry.js';
import { threadTier } from './tier.js';

const VALUE = 2;
/** Waiters that may be parked on VALUE: a release only notifies when some are. */
const WAITERS = 3;
/** Permits recovered from dead holders whose next acquirers have not been told yet. */
const UNTOLD = 4;
/** Highest value (BoundedSemaphore) or -1. */
const BOUND = 5;
/** Holder rows: 0 when the semaphore does not return dead holders' permits. */
const MAX_HOLDERS = SIZE_PARAM.Semaphore;
/** threadId of the last holder found dead (for the owner-died report). */
const LAST_DEAD = 7;
const ROWS = 8;
const DEFAULT_MAX_HOLDERS = 64;

/** Options of `new Semaphore()` / `new BoundedSemaphore()`. */
export interface SemaphoreOptions extends Placement {
  /**
   * Give back the permits a thread still held when it ended (terminated,
   * crashed, or finished its script without releasing them), and tell the
   * acquirers that get them (`onOwnerDied`, the guard's `ownerDied`, or an
   * `OwnerDiedWarning`). Right for a resource pool (a worker that ends holding
   * a slot must not shrink the pool for good); wrong for a signal between
   * threads (a consumer that took the signal and ended must not hand it back),
   * which is why it is off by default: as in Python, a Semaphore has no owner
   * and permits stay taken whatever happens to the thread that took them.
   * Stored in the shared memory, so every thread's object agrees.
   * @default false
   * @example
   * ```ts
   * const pool = new BoundedSemaphore(4, { returnPermitsOfDeadHolders: true });
   * ```
   */
  returnPermitsOfDeadHolders?: boolean;
  /**
   * With `returnPermitsOfDeadHolders`: how many threads can hold permits at
   * the same time (each has a row that counts its permits, so a dead thread's
   * permits can be given back). Fixed at creation; more threads than this
   * throw `LockCapacityError` on acquire. From 1 to 65536.
   * @default 64
   */
  maxHolders?: number;
  /**
   * Default {@link AcquireOptions.onOwnerDied} for acquisitions through this
   * object (only called with `returnPermitsOfDeadHolders`).
   * @default undefined (emit an `OwnerDiedWarning`)
   */
  onOwnerDied?: OwnerDiedHandler;
}

/** Most permits a semaphore counts. */
const MAX_VALUE = 0x3fffffff;
/** Most holder rows (bounds the size of a semaphore, see layout.ts). */

/** Rows a semaphore made with `options` has: 0 unless it returns dead holders' permits. */
function rowsOf(what: string, options: SemaphoreOptions | undefined, stored: number | undefined): number {
  checkOptions(what, options, '{ buffer, byteOffset, returnPermitsOfDeadHolders, maxHolders, onOwnerDied }');
  const given = checkBoolean(what, 'returnPermitsOfDeadHolders', options?.returnPermitsOfDeadHolders, false);
  const returns =
    options?.returnPermitsOfDeadHolders === undefined && stored !== undefined ? stored > 0 : given;
  if (!returns) {
    if (options?.maxHolders !== undefined) {
      throw new TypeError(
        `${what}: maxHolders sizes the table of holders whose permits can be returned; it needs returnPermitsOfDeadHolders: true`,
      );
    }
    return 0;
  }
  return checkInt(
    what,
    'maxHolders',
    options?.maxHolders ?? (stored || DEFAULT_MAX_HOLDERS),
    1,
    MAX_SIZE_PARAM,
  );
}

/**
 * A counting semaphore for worker threads (Python's `threading.Semaphore`):
 * `acquire()` takes one permit, waiting while there are none; `release(n)`
 * returns `n`.
 *
 * As in Python, any thread may release, including one that never acquired
 * (a semaphore used as a signal), and a permit stays taken whatever happens to
 * the thread that took it. With `{ returnPermitsOfDeadHolders: true }` (a
 * resource pool) each thread's permits are counted in a row of shared memory:
 * when a thread ends holding permits (terminated, crashed, or finished
 * without releasing), a waiter gives them back within about 100 ms of the end
 * being noticed, and the acquirers that get them are told (`onOwnerDied`, the
 * guard's `ownerDied`, or an `OwnerDiedWarning`). A release by a thread holding
 * none is charged to another holder's row, so the rows never count more
 * permits than are out; a thread killed within the few instructions between
 * taking a permit and counting it can leak that one permit.
 *
 * Waiters wake in the order they parked, but a running thread may take a
 * released permit first: not strictly FIFO.
 *
 * @example
 * ```ts
 * const slots = new Semaphore(3);
 * await slots.withLock(() => download(url)); // at most 3 at a time, across workers
 * ```
 */
export class Semaphore implements Shareable, Takeable {
  /** @internal the tier whose memory and waits this primitive uses (see core/tier.ts) */
  get [kTier](): Tier {
    return threadTier;
  }

  /** Bytes a semaphore made with these options occupies in a SharedArrayBuffer. */
  static byteLength(options?: Pick<SemaphoreOptions, 'maxHolders' | 'returnPermitsOfDeadHolders'>): number {
    return spanOf('Semaphore', rowsOf('Semaphore.byteLength', options, undefined));
  }

  /** The shared memory this semaphore lives in. */
  readonly buffer: SharedArrayBuffer;
  /** Where in `buffer` it lives. */
  readonly byteOffset: number;
  /** Default owner-died handler of this object; see {@link AcquireOptions.onOwnerDied}. */
  onOwnerDied: OwnerDiedHandler | undefined;
  readonly #i32: Int32Array;
  readonly #registry: Liveness;
  readonly #me: number;
  readonly #kind: 'Semaphore' | 'BoundedSemaphore';
  readonly #maxHolders: number;
  /** Index of this thread's row, once claimed. */
  #row = -1;

  /**
   * A semaphore with `value` permits (allocated, or created/attached in
   * `buffer` at `byteOffset`; when attaching, `value` is ignored).
   */
  constructor(value = 1, options?: SemaphoreOptions) {
    const kind =
      new.target === BoundedSemaphore || new.target.prototype instanceof BoundedSemaphore
        ? 'BoundedSemaphore'
        : 'Semaphore';
    checkInt(kind, 'value', value, 0, MAX_VALUE);
    const maxHolders = rowsOf(kind, options, this[kTier].storedParam(options, kind, MAX_HOLDERS));
    const { i32, registry } = this[kTier].open(options, spanOf(kind, maxHolders), kind, (m) => {
      m[VALUE] = value;
      m[BOUND] = kind === 'BoundedSemaphore' ? value : -1;
      m[MAX_HOLDERS] = maxHolders;
      m[LAST_DEAD] = -1;
    });
    if (options?.returnPermitsOfDeadHolders !== undefined || options?.maxHolders !== undefined) {
      expectParam(
        i32,
        MAX_HOLDERS,
        maxHolders,
        kind,
        'holder rows (maxHolders; 0: permits of dead holders are not returned)',
      );
    }
    this.#i32 = i32;
    this.#registry = registry;
    this.#me = registry.me;
    this.#kind = kind;
    this.#maxHolders = Atomics.load(i32, MAX_HOLDERS);
    this.buffer = i32.buffer as SharedArrayBuffer;
    this.byteOffset = i32.byteOffset;
    this.onOwnerDied = options?.onOwnerDied;
  }

  /** The number of free permits right now (a snapshot). */
  get value(): number {
    return Atomics.load(this.#i32, VALUE);
  }

  /**
   * Takes a permit without blocking the event loop: `true` once taken, `false`
   * when `timeout` passes (or at once with `blocking: false`); rejects with
   * `signal.reason` on abort.
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    return (await this[kTake](options)) !== FAILED;
  }

  /** Takes a permit, blocking this thread (meant for workers). */
  acquireSync(options?: AcquireOptions): boolean {
    return this[kTakeSync](options) !== FAILED;
  }

  /** @internal */
  async [kTake](options: AcquireOptions | undefined): Promise<number> {
    const o = resolveAcquire(options, `${this.#kind}.acquire`);
    o.signal?.throwIfAborted();
    return this[kTier].engine.waitOn(this.#acquire(o), o.signal);
  }

  /** @internal */
  [kTakeSync](options: AcquireOptions | undefined): number {
    const o = resolveAcquire(options, `${this.#kind}.acquireSync`);
    o.signal?.throwIfAborted();
    return this[kTier].engine.blockOn(this.#acquire(o), o.signal);
  }

  /** The one acquire routine behind both flavours. */
  *#acquire(o: Resolved): WaitRoutine<number> {
    const tracked = this.#maxHolders > 0;
    if (tracked) this.#claimRow();
    const i32 = this.#i32;
    // Dead holders' permits come back only by a scan of the holder rows: on the first miss, and
    // after a park that timed out (a release by a live thread wakes the park instead).
    let scan = tracked;
    for (;;) {
      const r = this.#tryTake();
      if (r !== FAILED) return this.#settle(r, o.onOwnerDied);
      if (scan && this.#recoverDead() > 0) continue;
      if (o.deadline === NO_WAIT) return FAILED;
      const left = o.deadline - performance.now();
      if (left <= 0) return FAILED;
      Atomics.add(i32, WAITERS, 1);
      let parked: WaitResult | undefined;
      try {
        if (Atomics.load(i32, VALUE) <= 0)
          parked = yield { memory: i32, index: VALUE, value: 0, timeout: left };
      } finally {
        Atomics.sub(i32, WAITERS, 1);
      }
      scan = tracked && parked === 'timed-out';
    }
  }

  /** One attempt: take a permit if there is one, count it in this thread's row, learn if it was recovered. */
  #tryTake(): number {
    const i32 = this.#i32;
    for (;;) {
      const v = Atomics.load(i32, VALUE);
      if (v <= 0) return FAILED;
      if (Atomics.compareExchange(i32, VALUE, v, v - 1) === v) break;
    }
    if (this.#row < 0) return ACQUIRED;
    Atomics.add(i32, ROWS + this.#row * 2 + 1, 1);
    for (;;) {
      const untold = Atomics.load(i32, UNTOLD);
      if (untold <= 0) return ACQUIRED;
      if (Atomics.compareExchange(i32, UNTOLD, untold, untold - 1) === untold) return RECOVERED;
    }
  }

  #settle(r: number, handler: OwnerDiedHandler | undefined): number {
    if (r !== RECOVERED) return r;
    try {
      reportOwnerDied(
        ownerDiedInfo(this[kTier], this.#kind, Atomics.load(this.#i32, LAST_DEAD), 1),
        handler ?? this.onOwnerDied,
      );
    } catch (err) {
      // Hand the permit back, still marked as recovered, so the next taker is told.
      Atomics.add(this.#i32, UNTOLD, 1);
      this.release();
      throw err;
    }
    return RECOVERED;
  }

  /** Claims this thread's row (once per object); rows of dead threads are freed first when none is free. */
  #claimRow(): void {
    if (this.#row >= 0) return;
    const i32 = this.#i32;
    const me = this.#me;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < this.#maxHolders; i++) {
        const at = ROWS + i * 2;
        const t = Atomics.load(i32, at);
        if (t === me || (t === 0 && Atomics.compareExchange(i32, at, 0, me) === 0)) {
          this.#row = i;
          return;
        }
      }
      this.#recoverDead();
    }
    throw new LockCapacityError(
      `${this.#kind}: more than ${this.#maxHolders} threads hold permits; create it with a larger { maxHolders }`,
    );
  }

  /**
   * Gives back the permits of holders that died and frees their rows. Returns
   * how many permits came back.
   */
  #recoverDead(): number {
    const i32 = this.#i32;
    let total = 0;
    for (let i = 0; i < this.#maxHolders; i++) {
      const at = ROWS + i * 2;
      const t = Atomics.load(i32, at);
      if (t === 0 || t === this.#me || this.#registry.isAlive(t)) continue;
      const count = Atomics.exchange(i32, at + 1, 0);
      if (count > 0) {
        total += count;
        Atomics.store(i32, LAST_DEAD, this.#registry.holderId(t));
      }
      Atomics.compareExchange(i32, at, t, 0);
    }
    if (total > 0) {
      Atomics.add(i32, UNTOLD, total);
      this.#give(total, true);
    }
    return total;
  }

  /** Adds `n` permits (clamped to the bound when recovering) and wakes waiters. */
  #give(n: number, clamp: boolean): void {
    const i32 = this.#i32;
    const bound = Atomics.load(i32, BOUND);
    for (;;) {
      const v = Atomics.load(i32, VALUE);
      let next = v + n;
      if (bound >= 0 && next > bound) {
        if (!clamp) {
          throw new SemaphoreOverReleaseError(
            `${this.#kind}.release: released too many times (value ${v} + ${n} would exceed its initial value ${bound})`,
          );
        }
        next = bound;
      }
      if (Atomics.compareExchange(i32, VALUE, v, next) === v) break;
    }
    if (Atomics.load(i32, WAITERS) > 0) this[kTier].engine.wake(i32, VALUE, n);
  }

  /**
   * Returns `n` permits and wakes up to `n` waiters. Any thread may release.
   * `BoundedSemaphore` throws `SemaphoreOverReleaseError` (changing nothing)
   * when the value would exceed its initial value.
   */
  release(n = 1): void {
    checkInt(`${this.#kind}.release`, 'n', n, 1, MAX_VALUE);
    this.#give(n, false);
    if (this.#maxHolders > 0) this.#uncount(n);
  }

  /** Takes `n` permits off the rows: this thread's first, then anyone's. */
  #uncount(n: number): void {
    let left = n;
    if (this.#row >= 0) left = this.#uncountRow(this.#row, left);
    for (let i = 0; i < this.#maxHolders && left > 0; i++)
      if (i !== this.#row) left = this.#uncountRow(i, left);
  }

  /** Takes up to `n` permits off one row; returns how many are left to take. */
  #uncountRow(row: number, n: number): number {
    const at = ROWS + row * 2 + 1;
    for (;;) {
      const c = Atomics.load(this.#i32, at);
      if (c <= 0) return n;
      const take = Math.min(c, n);
      if (Atomics.compareExchange(this.#i32, at, c, c - take) === c) return n - take;
    }
  }

  /** Acquires and returns a guard that releases one permit at the end of a `using` scope. */
  lock(options?: GuardOptions): Promise<LockGuard> {
    return guard(this, options, `${this.#kind}.lock`);
  }

  /** Sync {@link Semaphore.lock}. */
  lockSync(options?: GuardOptions): LockGuard {
    return guardSync(this, options, `${this.#kind}.lockSync`);
  }

  /** Runs `fn` holding one permit and releases it however `fn` ends. */
  withLock<T>(fn: (guard: LockGuard) => T | PromiseLike<T>, options?: GuardOptions): Promise<Awaited<T>> {
    return withHold(this, fn, options, `${this.#kind}.withLock`);
  }

  /** Token data for `share()`. */
  [shareSymbol](): { kind: string; data: unknown } {
    return {
      kind: `lock.thread.${this.#kind}`,
      data: tokenData(this, this.#registry as OwnerRegistry),
    };
  }

  static {
    registerKind<Semaphore>({
      kind: 'lock.thread.Semaphore',
      attach: (data) => attachData(data, 'lock.thread.Semaphore', (p) => new Semaphore(0, p)),
      Class: Semaphore,
    });
  }
}

/**
 * A semaphore that refuses to be released above its initial value (Python's
 * `threading.BoundedSemaphore`): `release()` then throws
 * `SemaphoreOverReleaseError` and changes nothing. Permits recovered from a
 * dead holder never raise it above the bound either.
 *
 * @example
 * ```ts
 * const pool = new BoundedSemaphore(2);
 * pool.release(); // throws SemaphoreOverReleaseError
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  /** A bounded semaphore with `value` permits, which is also its bound. */
  constructor(value = 1, options?: SemaphoreOptions) {
    super(value, options);
  }

  static {
    registerKind<BoundedSemaphore>({
      kind: 'lock.thread.BoundedSemaphore',
      attach: (data) => attachData(data, 'lock.thread.BoundedSemaphore', (p) => new BoundedSemaphore(0, p)),
      Class: BoundedSemaphore,
    });
  }
}
