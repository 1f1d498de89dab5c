import { registerKind, type Shareable, shareSymbol } from '@conc/serialize';
import { checkFunction, checkInt, checkOptions, checkTimeout, FOREVER } from '@conc/serialize/internal';
import { BrokenBarrierError, ForeignBufferError } from '../core/errors.js';
import { type Resolved, resolveWait, type WaitOptions } from '../core/options.js';
import { kTier, type Tier } from '../core/tier.js';
import type { Liveness } from '../engine/liveness.js';
import { give, take } from '../engine/robust-mutex.js';
import type { WaitRoutine } from '../engine/waiting.js';
import {
  attachData,
  expectParam,
  MAX_SIZE_PARAM,
  type Placement,
  SIZE_PARAM,
  spanOf,
  storedParam,
  tokenData,
} from './layout.js';
import type { OwnerRegistry } from './registry.js';
import { threadTier } from './tier.js';

/** Internal robust mutex guarding the words below. */
const MUTEX = 2;
/** Bumped on every state change; waiters park on it. */
const SEQ = 3;
const STATE = 4;
const COUNT = 5;
const PARTIES = SIZE_PARAM.Barrier;
/** Default timeout in ms, -1 for none. */
const TIMEOUT = 7;
/** Owner tag of the party with each arrival index, 0 when none. */
const TAGS = 8;
const FILLING = 0;
const DRAINING = 1;
const RESETTING = -1;
const BROKEN = -2;
const KIND = 'lock.thread.Barrier';

/** Options of `new Barrier()`. */
export interface BarrierOptions extends Placement {
  /**
   * Called once per cycle by the last party to arrive, before any party is
   * released. If it throws, the barrier breaks and that party's `wait()` throws
   * the error. Functions cannot cross threads: each thread's object has its own
   * (also settable as the `action` property).
   * @default undefined
   * @example
   * ```ts
   * new Barrier(4, { action: () => console.log('all four arrived') });
   * ```
   */
  action?: () => void;
  /**
   * Default timeout (ms) of every `wait()`, stored in shared memory so every
   * thread's object uses it. A wait that times out breaks the barrier.
   * @default Infinity
   */
  timeout?: number;
}

function checkParties(n: unknown): number {
  return checkInt('Barrier', 'parties', n, 1, MAX_SIZE_PARAM);
}

/**
 * A barrier for a fixed number of parties (Python's `threading.Barrier`): each
 * `wait()` blocks until `parties` threads (or tasks) have called it, then all
 * are released together and each gets a distinct index from 0 to `parties - 1`
 * (its arrival order). It is reusable: the next cycle starts once the released
 * parties have left.
 *
 * A party that times out, is aborted or dies while waiting breaks the barrier:
 * every waiting and later party gets `BrokenBarrierError` (and `broken` is
 * true) until `reset()`. Death is noticed by the other waiting parties within
 * about 100 ms of the supervising thread seeing it. Parties that have not
 * arrived yet cannot be watched: a thread that dies before calling `wait()`
 * leaves the others waiting for their timeout.
 *
 * @example
 * ```ts
 * const b = new Barrier(3);
 * // in each of 3 workers:
 * const i = b.waitSync();
 * ```
 */
export class Barrier implements Shareable {
  /** @internal the tier whose memory and waits this primitive uses (see core/tier.ts) */
  get [kTier](): Tier {
    return threadTier;
  }

  /** Bytes a barrier for `parties` occupies in a SharedArrayBuffer. */
  static byteLength(parties: number): number {
    return spanOf('Barrier', checkParties(parties));
  }

  /** The shared memory this barrier lives in. */
  readonly buffer: SharedArrayBuffer;
  /** Where in `buffer` it lives. */
  readonly byteOffset: number;
  /** This thread's action, run when this thread's party arrives last. */
  action: (() => void) | undefined;
  readonly #i32: Int32Array;
  readonly #registry: Liveness;
  readonly #me: number;
  readonly #parties: number;

  /** A barrier for `parties` parties, allocated or created/attached in `buffer` at `byteOffset`. */
  constructor(parties: number, options?: BarrierOptions) {
    checkParties(parties);
    checkOptions('Barrier', options, '{ buffer, byteOffset, action, timeout }');
    const timeout = checkTimeout('Barrier', options?.timeout);
    const action = checkFunction<() => void>('Barrier', 'action', options?.action);
    const { i32, registry } = this[kTier].open(options, spanOf('Barrier', parties), 'Barrier', (m) => {
      m[PARTIES] = parties;
      m[TIMEOUT] = timeout === FOREVER ? -1 : Math.ceil(timeout);
    });
    expectParam(i32, PARTIES, parties, 'Barrier', 'parties');
    this.#i32 = i32;
    this.#registry = registry;
    this.#me = registry.me;
    this.#parties = parties;
    this.action = action;
    this.buffer = i32.buffer as SharedArrayBuffer;
    this.byteOffset = i32.byteOffset;
  }

  /** The number of parties needed to pass the barrier. */
  get parties(): number {
    return this.#parties;
  }

  /** Parties waiting in the current cycle (a snapshot). */
  get nWaiting(): number {
    return Atomics.load(this.#i32, STATE) === FILLING ? Atomics.load(this.#i32, COUNT) : 0;
  }

  /** True while the barrier is broken (until `reset()`). */
  get broken(): boolean {
    return Atomics.load(this.#i32, STATE) === BROKEN;
  }

  #defaultTimeout(): number | undefined {
    const t = Atomics.load(this.#i32, TIMEOUT);
    return t < 0 ? undefined : t;
  }

  /**
   * Waits until all parties have arrived and resolves to this party's arrival
   * index. Rejects with `BrokenBarrierError` if the barrier is or becomes
   * broken, or when `timeout` passes (which breaks it for all); with
   * `signal.reason` on abort (which also breaks it once this party arrived).
   */
  async wait(options?: WaitOptions): Promise<number> {
    const o = resolveWait(options, 'Barrier.wait', this.#defaultTimeout());
    o.signal?.throwIfAborted();
    return this[kTier].engine.waitOn(this.#wait(o, false), o.signal);
  }

  /** Sync {@link Barrier.wait}: blocks this thread (meant for workers). */
  waitSync(options?: WaitOptions): number {
    const o = resolveWait(options, 'Barrier.waitSync', this.#defaultTimeout());
    o.signal?.throwIfAborted();
    return this[kTier].engine.blockOn(this.#wait(o, true), o.signal);
  }

  /** Python's `Barrier.wait`, one routine for both flavours; the state lives under the internal mutex. */
  *#wait(o: Resolved, blocking: boolean): WaitRoutine<number> {
    yield* this.#lock(blocking);
    let index = -1;
    try {
      while (this.#draining()) yield* this.#park(FOREVER, blocking);
      index = this.#arrive();
      if (index + 1 === this.#parties) this.#releaseAll();
      while (!this.#released(index, o.deadline)) {
        try {
          yield* this.#park(o.deadline - performance.now(), blocking);
        } catch (err) {
          this.#breakIfFilling();
          throw err;
        }
      }
      return index;
    } finally {
      this.#exit(index);
    }
  }

  /** Releases the mutex, parks until the state changes (or a slice passes), re-takes the mutex. */
  *#park(left: number, blocking: boolean): WaitRoutine<void> {
    const s = Atomics.load(this.#i32, SEQ);
    give(this.#i32, MUTEX, this[kTier].engine.waitWake);
    try {
      yield { memory: this.#i32, index: SEQ, value: s, timeout: left };
    } finally {
      yield* this.#lock(blocking);
    }
  }

  /** Python's `_enter`: true while the previous cycle drains or a reset completes (dead parties are cleared out). */
  #draining(): boolean {
    const state = Atomics.load(this.#i32, STATE);
    if (state !== DRAINING && state !== RESETTING) return false;
    if (this.#sweepDead() > 0 && Atomics.load(this.#i32, COUNT) === 0) this.#setState(FILLING);
    return Atomics.load(this.#i32, STATE) !== FILLING;
  }

  /** Takes an arrival index (throws if the barrier is broken). */
  #arrive(): number {
    const i32 = this.#i32;
    if (Atomics.load(i32, STATE) === BROKEN)
      throw new BrokenBarrierError('Barrier.wait: the barrier is broken');
    const index = Atomics.add(i32, COUNT, 1);
    Atomics.store(i32, TAGS + index, this.#me);
    return index;
  }

  /** The last party: run the action, then release everyone (or break if it throws). */
  #releaseAll(): void {
    try {
      this.action?.();
    } catch (err) {
      this.#break();
      throw err;
    }
    this.#setState(DRAINING);
  }

  /** Python's `_wait` check: true once released; throws (breaking the barrier) on break, reset, death or timeout. */
  #released(index: number, deadline: number): boolean {
    const state = Atomics.load(this.#i32, STATE);
    if (state === DRAINING) return true;
    if (state !== FILLING) {
      throw new BrokenBarrierError(
        `Barrier.wait: the barrier was ${state === RESETTING ? 'reset' : 'broken'} while waiting`,
      );
    }
    if (this.#sweepDead() > 0) {
      this.#break();
      throw new BrokenBarrierError('Barrier.wait: a waiting party died; the barrier is now broken');
    }
    if (deadline - performance.now() <= 0) {
      this.#break();
      throw new BrokenBarrierError(`Barrier.wait: party ${index} timed out; the barrier is now broken`);
    }
    return false;
  }

  /** Python's `_exit`: leave the cycle (if arrived) and release the mutex. */
  #exit(index: number): void {
    const i32 = this.#i32;
    if (index >= 0 && Atomics.load(i32, TAGS + index) === this.#me) {
      Atomics.store(i32, TAGS + index, 0);
      const state = Atomics.load(i32, STATE);
      if (Atomics.sub(i32, COUNT, 1) === 1 && (state === DRAINING || state === RESETTING))
        this.#setState(FILLING);
    }
    give(i32, MUTEX, this[kTier].engine.waitWake);
  }

  #breakIfFilling(): void {
    if (Atomics.load(this.#i32, STATE) === FILLING) this.#break();
  }

  /** Removes arrived parties whose thread died; returns how many. Holding the mutex. */
  #sweepDead(): number {
    const i32 = this.#i32;
    let dead = 0;
    for (let i = 0; i < this.#parties; i++) {
      const t = Atomics.load(i32, TAGS + i);
      if (t === 0 || t === this.#me || this.#registry.isAlive(t)) continue;
      Atomics.store(i32, TAGS + i, 0);
      Atomics.sub(i32, COUNT, 1);
      dead++;
    }
    return dead;
  }

  #setState(state: number): void {
    Atomics.store(this.#i32, STATE, state);
    Atomics.add(this.#i32, SEQ, 1);
    this[kTier].engine.wake(this.#i32, SEQ, Number.POSITIVE_INFINITY);
  }

  #break(): void {
    this.#setState(BROKEN);
  }

  /** Takes the internal mutex; if its holder died mid-update, the state is suspect: break. */
  #tookOver(r: number): void {
    if (r > 0) {
      this.#sweepDead();
      this.#break();
    }
  }

  /** Takes the internal mutex (whatever an abort signal says: it is held only for microseconds). */
  *#lock(blocking: boolean): WaitRoutine<void> {
    const r = yield* take(this.#i32, MUTEX, this.#me, this.#registry, FOREVER, blocking, 'Barrier', false);
    this.#tookOver(r);
  }

  /**
   * Returns the barrier to its empty, unbroken state. Parties waiting right now
   * get `BrokenBarrierError`; the barrier is usable again once they have left.
   */
  reset(): void {
    const i32 = this.#i32;
    this[kTier].engine.blockOn(this.#lock(true));
    try {
      this.#sweepDead();
      if (Atomics.load(i32, COUNT) > 0) {
        const state = Atomics.load(i32, STATE);
        this.#setState(state === FILLING || state === BROKEN ? RESETTING : state);
      } else {
        this.#setState(FILLING);
      }
    } finally {
      give(i32, MUTEX, this[kTier].engine.waitWake);
    }
  }

  /** Breaks the barrier: every waiting and later `wait()` gets `BrokenBarrierError` until `reset()`. */
  abort(): void {
    this[kTier].engine.blockOn(this.#lock(true));
    try {
      this.#break();
    } finally {
      give(this.#i32, MUTEX, this[kTier].engine.waitWake);
    }
  }

  /** Token data for `share()` (the action stays in this thread; the party count is read from the memory). */
  [shareSymbol](): { kind: string; data: unknown } {
    return {
      kind: KIND,
      data: tokenData(this, this.#registry as OwnerRegistry),
    };
  }

  static {
    registerKind<Barrier>({
      kind: KIND,
      attach: (data) =>
        attachData(data, KIND, (p) => {
          const parties = storedParam(p, 'Barrier', PARTIES);
          if (parties === undefined)
            throw new ForeignBufferError('Barrier: the token points at memory holding no Barrier');
          return new Barrier(parties, p);
        }),
      Class: Barrier,
    });
  }
}
