/**
 * The queue's waits, as wait routines of `@conc/lock`'s engine: the routine
 * says what to watch and when to park; `threadEngine` drives it blocking
 * ({@link waitSync}) or on the event loop ({@link waitAsync}), with the
 * engine's slices, abort, keep-alive and hand-on of a wake-up an aborted
 * waiter took.
 *
 * Protocol (no lost wake-ups): a waiter counts itself in the condition's
 * waiters, reads the word, and tries its operation (under the queue's lock);
 * if that fails it spins on the word, and if the word stays put it counts
 * itself a sleeper and parks on the value it read. A notifier changes the
 * queue under the lock, then (only when there are waiters) bumps the word, and
 * (only when there are sleepers) wakes as many as can proceed (Store.wake).
 * Getters, putters and joiners watch three different words, each on its own
 * cache line, so spinners never slow the lock holder's writes, and a put costs
 * no wake-up call while the consumer is only spinning.
 *
 * Every park is capped at the engine's slice, after which the waiter simply
 * tries again: a wake-up lost to a thread that died (or to an abandoned async
 * wait whose thread never runs again) costs latency, never a hang.
 */
import { spinWhile, threadEngine, type WaitRoutine } from '@conc/lock/internal';
import { abortReason } from '@conc/serialize/internal';
import { Header } from './layout.js';

/** How long a sync wait spins on the word before parking, in ms (a futex round trip costs ~20–50 µs). */
const SYNC_SPIN_MAX_MS = Number(process.env.CONC_QUEUE_SPIN_US ?? 20) / 1000;
/**
 * The spin this thread uses now: it grows back toward the maximum while spins
 * pay off (the other side answers within it) and shrinks, down to
 * {@link SYNC_SPIN_MIN_MS}, while they do not (the other side is asleep or has
 * no CPU, so spinning only burns a core it needs).
 */
let syncSpinMs = SYNC_SPIN_MAX_MS;
/**
 * The spin never shrinks below this: a shorter spin than the other side's
 * usual answer time (a few µs) would never pay off again, so it could never
 * grow back, and every wait would park (and every put pay a wake-up call of
 * ~10 µs here) for good.
 */
const SYNC_SPIN_MIN_MS = SYNC_SPIN_MAX_MS / 2;
/** How long an async wait spins first, in ms: kept short, the event loop is blocked meanwhile. */
const ASYNC_SPIN_MS = 0.005;

/** A condition: the word waiters watch and park on; its waiter count; sleepers at `waiters + 1`. */
export interface Cond {
  readonly word: number;
  readonly waiters: number;
}

export const NOT_EMPTY: Cond = { word: Header.NOT_EMPTY, waiters: Header.GET_WAITERS };
export const NOT_FULL: Cond = { word: Header.NOT_FULL, waiters: Header.PUT_WAITERS };
export const ALL_DONE: Cond = { word: Header.ALL_DONE, waiters: Header.JOIN_WAITERS };

/** Milliseconds left before `deadline`; no clock read for a wait without one. */
function timeLeft(deadline: number): number {
  return deadline === Number.POSITIVE_INFINITY ? deadline : deadline - performance.now();
}

/** What the last {@link round} that ended in a park asked for: the word's value and the time left. */
let parkValue = 0;
let parkTimeout = 0;

/**
 * Tries until a park is due: runs `attempt` (true: done), checks `deadline`
 * (false: passed), watches the word (`blocking`: long and adaptive for a
 * blocked thread; else a few µs on the event loop) and tries again when it
 * moves. `undefined` when the word stayed put: park on {@link parkValue} for
 * at most {@link parkTimeout}. The signal is looked at before each attempt,
 * so a wait aborted (from another thread, through a signal whose state is
 * shared) takes nothing once it has woken.
 */
function round(
  a: Int32Array,
  cond: Cond,
  deadline: number,
  signal: AbortSignal | undefined,
  blocking: boolean,
  attempt: () => boolean,
): boolean | undefined {
  for (;;) {
    if (signal?.aborted) throw abortReason(signal);
    const seq = Atomics.load(a, cond.word);
    if (attempt()) return true;
    const remaining = timeLeft(deadline);
    if (remaining <= 0) return false;
    if (blocking) {
      if (spinWhile(a, cond.word, seq, Math.min(syncSpinMs, remaining))) {
        syncSpinMs = Math.min(SYNC_SPIN_MAX_MS, syncSpinMs * 2 + 0.001);
        continue;
      }
      syncSpinMs = Math.max(SYNC_SPIN_MIN_MS, syncSpinMs / 2);
    } else if (spinWhile(a, cond.word, seq, Math.min(ASYNC_SPIN_MS, remaining))) {
      continue;
    }
    if (signal?.aborted) throw abortReason(signal);
    parkValue = seq;
    parkTimeout = remaining;
    return undefined;
  }
}

/**
 * The routine the engine drives once a first {@link round} asked for a park
 * on `value`: park, then rounds and parks until one ends the wait. (Most
 * waits end in their first round, without a park: they never make one.)
 * The caller counted the waiter; this counts the sleeper, and uncounts both.
 * The engines start a routine at once, so its `finally` always runs.
 */
function* parks(
  a: Int32Array,
  cond: Cond,
  deadline: number,
  signal: AbortSignal | undefined,
  blocking: boolean,
  attempt: () => boolean,
  value: number,
  timeout: number,
): WaitRoutine<boolean> {
  try {
    for (;;) {
      // Counted as a sleeper until the park ends, or is abandoned (abort): a notifier
      // that sees none skips its wake-up call.
      Atomics.add(a, cond.waiters + 1, 1);
      try {
        yield { memory: a, index: cond.word, value, timeout };
      } finally {
        Atomics.sub(a, cond.waiters + 1, 1);
      }
      const done = round(a, cond, deadline, signal, blocking, attempt);
      if (done !== undefined) return done;
      value = parkValue;
      timeout = parkTimeout;
    }
  } finally {
    Atomics.sub(a, cond.waiters, 1);
  }
}

/**
 * Runs `attempt` until it returns true, blocking this thread on `cond` in
 * between; false once `deadline` has passed. The signal is checked before
 * each attempt and each park (nothing in this thread can abort it while it
 * is blocked).
 */
export function waitSync(
  a: Int32Array,
  cond: Cond,
  deadline: number,
  signal: AbortSignal | undefined,
  attempt: () => boolean,
): boolean {
  Atomics.add(a, cond.waiters, 1);
  let done: boolean | undefined;
  try {
    done = round(a, cond, deadline, signal, true, attempt);
  } catch (err) {
    Atomics.sub(a, cond.waiters, 1);
    throw err;
  }
  if (done !== undefined) {
    Atomics.sub(a, cond.waiters, 1);
    return done;
  }
  // From here the routine uncounts the waiter. It looks at the signal itself: the signal may
  // be any AbortSignal-like object (one whose state lives in shared memory is the only kind
  // another thread can abort), so the engine is not given it.
  return threadEngine.blockOn(parks(a, cond, deadline, signal, true, attempt, parkValue, parkTimeout));
}

/**
 * The async form of {@link waitSync}. An abort rejects at once with
 * `signal.reason` (the engine passes on any wake-up the abandoned park
 * receives later, so no other waiter misses one).
 */
export function waitAsync(
  a: Int32Array,
  cond: Cond,
  deadline: number,
  signal: AbortSignal | undefined,
  attempt: () => boolean,
): Promise<boolean> {
  Atomics.add(a, cond.waiters, 1);
  let done: boolean | undefined;
  try {
    done = round(a, cond, deadline, signal, false, attempt);
  } catch (err) {
    Atomics.sub(a, cond.waiters, 1);
    return Promise.reject(err);
  }
  if (done !== undefined) {
    Atomics.sub(a, cond.waiters, 1);
    return Promise.resolve(done);
  }
  // From here the routine uncounts the waiter.
  return threadEngine.waitOn(
    parks(a, cond, deadline, signal, false, attempt, parkValue, parkTimeout),
    signal,
  );
}
