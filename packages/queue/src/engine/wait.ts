/**
 * Waiting: spin briefly, then sleep on a shared word until a notifier bumps it.
 *
 * Protocol (no lost wake-ups): a waiter counts itself in the condition's
 * waiters, reads the word, and tries its operation (under the queue's lock);
 * if that fails it spins on the word, and if the word stays put it counts
 * itself a sleeper and sleeps on the value it read. A notifier changes the
 * queue under the lock, then (only when there are waiters) bumps the word, and
 * (only when there are sleepers) wakes as many as can proceed. Spinners watch
 * a word on its own cache line, so they never slow the lock holder's writes,
 * and a put costs no wake-up call while the consumer is only spinning.
 *
 * Every sleep is capped at {@link BACKSTOP_MS}, after which the waiter simply
 * tries again: a wake-up lost to a thread that died (or to an abandoned async
 * wait whose thread never runs again) costs latency, never a hang.
 */
import { abortReason, onAbort } from '@conc/serialize/internal';
import { Header } from './layout.js';

/** Longest single sleep; waiters re-check at least this often. */
export const BACKSTOP_MS = 250;
/** How long a sync wait spins on the word before sleeping, in ms (a futex round trip costs ~20–50 µs). */
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
 * grow back, and every wait would sleep (and every put pay a wake-up call of
 * ~10 µs here) for good.
 */
const SYNC_SPIN_MIN_MS = SYNC_SPIN_MAX_MS / 2;
/** How long an async wait spins first, in ms: kept short, the event loop is blocked meanwhile. */
const ASYNC_SPIN_MS = 0.005;

/** A condition: the word waiters watch and sleep on; its waiter count; sleepers at `waiters + 1`. */
export interface Cond {
  readonly word: number;
  readonly waiters: number;
}

export const NOT_EMPTY: Cond = { word: Header.NOT_EMPTY, waiters: Header.GET_WAITERS };
export const NOT_FULL: Cond = { word: Header.NOT_FULL, waiters: Header.PUT_WAITERS };
export const ALL_DONE: Cond = { word: Header.ALL_DONE, waiters: Header.JOIN_WAITERS };

/**
 * Probes a spin makes before it first reads the clock (about a microsecond):
 * `performance.now()` costs ~75 ns here, more than most waits for an item
 * that is on its way.
 */
const FREE_PROBES = 128;

/** Spins until the word leaves `seen` (true) or `ms` pass (false); with `ms` ≤ 0, only looks. */
function spin(a: Int32Array, word: number, seen: number, ms: number): boolean {
  if (ms <= 0) return Atomics.load(a, word) !== seen;
  for (let k = 0; k < FREE_PROBES; k++) if (Atomics.load(a, word) !== seen) return true;
  const until = performance.now() + ms;
  for (;;) {
    for (let k = 0; k < 64; k++) if (Atomics.load(a, word) !== seen) return true;
    if (performance.now() >= until) return false;
  }
}

/** Milliseconds left before `deadline`; no clock read for a wait without one. */
function timeLeft(deadline: number): number {
  return deadline === Number.POSITIVE_INFINITY ? deadline : deadline - performance.now();
}

/**
 * Runs `attempt` until it returns true, waiting on `cond` in between (the
 * caller has just tried once). Returns false once `deadline` (on
 * `performance.now()`) has passed. The signal is checked before each wait and
 * at each wake-up (nothing in this thread can abort it while it sleeps).
 */
export function waitSync(
  a: Int32Array,
  cond: Cond,
  deadline: number,
  signal: AbortSignal | undefined,
  attempt: () => boolean,
): boolean {
  Atomics.add(a, cond.waiters, 1);
  try {
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const seq = Atomics.load(a, cond.word);
      if (attempt()) return true;
      const remaining = timeLeft(deadline);
      if (remaining <= 0) return false;
      if (signal?.aborted) throw abortReason(signal);
      if (spin(a, cond.word, seq, Math.min(syncSpinMs, remaining))) {
        syncSpinMs = Math.min(SYNC_SPIN_MAX_MS, syncSpinMs * 2 + 0.001);
        continue;
      }
      syncSpinMs = Math.max(SYNC_SPIN_MIN_MS, syncSpinMs / 2);
      Atomics.add(a, cond.waiters + 1, 1);
      Atomics.wait(a, cond.word, seq, Math.min(remaining, BACKSTOP_MS));
      Atomics.sub(a, cond.waiters + 1, 1);
    }
  } finally {
    Atomics.sub(a, cond.waiters, 1);
  }
}

let holds = 0;
let keepAlive: ReturnType<typeof setInterval> | undefined;

/** A pending async wait keeps the process alive (Atomics.waitAsync alone does not); an idle queue does not. */
function hold(): void {
  if (holds++ === 0) keepAlive = setInterval(noop, 2 ** 30);
}

function unhold(): void {
  if (--holds === 0) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

function noop(): void {}

/**
 * The async form of {@link waitSync}. An abort rejects at once with
 * `signal.reason`; the abandoned `Atomics.waitAsync` passes on any wake-up it
 * receives later, so no other waiter misses one.
 */
export async function waitAsync(
  a: Int32Array,
  cond: Cond,
  deadline: number,
  signal: AbortSignal | undefined,
  attempt: () => boolean,
): Promise<boolean> {
  for (;;) {
    if (signal?.aborted) throw abortReason(signal);
    Atomics.add(a, cond.waiters, 1);
    let r: ReturnType<typeof Atomics.waitAsync>;
    try {
      const seq = Atomics.load(a, cond.word);
      if (attempt()) {
        Atomics.sub(a, cond.waiters, 1);
        return true;
      }
      const remaining = timeLeft(deadline);
      if (remaining <= 0 || spin(a, cond.word, seq, Math.min(ASYNC_SPIN_MS, remaining))) {
        Atomics.sub(a, cond.waiters, 1);
        if (remaining <= 0) return false;
        continue;
      }
      Atomics.add(a, cond.waiters + 1, 1);
      r = Atomics.waitAsync(a, cond.word, seq, Math.min(remaining, BACKSTOP_MS));
    } catch (err) {
      Atomics.sub(a, cond.waiters, 1);
      throw err;
    }
    if (!r.async) {
      Atomics.sub(a, cond.waiters + 1, 1);
      Atomics.sub(a, cond.waiters, 1);
      continue;
    }
    await sleep(a, cond, r.value, signal);
  }
}

function sleep(
  a: Int32Array,
  cond: Cond,
  woken: Promise<'ok' | 'not-equal' | 'timed-out'>,
  signal: AbortSignal | undefined,
): Promise<void> {
  hold();
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const off = onAbort(signal, (reason) => {
      settled = true;
      unhold();
      reject(reason);
    });
    void woken.then((how) => {
      Atomics.sub(a, cond.waiters + 1, 1);
      Atomics.sub(a, cond.waiters, 1);
      if (settled) {
        // Aborted earlier: this wait may have taken a wake-up meant for a waiter that can proceed.
        if (how === 'ok') Atomics.notify(a, cond.word, 1);
        return;
      }
      settled = true;
      off();
      unhold();
      resolve();
    });
  });
}
