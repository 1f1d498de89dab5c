/**
 * The waiting engine: every blocking call of every primitive is one *wait
 * routine*, a generator that checks its condition and yields the parks it
 * needs ("sleep while this word still holds this value, at most this long");
 * the engine drives it either blocking the thread ({@link WaitEngine.blockOn})
 * or without blocking the event loop ({@link WaitEngine.waitOn}). The sync and
 * async flavours of a call are thus one algorithm. An abort is thrown into the
 * routine at the park it interrupted, so its `finally` and `catch` blocks clean
 * up exactly as for any other error.
 *
 * What the engine adds around the tier's {@link WaitWake}:
 * - sliced sleeps: no park lasts more than `sliceMs`, so a waiter regularly
 *   re-checks what no wake-up announces (a holder that died, an abort signal
 *   in a blocked thread, this thread's own workers via `onBlockedSliceTimedOut`);
 * - abort: an async park rejects with the signal's reason as soon as it
 *   aborts; a wake-up that reaches the abandoned waiter afterwards is passed
 *   on to the next waiter of the word, so an aborted waiter never swallows a
 *   wake-up meant for someone else;
 * - keep-alive: while any async park of this thread is pending, one ref'd
 *   timer keeps the process alive (unless the primitive's waits do it
 *   themselves), as a pending read would; idle primitives keep nothing alive;
 * - spinning ({@link spin}, {@link spinWhile}): a blocking take retries
 *   briefly before its first park, a routine may watch its word a few µs;
 *   a short critical section or an item on its way ends sooner than a park
 *   round trip.
 *
 * The algorithms (lock words, semaphores, conditions...) live in the routines
 * and never call a wait/wake primitive directly, except `wake`, which they
 * reach through `engine.wake` or their tier's own notify.
 */
import type { WaitResult, WaitWake } from './wait-wake.js';

/** One park a wait routine asks for: sleep while `memory[index] === value`, at most `timeout` ms. */
export interface Park<W = Int32Array> {
  readonly memory: W;
  readonly index: number;
  readonly value: number;
  readonly timeout: number;
  /** False for parks that must complete whatever the signal says (re-taking a lock before returning). */
  readonly abortable?: boolean;
}

/** A wait written once for both flavours: yields parks, receives each one's result, returns the call's result. */
export type WaitRoutine<T, W = Int32Array> = Generator<Park<W>, T, WaitResult>;

/** Options of {@link createWaitEngine}. */
export interface WaitEngineOptions {
  /** Longest single park (ms): bounds how late a waiter notices what no wake-up announces. @default 100 */
  readonly sliceMs?: number;
  /**
   * Called when a blocking park's slice timed out: a thread blocked in a sync
   * wait cannot run events, so a tier whose deaths arrive as events (a
   * worker's `'exit'`) checks for them here.
   */
  readonly onBlockedSliceTimedOut?: () => void;
}

/** The engine of one tier: drives wait routines on its {@link WaitWake}. */
export interface WaitEngine<W = Int32Array> {
  /** The tier's wait/wake primitive. */
  readonly waitWake: WaitWake<W>;
  /** Longest single park (ms). */
  readonly sliceMs: number;
  /** Runs a routine blocking this thread; the signal is checked before each abortable park. */
  blockOn<T>(routine: WaitRoutine<T, W>, signal?: AbortSignal): T;
  /** Runs a routine without blocking the event loop; an abort rejects the park it interrupts. */
  waitOn<T>(routine: WaitRoutine<T, W>, signal?: AbortSignal): Promise<T>;
  /** One blocking park (capped to a slice). */
  parkSync(memory: W, index: number, value: number, timeoutMs: number): WaitResult;
  /** One async park (capped to a slice), abortable, passing on a wake-up it got after an abort. */
  parkAsync(
    memory: W,
    index: number,
    value: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WaitResult>;
  /** Wakes up to `count` waiters of `memory[index]`. */
  wake(memory: W, index: number, count: number): number;
}

/** Default longest park. */
export const WAIT_SLICE_MS = 100;
/** Default spins before a first blocking park. */
export const SPINS = 64;

/**
 * Retries `attempt` up to `spins` times while it returns `failed`; returns
 * the first other result, or `failed`. Only for blocking waits: in async code
 * the thread's other tasks need the time.
 */
export function spin<T>(attempt: () => T, failed: T, spins = SPINS): T {
  for (let i = 0; i < spins; i++) {
    const r = attempt();
    if (r !== failed) return r;
  }
  return failed;
}

/**
 * Probes {@link spinWhile} makes before it first reads the clock (about a
 * microsecond): `performance.now()` costs ~75 ns, more than most waits for a
 * change that is on its way.
 */
const FREE_PROBES = 128;

/**
 * Spins while `memory[index] === seen`, at most `ms` ms: true once the word
 * changed, false when the time is up (with `ms` ≤ 0, only looks). For routines
 * that watch a word before parking on it (a park costs a futex round trip,
 * ~20–50 µs, and its waker a wake-up call), rather than retrying an attempt as
 * {@link spin} does. The clock is read only after {@link FREE_PROBES} probes.
 * Only for blocking waits, or a few µs in async ones: the thread does nothing
 * else meanwhile.
 */
export function spinWhile(memory: Int32Array, index: number, seen: number, ms: number): boolean {
  if (ms <= 0) return Atomics.load(memory, index) !== seen;
  for (let k = 0; k < FREE_PROBES; k++) if (Atomics.load(memory, index) !== seen) return true;
  const until = performance.now() + ms;
  for (;;) {
    for (let k = 0; k < 64; k++) if (Atomics.load(memory, index) !== seen) return true;
    if (performance.now() >= until) return false;
  }
}

// One keep-alive per thread, whatever the number of engines and primitives.
let pending = 0;
let keepAliveTimer: ReturnType<typeof setInterval> | undefined;

function hold(): void {
  if (pending++ === 0) keepAliveTimer = setInterval(noop, 0x7fffffff);
}

function drop(): void {
  if (--pending === 0 && keepAliveTimer !== undefined) {
    clearInterval(keepAliveTimer);
    keepAliveTimer = undefined;
  }
}

function noop(): void {}

/** Number of async parks pending in this thread that hold the keep-alive (diagnostics and tests). */
export function pendingParks(): number {
  return pending;
}

/** Builds the engine of a tier from its wait/wake primitive. */
export function createWaitEngine<W>(waitWake: WaitWake<W>, options: WaitEngineOptions = {}): WaitEngine<W> {
  const sliceMs = options.sliceMs ?? WAIT_SLICE_MS;
  const onBlockedSliceTimedOut = options.onBlockedSliceTimedOut;
  const keepAlive = !waitWake.waitAsyncKeepsAlive;

  function parkSync(memory: W, index: number, value: number, timeoutMs: number): WaitResult {
    return waitWake.wait(memory, index, value, Math.min(timeoutMs, sliceMs));
  }

  function parkAsync(
    memory: W,
    index: number,
    value: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WaitResult> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const r = waitWake.waitAsync(memory, index, value, Math.min(timeoutMs, sliceMs), signal);
    if (typeof r === 'string') return Promise.resolve(r);
    if (keepAlive) hold();
    if (signal === undefined) {
      return keepAlive
        ? r.then((v) => {
            drop();
            return v;
          })
        : r;
    }
    return new Promise<WaitResult>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        if (settled) return;
        settled = true;
        if (keepAlive) drop();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      r.then((v) => {
        if (settled) {
          // The abandoned waiter took a wake-up meant for a live one: pass it on.
          if (v === 'ok') waitWake.wake(memory, index, 1);
          return;
        }
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (keepAlive) drop();
        resolve(v);
      });
    });
  }

  function blockOn<T>(routine: WaitRoutine<T, W>, signal?: AbortSignal): T {
    let step = routine.next();
    while (!step.done) {
      const park = step.value;
      let result: WaitResult;
      try {
        if (park.abortable !== false) signal?.throwIfAborted();
        result = parkSync(park.memory, park.index, park.value, park.timeout);
      } catch (err) {
        step = routine.throw(err);
        continue;
      }
      if (result === 'timed-out') onBlockedSliceTimedOut?.();
      step = routine.next(result);
    }
    return step.value;
  }

  async function waitOn<T>(routine: WaitRoutine<T, W>, signal?: AbortSignal): Promise<T> {
    let step = routine.next();
    while (!step.done) {
      const park = step.value;
      let result: WaitResult;
      try {
        result = await parkAsync(
          park.memory,
          park.index,
          park.value,
          park.timeout,
          park.abortable === false ? undefined : signal,
        );
      } catch (err) {
        step = routine.throw(err);
        continue;
      }
      step = routine.next(result);
    }
    return step.value;
  }

  return {
    waitWake,
    sliceMs,
    blockOn,
    waitOn,
    parkSync,
    parkAsync,
    wake: (memory, index, count) => waitWake.wake(memory, index, count),
  };
}
