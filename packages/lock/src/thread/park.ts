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
