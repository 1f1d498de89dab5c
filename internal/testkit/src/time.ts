import { liveResourceReport } from './report.js';

/** A blocking step did not finish in time; the message carries a live-resource report. */
export class WatchdogTimeoutError extends Error {
  override readonly name = 'WatchdogTimeoutError';
}

/**
 * Resolves as `promise` does, or rejects after `ms` with an error naming
 * `label` and listing what is still alive, so a hang fails with a diagnosis.
 */
export function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new WatchdogTimeoutError(`${label}: not settled within ${ms} ms\n${liveResourceReport()}`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface EventuallyOptions {
  /** Give up after this many milliseconds. @default 5000 */
  timeout?: number;
  /** Pause between tries in milliseconds. @default 10 */
  interval?: number;
}

/**
 * Runs `fn` until it stops throwing (an assertion that becomes true), and
 * rethrows its last error after `timeout`. For conditions reached
 * asynchronously by other threads or processes; never for timing claims.
 */
export async function eventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const { timeout = 5000, interval = 10 } = options;
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, interval));
    }
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The error an operation throws or rejects with; fails the test if the
 * operation succeeds, or if it neither succeeds nor fails within `ms`.
 */
export async function failure<E extends Error = Error & { code?: string }>(
  op: () => unknown,
  ms = 10_000,
): Promise<E> {
  try {
    await within(Promise.resolve().then(op), ms, 'operation expected to fail');
  } catch (err) {
    if (err instanceof WatchdogTimeoutError) throw err;
    return err as E;
  }
  throw new Error('expected the operation to fail, but it succeeded');
}
