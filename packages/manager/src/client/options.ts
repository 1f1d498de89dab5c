/**
 * Checks the options of blocking proxy calls up front, with the same rules
 * and messages as `@conc/lock` and `@conc/queue`, and turns them into the
 * server's timeout argument (milliseconds, `0` for "try once", `null` for
 * "no limit").
 */

function checkTimeoutValue(what: string, timeout: unknown): number | null {
  if (timeout === undefined || timeout === Number.POSITIVE_INFINITY) return null;
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError(
      `${what}: timeout must be a non-negative number of milliseconds or Infinity, got ${String(timeout)}`,
    );
  }
  return timeout;
}

function checkSignal(what: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).aborted !== 'boolean') {
    throw new TypeError(`${what}: signal must be an AbortSignal`);
  }
  return signal as AbortSignal;
}

function checkObject(what: string, options: unknown): void {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`${what}: options must be an object`);
  }
}

/** A validated blocking call. */
export interface Checked {
  readonly timeout: number | null;
  readonly signal: AbortSignal | undefined;
}

/** `{ blocking, timeout, signal }` of acquire (Python's rules: no timeout with blocking: false). */
export function checkAcquire(
  what: string,
  options: { blocking?: boolean; timeout?: number; signal?: AbortSignal } | undefined,
): Checked {
  checkObject(what, options);
  const blocking = options?.blocking ?? true;
  if (typeof blocking !== 'boolean') throw new TypeError(`${what}: blocking must be a boolean`);
  if (!blocking && options?.timeout !== undefined) {
    throw new TypeError(`${what}: can't specify a timeout for a non-blocking call`);
  }
  const timeout = blocking ? checkTimeoutValue(what, options?.timeout) : 0;
  return { timeout, signal: checkSignal(what, options?.signal) };
}

/** `{ block, timeout, signal }` of put and get. */
export function checkBlock(
  what: string,
  options: { block?: boolean; timeout?: number; signal?: AbortSignal } | undefined,
): Checked {
  checkObject(what, options);
  const block = options?.block ?? true;
  if (typeof block !== 'boolean') throw new TypeError(`${what}: block must be a boolean`);
  if (!block && options?.timeout !== undefined) {
    throw new TypeError(`${what}: timeout has no effect with block: false; pass one or the other`);
  }
  const timeout = block ? checkTimeoutValue(what, options?.timeout) : 0;
  return { timeout, signal: checkSignal(what, options?.signal) };
}

/** `{ timeout, signal }` of wait and join. */
export function checkWait(
  what: string,
  options: { timeout?: number; signal?: AbortSignal } | undefined,
): Checked {
  checkObject(what, options);
  return { timeout: checkTimeoutValue(what, options?.timeout), signal: checkSignal(what, options?.signal) };
}

/** Rejects instead of throwing: every proxy method returns a promise, even for bad options. */
export function rejecting<R>(fn: () => Promise<R>): Promise<R> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}
