/**
 * Futex-style waiting on one Int32 word of shared memory.
 *
 * `parkSync` blocks the thread (`Atomics.wait`); `parkAsync` never blocks the
 * event loop (`Atomics.waitAsync`). Callers loop: check the condition, park
 * while the word still holds the value they saw, check again. Parks are cut in
 * slices of at most {@link WAIT_SLICE_MS} so a waiter regularly re-checks
 * things no notify will announce: a holder that died, an abort signal in a
 * blocked thread, this thread's own workers.
 */

import { probeChildren } from './registry.js';

/** Longest single park; bounds how late a waiter notices a dead holder. */
export const WAIT_SLICE_MS = 100;

/** Outcome of one park, as `Atomics.wait` reports it. */
export type ParkResult = 'ok' | 'not-equal' | 'timed-out';

/**
 * A pending `Atomics.waitAsync` does not keep Node's event loop alive (its
 * timeout is an unref'd platform task), yet a pending `acquire()` must, as a
 * pending socket read does. One ref'd timer is held while any async wait of
 * this thread is pending and cleared with the last one.
 */
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

/** Number of async parks pending in this thread (diagnostics and tests). */
export function pendingParks(): number {
  return pending;
}

/**
 * Blocks this thread while `i32[index] === value`, until a notify or
 * `timeoutMs` (capped to one slice). Allowed on the main thread, where it
 * freezes the event loop for as long as it waits. It does not spin first:
 * measured on a loaded 2-core machine, spinning before a condition or event
 * park made round trips slower (the spinner takes the core its partner needs).
 */
export function parkSync(i32: Int32Array, index: number, value: number, timeoutMs: number): ParkResult {
  return Atomics.wait(i32, index, value, Math.min(timeoutMs, WAIT_SLICE_MS));
}

/**
 * Waits without blocking while `i32[index] === value`, until a notify or
 * `timeoutMs` (capped to one slice). With a `signal`, rejects with
 * `signal.reason` as soon as it aborts; a notify that reaches the abandoned
 * waiter afterwards is passed on to the next waiter of the word, so an aborted
 * waiter never swallows a wake-up meant for someone else.
 */
export function parkAsync(
  i32: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ParkResult> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const r = Atomics.waitAsync(i32, index, value, Math.min(timeoutMs, WAIT_SLICE_MS));
  if (!r.async) return Promise.resolve(r.value);
  hold();
  if (signal === undefined) {
    return r.value.then((v) => {
      drop();
      return v;
    });
  }
  return new Promise<ParkResult>((resolve, reject) => {
    let settled = false;
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      drop();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    r.value.then((v) => {
      if (settled) {
        if (v === 'ok') Atomics.notify(i32, index, 1);
        return;
      }
      settled = true;
      signal.removeEventListener('abort', onAbort);
      drop();
      resolve(v);
    });
  });
}

/** One park a wait routine asks for: sleep while `i32[index] === value`, at most `timeout` ms. */
export interface Park {
  readonly i32: Int32Array;
  readonly index: number;
  readonly value: number;
  readonly timeout: number;
  /** False for parks that must complete whatever the signal says (re-taking a lock before returning). */
  readonly abortable?: boolean;
}

/**
 * A wait written once for both flavours: a generator that yields the parks it
 * needs and receives each one's result. {@link blockOn} runs it blocking the
 * thread, {@link waitOn} without blocking the event loop. An abort is thrown
 * into the routine at the park it interrupted, so its `finally` and `catch`
 * blocks clean up exactly as they would for any other error.
 */
export type WaitRoutine<T> = Generator<Park, T, ParkResult>;

/**
 * Runs a wait routine blocking this thread. The signal is checked before each
 * abortable park (nothing can abort a thread while it is blocked); a park that
 * times out also probes this thread's workers, whose 'exit' events cannot run
 * while it blocks.
 */
export function blockOn<T>(routine: WaitRoutine<T>, signal?: AbortSignal): T {
  let step = routine.next();
  while (!step.done) {
    const park = step.value;
    let result: ParkResult;
    try {
      if (park.abortable !== false) signal?.throwIfAborted();
      result = parkSync(park.i32, park.index, park.value, park.timeout);
    } catch (err) {
      step = routine.throw(err);
      continue;
    }
    if (result === 'timed-out') probeChildren();
    step = routine.next(result);
  }
  return step.value;
}

/** Runs a wait routine without blocking the event loop; an abort rejects the park it interrupts. */
export async function waitOn<T>(routine: WaitRoutine<T>, signal?: AbortSignal): Promise<T> {
  let step = routine.next();
  while (!step.done) {
    const park = step.value;
    let result: ParkResult;
    try {
      result = await parkAsync(
        park.i32,
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
