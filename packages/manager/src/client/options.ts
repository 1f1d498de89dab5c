/**
 * Checks the options of blocking proxy calls up front, with the shared rules
 * and messages of every conc package (`@conc/serialize/internal`), and turns
 * them into the server's timeout argument (milliseconds, `0` for "try once",
 * `null` for "no limit").
 */
import {
  blockingDeadline,
  checkOptions,
  checkSignal,
  checkTimeout,
  FOREVER,
  NO_WAIT,
} from '@conc/serialize/internal';

/** A validated blocking call. */
export interface Checked {
  readonly timeout: number | null;
  readonly signal: AbortSignal | undefined;
}

function checked(what: string, deadline: number, timeout: unknown, signal: unknown): Checked {
  const ms = deadline === NO_WAIT ? 0 : checkTimeout(what, timeout);
  return { timeout: ms === FOREVER ? null : ms, signal: checkSignal(what, signal) };
}

/** `{ blocking, timeout, signal }` of acquire (Python's rules: no timeout with blocking: false). */
export function checkAcquire(
  what: string,
  options: { blocking?: boolean; timeout?: number; signal?: AbortSignal } | undefined,
): Checked {
  checkOptions(what, options, '{ blocking, timeout, signal }');
  const deadline = blockingDeadline(what, 'blocking', options?.blocking, options?.timeout);
  return checked(what, deadline, options?.timeout, options?.signal);
}

/** `{ block, timeout, signal }` of put and get. */
export function checkBlock(
  what: string,
  options: { block?: boolean; timeout?: number; signal?: AbortSignal } | undefined,
): Checked {
  checkOptions(what, options, '{ block, timeout, signal }');
  const deadline = blockingDeadline(what, 'block', options?.block, options?.timeout);
  return checked(what, deadline, options?.timeout, options?.signal);
}

/** `{ timeout, signal }` of wait and join. */
export function checkWait(
  what: string,
  options: { timeout?: number; signal?: AbortSignal } | undefined,
): Checked {
  checkOptions(what, options, '{ timeout, signal }');
  return checked(what, 0, options?.timeout, options?.signal);
}

/** Rejects instead of throwing: every proxy method returns a promise, even for bad options. */
export function rejecting<R>(fn: () => Promise<R>): Promise<R> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}
