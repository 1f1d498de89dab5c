import { checkSignal, checkTimeout } from '@conc/serialize/internal';

export { checkTimeout };

/**
 * Timeout and AbortSignal wiring shared by every blocking call, p-queue style:
 * an aborted signal rejects at once with `signal.reason`; one `{ once: true }`
 * listener and one timer per wait, both removed when the wait settles.
 */

/** The options every blocking call of this package takes. */
export interface WaitOptions {
  /**
   * Give up after this many milliseconds. `undefined` or `Infinity` waits
   * without a time limit; `0` only looks at what is already there.
   * @default undefined
   * @example { timeout: 500 }
   */
  timeout?: number;
  /**
   * Cancels the wait; the call rejects with `signal.reason`.
   * @default undefined
   * @example AbortSignal.timeout(1000)
   */
  signal?: AbortSignal;
}

/**
 * Waits for something that `register` arranges to settle, bounded by
 * `options.timeout` and `options.signal`. `register` returns a function that
 * withdraws the wait; it is called when the timeout or the signal wins.
 */
export function waitWith<T>(
  what: string,
  options: WaitOptions | undefined,
  onTimeout: (timeout: number) => Error,
  register: (resolve: (value: T) => void, reject: (error: unknown) => void) => () => void,
): Promise<T> {
  let signal: AbortSignal | undefined;
  let timeout: number;
  try {
    signal = checkSignal(what, options?.signal);
    timeout = checkTimeout(what, options?.timeout);
  } catch (err) {
    return Promise.reject(err);
  }
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const cleanup = () => {
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const withdraw = register(
      (value) => {
        if (settled) return;
        cleanup();
        resolve(value);
      },
      (error) => {
        if (settled) return;
        cleanup();
        reject(error);
      },
    );
    if (settled) return;
    function onAbort() {
      if (settled) return;
      cleanup();
      withdraw();
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeout !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(() => {
        if (settled) return;
        cleanup();
        withdraw();
        reject(onTimeout(timeout));
      }, timeout);
    }
  });
}

/** A promise with its settle functions, for results produced by event handlers. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Makes a {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
