/**
 * The one home of option checking, deadlines and abort wiring for every conc
 * package (pipe, lock, queue, manager, and each tier of them): one argument
 * order (`what` first, then the value), one message per mistake, and messages
 * that say what was passed, so `{ timeout: '100' }` never reads as if 100 were
 * a valid timeout.
 *
 * Deadlines are `performance.now()` values (the monotonic clock): a wall-clock
 * jump never shortens or stretches a wait. {@link FOREVER} never gives up;
 * {@link NO_WAIT} does not wait at all.
 */

/** The deadline of a wait without a time limit. */
export const FOREVER = Number.POSITIVE_INFINITY;

/** The deadline of a call that must not wait (`block: false` / `blocking: false`). */
export const NO_WAIT = Number.NEGATIVE_INFINITY;

const MAX_SHOWN = 40;

/**
 * Describes a value a caller passed, with its type where the plain value would
 * mislead: `the string '100'`, `NaN`, `an object`, `a function`.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string': {
      const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
      return `the string ${JSON.stringify(shown)}`;
    }
    case 'number':
      return Number.isNaN(value) ? 'NaN' : String(value);
    case 'bigint':
      return `the bigint ${value}n`;
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default: {
      if (value === null) return 'null';
      if (Array.isArray(value)) return 'an array';
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      if (typeof name !== 'string' || name === 'Object' || name === '') return 'an object';
      return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
    }
  }
}

/**
 * Checks that the options argument is an object (or left out) and returns it.
 * `shape` lists the options the call takes, for the message: `'{ timeout, signal }'`.
 */
export function checkOptions<T extends object>(
  what: string,
  options: T | undefined,
  shape: string,
): T | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${what}: options must be an object like ${shape}, got ${describeValue(options)}`);
  }
  return options;
}

/**
 * Checks a timeout in milliseconds and returns it: a number ≥ 0, or
 * `Infinity`; `undefined` means `Infinity`. A value of the wrong type is a
 * `TypeError`, a number out of range (negative, NaN) a `RangeError`.
 */
export function checkTimeout(what: string, timeout: unknown): number {
  if (timeout === undefined) return FOREVER;
  if (typeof timeout !== 'number') {
    throw new TypeError(
      `${what}: timeout must be a number of milliseconds (>= 0, or Infinity), got ${describeValue(timeout)}`,
    );
  }
  if (!(timeout >= 0)) {
    throw new RangeError(
      `${what}: timeout must be a number of milliseconds (>= 0, or Infinity), got ${describeValue(timeout)}`,
    );
  }
  return timeout;
}

/** Checks a timeout ({@link checkTimeout}) and turns it into a deadline. */
export function deadlineOf(what: string, timeout: unknown): number {
  const ms = checkTimeout(what, timeout);
  return ms === FOREVER ? FOREVER : performance.now() + ms;
}

/**
 * Python's rule for `block` / `blocking` with `timeout`: a non-blocking call
 * takes no timeout. Returns the deadline: {@link NO_WAIT} when not blocking.
 *
 * @param flag the option's name in this API: `'block'` (queues) or `'blocking'` (locks)
 */
export function blockingDeadline(
  what: string,
  flag: 'block' | 'blocking',
  block: unknown,
  timeout: unknown,
): number {
  if (block === undefined || block === true) return deadlineOf(what, timeout);
  if (block !== false) {
    throw new TypeError(`${what}: ${flag} must be a boolean, got ${describeValue(block)}`);
  }
  if (timeout !== undefined) {
    throw new TypeError(`${what}: a timeout cannot be given with ${flag}: false; pass one or the other`);
  }
  return NO_WAIT;
}

/** Milliseconds left until `deadline` (never negative; `Infinity` for {@link FOREVER}). */
export function remaining(deadline: number): number {
  if (deadline === FOREVER) return FOREVER;
  const left = deadline - performance.now();
  return Math.max(left, 0);
}

/** Checks an optional `AbortSignal`. */
export function checkSignal(what: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (
    typeof signal !== 'object' ||
    signal === null ||
    typeof (signal as AbortSignal).aborted !== 'boolean' ||
    typeof (signal as AbortSignal).addEventListener !== 'function'
  ) {
    throw new TypeError(`${what}: signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  return signal as AbortSignal;
}

/** Checks an optional boolean option and returns it, or `fallback` when left out. */
export function checkBoolean(what: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TypeError(`${what}: ${name} must be a boolean, got ${describeValue(value)}`);
  }
  return value;
}

/** Checks an optional function option. */
export function checkFunction<F extends (...args: never[]) => unknown>(
  what: string,
  name: string,
  value: unknown,
): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') {
    throw new TypeError(`${what}: ${name} must be a function, got ${describeValue(value)}`);
  }
  return value as F;
}

/**
 * Checks an integer parameter (a count, a size) against its range:
 * `TypeError` for a non-number, `RangeError` for a number out of range.
 *
 * @param name how the message names it: `'maxsize'`, `'parties'`
 */
export function checkInt(what: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw new TypeError(
      `${what}: ${name} must be an integer from ${min} to ${max}, got ${describeValue(value)}`,
    );
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${what}: ${name} must be an integer from ${min} to ${max}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Why a signal aborted: its `reason`, or a standard `AbortError` when it has none. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Calls `listener` once if `signal` aborts; returns the function that removes
 * the listener (call it when the operation settles). No signal, no cost.
 */
export function onAbort(signal: AbortSignal | undefined, listener: (reason: unknown) => void): () => void {
  if (signal === undefined) return noop;
  const fire = () => listener(abortReason(signal));
  signal.addEventListener('abort', fire, { once: true });
  return () => signal.removeEventListener('abort', fire);
}

function noop(): void {}
