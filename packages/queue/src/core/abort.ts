/**
 * AbortSignal wiring in the p-queue manner: look at `aborted` first, add one
 * `{ once: true }` listener, remove it when the call settles, reject with
 * `signal.reason`.
 */

/** Why a signal aborted: its `reason`, or a standard AbortError when it has none. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Calls `onAbort` once if `signal` aborts; returns the function that removes
 * the listener (call it when the operation settles). No signal, no cost.
 */
export function onAbort(signal: AbortSignal | undefined, onAbort: (reason: unknown) => void): () => void {
  if (signal === undefined) return noop;
  const listener = () => onAbort(abortReason(signal));
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

function noop(): void {}
