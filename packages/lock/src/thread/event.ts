import { registerKind, type Shareable, shareSymbol } from '@conc/serialize';
import { resolveWait, type WaitOptions } from '../core/options.js';
import { kTier, type Tier } from '../core/tier.js';
import type { Liveness } from '../engine/liveness.js';
import type { WaitRoutine } from '../engine/waiting.js';
import { attachData, type Placement, spanOf, tokenData } from './layout.js';
import type { OwnerRegistry } from './registry.js';
import { threadTier } from './tier.js';

/** The flag in bit 0; a generation, bumped by every `set()` that raises it, above it. */
const WORD = 2;
const BYTES = spanOf('Event', 0);
const KIND = 'lock.thread.Event';
const GEN_LIMIT = 0x3fffffff;

/** Options of `new Event()`: where it lives. */
export type EventOptions = Placement;

/**
 * A flag threads can wait for (Python's `threading.Event`), in 16 bytes of
 * shared memory: `set()` raises it and wakes every waiter, `clear()` lowers it,
 * `wait()` returns once it is raised.
 *
 * No lost wake-ups: every `set()` that raises the flag also bumps a generation
 * counter, so a waiter that was waiting when it was raised returns `true` even
 * if the flag was cleared again before the waiter ran (Python's guarantee).
 * A wait that times out returns `false` and consumes nothing.
 *
 * @example
 * ```ts
 * const ready = new Event();
 * // worker: ready.waitSync(); main: ready.set();
 * ```
 */
export class Event implements Shareable {
  /** @internal the tier whose memory and waits this primitive uses (see core/tier.ts) */
  get [kTier](): Tier {
    return threadTier;
  }

  /** Bytes an Event occupies in a SharedArrayBuffer. */
  static byteLength(): number {
    return BYTES;
  }

  /** The shared memory this event lives in. */
  readonly buffer: SharedArrayBuffer;
  /** Where in `buffer` it lives. */
  readonly byteOffset: number;
  readonly #i32: Int32Array;
  readonly #registry: Liveness;

  /** Allocates a new, cleared event, or creates/attaches one in `buffer` at `byteOffset`. */
  constructor(options?: EventOptions) {
    const { i32, registry } = this[kTier].open(options, BYTES, 'Event', () => {});
    this.#i32 = i32;
    this.#registry = registry;
    this.buffer = i32.buffer as SharedArrayBuffer;
    this.byteOffset = i32.byteOffset;
  }

  /** True while the flag is raised (a snapshot). */
  isSet(): boolean {
    return (Atomics.load(this.#i32, WORD) & 1) === 1;
  }

  /** Raises the flag and wakes every waiter. Does nothing if already raised. */
  set(): void {
    const i32 = this.#i32;
    for (;;) {
      const w = Atomics.load(i32, WORD);
      if ((w & 1) === 1) return;
      const gen = w >>> 1 === GEN_LIMIT ? 0 : (w >>> 1) + 1;
      if (Atomics.compareExchange(i32, WORD, w, (gen << 1) | 1) === w) break;
    }
    this[kTier].engine.wake(i32, WORD, Number.POSITIVE_INFINITY);
  }

  /** Lowers the flag; later `wait()` calls wait for the next `set()`. */
  clear(): void {
    const i32 = this.#i32;
    for (;;) {
      const w = Atomics.load(i32, WORD);
      if ((w & 1) === 0 || Atomics.compareExchange(i32, WORD, w, w & ~1) === w) return;
    }
  }

  /**
   * Resolves `true` once the flag is raised (at once if it is), `false` when
   * `timeout` passes first. Never blocks the event loop.
   */
  async wait(options?: WaitOptions): Promise<boolean> {
    const o = resolveWait(options, 'Event.wait');
    if (this.isSet()) return true;
    o.signal?.throwIfAborted();
    return this[kTier].engine.waitOn(this.#wait(o.deadline), o.signal);
  }

  /** Sync {@link Event.wait}: blocks this thread (meant for workers). */
  waitSync(options?: WaitOptions): boolean {
    const o = resolveWait(options, 'Event.waitSync');
    if (this.isSet()) return true;
    o.signal?.throwIfAborted();
    return this[kTier].engine.blockOn(this.#wait(o.deadline), o.signal);
  }

  /** Any change of the word after it was seen lowered means a `set()` happened. */
  *#wait(deadline: number): WaitRoutine<boolean> {
    const i32 = this.#i32;
    const seen = Atomics.load(i32, WORD);
    if ((seen & 1) === 1) return true;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return Atomics.load(i32, WORD) !== seen;
      yield { memory: i32, index: WORD, value: seen, timeout: left };
      if (Atomics.load(i32, WORD) !== seen) return true;
    }
  }

  /** Token data for `share()`. */
  [shareSymbol](): { kind: string; data: unknown } {
    return {
      kind: KIND,
      data: tokenData(this, this.#registry as OwnerRegistry),
    };
  }

  static {
    registerKind<Event>({
      kind: KIND,
      attach: (data) => attachData(data, KIND, (p) => new Event(p)),
      Class: Event,
    });
  }
}
