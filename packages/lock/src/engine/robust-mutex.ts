/**
 * The robust mutex every owner-tracking primitive is built on: one Int32 word
 * holding the owner's registry tag, plus a "contended" bit set by waiters so an
 * uncontended release is a single compare-and-swap and never a notify
 * (Drepper's "Futexes Are Tricky", mutex #2, with owners).
 *
 * Robustness: a waiter that finds the word held by a tag its {@link Liveness}
 * reports dead swaps its own tag in, and is told it took over (`> 0` result),
 * like `EOWNERDEAD` from a POSIX robust mutex. Tier-independent: the word may
 * live in a thread's SharedArrayBuffer or a mapping shared by processes; the
 * tier supplies the liveness (who is alive) and the wait/wake primitive.
 *
 * Fairness: parked waiters are woken in the order they parked (`Atomics.notify`
 * is FIFO), but a running thread may take the word between a release and the
 * woken waiter's retry (barging), which is what makes the uncontended and
 * lightly contended cases fast. No strict FIFO is promised.
 */
import { FOREVER, NO_WAIT } from '@conc/serialize/internal';
import { WouldDeadlockError } from '../core/errors.js';
import { type Liveness, TAG_MASK } from './liveness.js';
import type { WaitWake } from './wait-wake.js';
import { SPINS, type WaitRoutine } from './waiting.js';

/** Set in the lock word while a waiter may be parked on it. */
export const CONTENDED = 1 << 30;

/** Result of a take when the word is held by a live owner or the wait timed out. */
export const BUSY = -1;
/** Result of a take that got the word normally. Any result `> 0` is the dead owner's tag it took over from. */
export const TAKEN = 0;

/**
 * One attempt, never waits. Returns {@link TAKEN}, {@link BUSY}, or the dead
 * owner's tag when it took the word over.
 */
export function tryTake(
  i32: Int32Array,
  index: number,
  me: number,
  liveness: Liveness,
  contended: boolean,
): number {
  for (;;) {
    const s = Atomics.load(i32, index);
    if (s === 0) {
      if (Atomics.compareExchange(i32, index, 0, contended ? me | CONTENDED : me) === 0) return TAKEN;
      continue;
    }
    const owner = s & TAG_MASK;
    if (owner === me || liveness.isAlive(owner)) return BUSY;
    if (Atomics.compareExchange(i32, index, s, me | (s & CONTENDED)) === s) return owner;
  }
}

/** Marks the word contended so the holder's release notifies; returns the value to park on, or 0 to retry. */
function announce(i32: Int32Array, index: number): number {
  const s = Atomics.load(i32, index);
  if (s === 0) return 0;
  if ((s & CONTENDED) !== 0) return s;
  return Atomics.compareExchange(i32, index, s, s | CONTENDED) === s ? s | CONTENDED : 0;
}

/**
 * Takes the word, waiting until `deadline` (a `performance.now()` value;
 * `-Infinity` tries once); run it with `engine.blockOn` or `engine.waitOn`. A blocking take
 * spins briefly before parking and throws {@link WouldDeadlockError} when this
 * thread holds the word itself and would wait for ever (in async code another
 * task of the thread may release it, so it waits).
 */
export function* take(
  i32: Int32Array,
  index: number,
  me: number,
  liveness: Liveness,
  deadline: number,
  blocking: boolean,
  what: string,
  abortable = true,
): WaitRoutine<number> {
  let r = tryTake(i32, index, me, liveness, false);
  if (r !== BUSY || deadline === NO_WAIT) return r;
  if (blocking) {
    if ((Atomics.load(i32, index) & TAG_MASK) === me && deadline === FOREVER) {
      throw new WouldDeadlockError(
        `${what}: this thread already holds it; a blocking wait without a timeout could never end`,
      );
    }
    // Inline rather than spin(): a closure per contended take showed in the contended bench.
    for (let i = 0; i < SPINS; i++) {
      r = tryTake(i32, index, me, liveness, false);
      if (r !== BUSY) return r;
    }
  }
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) return BUSY;
    const expect = announce(i32, index);
    if (expect !== 0) yield { memory: i32, index, value: expect, timeout: left, abortable };
    r = tryTake(i32, index, me, liveness, true);
    if (r !== BUSY) return r;
  }
}

/** Releases a word the caller holds; wakes one parked waiter (through the tier's `waitWake`) if any may be parked. */
export function give(i32: Int32Array, index: number, waitWake: WaitWake<Int32Array>): void {
  if ((Atomics.exchange(i32, index, 0) & CONTENDED) !== 0) waitWake.wake(i32, index, 1);
}
