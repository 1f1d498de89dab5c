import { attach, registerKind, type Shareable, share, shareSymbol, type Token } from '@conc/serialize';
import { checkInt, describeValue } from '@conc/serialize/internal';
import { LockCapacityError, LockNotOwnedError } from '../core/errors.js';
import type { GuardOptions, LockGuard } from '../core/guard.js';
import { type AcquireOptions, type Resolved, resolveWait, type WaitOptions } from '../core/options.js';
import { kTier, type Tier } from '../core/tier.js';
import type { Liveness } from '../engine/liveness.js';
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
import type { Lock } from './lock.js';
import { kIsOwned, kReleaseSave, kRestore, kWakeOnRelease } from './owned-lock.js';
import type { OwnerRegistry } from './registry.js';
import { RLock } from './rlock.js';
import { threadTier } from './tier.js';

/** Arrival counter: gives each waiter a ticket, so notify() wakes the longest waiting first. */
const TICKETS = 2;
const CAPACITY = SIZE_PARAM.Condition;
const SLOTS = 4;
const SLOT_WORDS = 3;
/** Slot words: state (the waiter parks on it), owner tag, ticket. */
const S_STATE = 0;
const S_TAG = 1;
const S_TICKET = 2;
const FREE = 0;
const WAITING = 1;
const NOTIFIED = 2;
const CANCELLED = 3;
const DEFAULT_CAPACITY = 128;
const KIND = 'lock.thread.Condition';

/** Options of `new Condition()`. */
export interface ConditionOptions extends Placement {
  /**
   * How many waiters (threads or async tasks) can wait at the same time; each
   * has a 12-byte slot. Fixed at creation; more throw `LockCapacityError`.
   * @default 128
   */
  capacity?: number;
}

function checkCapacity(n: unknown): number {
  return checkInt('Condition', 'capacity', n, 1, MAX_SIZE_PARAM);
}

/**
 * A condition variable for worker threads (Python's `threading.Condition`):
 * while holding its lock, `wait()` releases the lock, sleeps until notified,
 * and re-acquires it; `notify(n)` wakes `n` waiters, `notifyAll()` all.
 *
 * Exact, like Python: `notify(n)` wakes at most `n` waiters, the longest
 * waiting first, and never a waiter that has timed out, been aborted or died.
 * A `wait()` that times out returns `false` and consumes no notification; one
 * that is notified at the very moment it times out returns `true`. An aborted
 * waiter that had just been notified passes the notification on.
 *
 * Whatever happens to the wait (notified, timeout, abort), the lock is held
 * again when `wait()` settles.
 *
 * Notified waiters are woken when the notifying thread releases the lock
 * (through this condition or its `lock` object), so they do not wake only to
 * find the lock still held. Released through another object of the same lock
 * in that thread, they wake at their next check instead, within 100 ms.
 * Waiters in worker threads and async tasks may mix freely.
 *
 * @example
 * ```ts
 * const cond = new Condition(new Lock());
 * await cond.withLock(async () => {
 *   await cond.waitFor(() => items.length > 0);
 *   items.pop();
 * });
 * ```
 */
export class Condition implements Shareable {
  /** @internal the tier whose memory and waits this primitive uses (see core/tier.ts) */
  get [kTier](): Tier {
    return threadTier;
  }

  /** Bytes a Condition (without its lock) with `capacity` waiter slots occupies. */
  static byteLength(options?: { capacity?: number }): number {
    return spanOf('Condition', checkCapacity(options?.capacity ?? DEFAULT_CAPACITY));
  }

  /** The shared memory this condition's waiter slots live in (its lock has its own). */
  readonly buffer: SharedArrayBuffer;
  /** Where in `buffer` it lives. */
  readonly byteOffset: number;
  /** The lock that `wait()` releases and re-acquires. */
  readonly lock: Lock | RLock;
  readonly #i32: Int32Array;
  readonly #registry: Liveness;
  readonly #capacity: number;

  /**
   * A condition on `lock` (a new {@link RLock} when omitted, as in Python),
   * allocated or created/attached in `buffer` at `byteOffset`.
   */
  constructor(lock?: Lock | RLock, options?: ConditionOptions) {
    const capacity = checkCapacity(
      options?.capacity ?? this[kTier].storedParam(options, 'Condition', CAPACITY) ?? DEFAULT_CAPACITY,
    );
    if (lock !== undefined && !(typeof lock === 'object' && lock !== null && kIsOwned in lock)) {
      throw new TypeError('Condition: lock must be a Lock or RLock from @conc/lock');
    }
    // Waits and wake-ups of one tier never reach the other's (Atomics vs a cross-process futex).
    if (lock !== undefined && lock[kTier] !== this[kTier]) {
      throw new TypeError(
        `Condition: lock must be of the same tier (a ${lock[kTier].holder} lock given to a ${this[kTier].holder} Condition)`,
      );
    }
    const { i32, registry } = this[kTier].open(options, spanOf('Condition', capacity), 'Condition', (m) => {
      m[CAPACITY] = capacity;
    });
    if (options?.capacity !== undefined) expectParam(i32, CAPACITY, capacity, 'Condition', 'capacity');
    this.#i32 = i32;
    this.#registry = registry;
    this.#capacity = Atomics.load(i32, CAPACITY);
    this.lock = lock ?? new RLock();
    this.buffer = i32.buffer as SharedArrayBuffer;
    this.byteOffset = i32.byteOffset;
  }

  /** Acquires the underlying lock (see `Lock.acquire`). */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.lock.acquire(options);
  }

  /** Acquires the underlying lock, blocking this thread. */
  acquireSync(options?: AcquireOptions): boolean {
    return this.lock.acquireSync(options);
  }

  /** Releases the underlying lock. */
  release(): void {
    this.lock.release();
  }

  /** Runs `fn` holding the underlying lock. */
  withLock<T>(fn: (guard: LockGuard) => T | PromiseLike<T>, options?: GuardOptions): Promise<Awaited<T>> {
    return this.lock.withLock(fn, options);
  }

  #mustOwn(what: string): void {
    if (!this.lock[kIsOwned]())
      throw new LockNotOwnedError(`Condition.${what}: the lock is not held by this thread`);
  }

  /** Takes a free slot (holding the lock) and queues this waiter. */
  #enqueue(): number {
    const i32 = this.#i32;
    for (let i = 0; i < this.#capacity; i++) {
      const at = SLOTS + i * SLOT_WORDS;
      const state = Atomics.load(i32, at + S_STATE);
      if (state !== FREE && this.#registry.isAlive(Atomics.load(i32, at + S_TAG))) continue;
      if (Atomics.compareExchange(i32, at + S_STATE, state, CANCELLED) !== state) continue;
      Atomics.store(i32, at + S_TAG, this.#registry.me);
      Atomics.store(i32, at + S_TICKET, Atomics.add(i32, TICKETS, 1));
      Atomics.store(i32, at + S_STATE, WAITING);
      return at;
    }
    throw new LockCapacityError(
      `Condition.wait: all ${this.#capacity} waiter slots are taken; create it with a larger { capacity }`,
    );
  }

  /** Timed out: withdraw unless a notify got there first. True if it was notified after all. */
  #cancel(at: number): boolean {
    return Atomics.compareExchange(this.#i32, at + S_STATE, WAITING, CANCELLED) !== WAITING;
  }

  /**
   * Releases the lock, waits until notified (`true`) or `timeout` passes
   * (`false`), and re-acquires the lock before settling. Must be called
   * holding the lock (else `LockNotOwnedError`). On abort it rejects with
   * `signal.reason`, also holding the lock again.
   */
  async wait(options?: WaitOptions): Promise<boolean> {
    const o = resolveWait(options, 'Condition.wait');
    return this[kTier].engine.waitOn(this.#wait(o, false, 'wait'), o.signal);
  }

  /** Sync {@link Condition.wait}: blocks this thread (meant for workers). */
  waitSync(options?: WaitOptions): boolean {
    const o = resolveWait(options, 'Condition.waitSync');
    return this[kTier].engine.blockOn(this.#wait(o, true, 'waitSync'), o.signal);
  }

  /** The one wait routine behind both flavours. */
  *#wait(o: Resolved, blocking: boolean, what: string): WaitRoutine<boolean> {
    this.#mustOwn(what);
    o.signal?.throwIfAborted();
    const at = this.#enqueue();
    const saved = this.lock[kReleaseSave]();
    const i32 = this.#i32;
    let notified = false;
    let failure: { error: unknown } | undefined;
    try {
      for (;;) {
        if (Atomics.load(i32, at + S_STATE) === NOTIFIED) {
          notified = true;
          break;
        }
        const left = o.deadline - performance.now();
        if (left <= 0) {
          notified = this.#cancel(at);
          break;
        }
        yield { memory: i32, index: at + S_STATE, value: WAITING, timeout: left };
      }
    } catch (error) {
      failure = { error };
    }
    try {
      yield* this.lock[kRestore](saved, blocking);
    } catch (err) {
      // Only an owner-died handler that throws gets here: the lock went back abandoned.
      Atomics.store(i32, at + S_STATE, FREE);
      throw err;
    }
    return this.#finish(at, notified, failure);
  }

  /** Holding the lock again: free the slot; an aborted waiter passes on a notification it got. */
  #finish(at: number, notified: boolean, failure: { error: unknown } | undefined): boolean {
    const passOn = failure !== undefined && this.#cancel(at);
    Atomics.store(this.#i32, at + S_STATE, FREE);
    if (passOn) this.notify(1);
    if (failure !== undefined) throw failure.error;
    return notified;
  }

  /**
   * Waits until `predicate()` returns a truthy value, re-checking after each
   * notification (Python's `wait_for`); resolves to the predicate's last
   * result, which is falsy when `timeout` passed. Must hold the lock.
   */
  async waitFor<T>(predicate: () => T, options?: WaitOptions): Promise<T> {
    const o = resolveWait(options, 'Condition.waitFor');
    return this[kTier].engine.waitOn(this.#waitFor(predicate, o, false, 'waitFor'), o.signal);
  }

  /** Sync {@link Condition.waitFor}. */
  waitForSync<T>(predicate: () => T, options?: WaitOptions): T {
    const o = resolveWait(options, 'Condition.waitForSync');
    return this[kTier].engine.blockOn(this.#waitFor(predicate, o, true, 'waitForSync'), o.signal);
  }

  /** Waits (one deadline for the whole call) until the predicate holds: both flavours of waitFor. */
  *#waitFor<T>(predicate: () => T, o: Resolved, blocking: boolean, what: string): WaitRoutine<T> {
    let result = predicate();
    while (!result && o.deadline - performance.now() > 0) {
      yield* this.#wait(o, blocking, what);
      result = predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` waiters, longest waiting first; returns how many it woke.
   * Must be called holding the lock (else `LockNotOwnedError`).
   */
  notify(n = 1): number {
    if (typeof n !== 'number') {
      throw new TypeError(`Condition.notify: n must be a non-negative number, got ${describeValue(n)}`);
    }
    if (!(n >= 0)) {
      throw new RangeError(`Condition.notify: n must be a non-negative number, got ${describeValue(n)}`);
    }
    this.#mustOwn('notify');
    let woken = 0;
    if (n === 1) {
      // The usual call: one pass for the oldest waiter, no list to build and sort.
      for (;;) {
        let best = -1;
        let bestTicket = 0;
        this.#eachWaiting((at, ticket) => {
          if (best < 0 || ((ticket - bestTicket) | 0) < 0) {
            best = at;
            bestTicket = ticket;
          }
        });
        if (best < 0) return 0;
        if (this.#wake(best)) return 1;
      }
    }
    const queued: { ticket: number; at: number }[] = [];
    this.#eachWaiting((at, ticket) => queued.push({ ticket, at }));
    queued.sort((a, b) => (a.ticket - b.ticket) | 0);
    for (const { at } of queued) {
      if (woken >= n) break;
      if (this.#wake(at)) woken++;
    }
    return woken;
  }

  /** Calls `visit` for each live waiter's slot; a dead thread's slot is cancelled on the way. */
  #eachWaiting(visit: (at: number, ticket: number) => void): void {
    const i32 = this.#i32;
    for (let i = 0; i < this.#capacity; i++) {
      const at = SLOTS + i * SLOT_WORDS;
      if (Atomics.load(i32, at + S_STATE) !== WAITING) continue;
      if (!this.#registry.isAlive(Atomics.load(i32, at + S_TAG))) {
        Atomics.compareExchange(i32, at + S_STATE, WAITING, CANCELLED);
        continue;
      }
      visit(at, Atomics.load(i32, at + S_TICKET));
    }
  }

  /** Notifies the waiter of slot `at`, woken once the lock is released; false if it stopped waiting meanwhile. */
  #wake(at: number): boolean {
    const i32 = this.#i32;
    if (Atomics.compareExchange(i32, at + S_STATE, WAITING, NOTIFIED) !== WAITING) return false;
    this.lock[kWakeOnRelease](i32, at + S_STATE);
    return true;
  }

  /** Wakes every waiter; returns how many. Must be called holding the lock. */
  notifyAll(): number {
    return this.notify(Number.POSITIVE_INFINITY);
  }

  /** Token data for `share()`: the slots and the lock. */
  [shareSymbol](): { kind: string; data: unknown } {
    return {
      kind: KIND,
      data: { ...tokenData(this, this.#registry as OwnerRegistry), lock: share(this.lock) },
    };
  }

  static {
    registerKind<Condition>({
      kind: KIND,
      attach: (data) =>
        attachData(data, KIND, (p) => {
          const lock = attach((data as { lock?: Token }).lock);
          if (!(typeof lock === 'object' && lock !== null && kIsOwned in lock)) {
            throw new TypeError('the lock of a Condition token must be a Lock or RLock');
          }
          return new Condition(lock as Lock | RLock, p);
        }),
      Class: Condition,
    });
  }
}
