/**
 * Parked calls on the server: how a blocking call (`acquire`, `get`, `wait`)
 * waits without blocking anyone else. The server is one event loop; a call
 * that cannot proceed leaves a waiter here and returns to the loop, and
 * whoever changes the state (a release, a put) grants the first waiter.
 *
 * A waiter ends exactly once: granted, timed out, withdrawn by its client (an
 * abort on the client side), or dropped because its client's connection
 * ended. The primitive decides what each of those means (`false`, an
 * `EmptyError`, a broken barrier).
 */
import type { Session } from './session.js';

/** Why a waiter ended without being granted. */
export type CancelReason = 'timeout' | 'withdrawn' | 'gone';

/** What every server method learns about the call it serves. */
export interface CallContext {
  /** The client connection the call came in on: the owner of what it acquires. */
  readonly session: Session;
  /** Set on calls the client may withdraw (it sent an AbortSignal). */
  readonly waitId: number | undefined;
}

/** One parked call. */
export class Waiter<T, D = undefined> {
  readonly session: Session;
  readonly data: D;
  #done = false;
  #timer: NodeJS.Timeout | undefined;
  #unhook: (() => void) | undefined;
  #gone: (() => void) | undefined;
  readonly #resolve: (value: T) => void;
  readonly #reject: (error: unknown) => void;
  readonly #queue: WaitQueue<T, D>;

  constructor(
    queue: WaitQueue<T, D>,
    session: Session,
    data: D,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
  ) {
    this.#queue = queue;
    this.session = session;
    this.data = data;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** @internal */
  arm(timer: NodeJS.Timeout | undefined, unhook: () => void, gone: () => void): void {
    this.#timer = timer;
    this.#unhook = unhook;
    this.#gone = gone;
  }

  /** @internal Ends the wait of a waiter whose client is gone, as its session's end would. */
  drop(): void {
    this.#gone?.();
  }

  /** Takes the waiter out of its queue; false when it had already ended. */
  #take(): boolean {
    if (this.#done) return false;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#unhook?.();
    this.#queue.waiters.delete(this);
    return true;
  }

  /** Ends the wait with `value`. */
  grant(value: T): boolean {
    if (!this.#take()) return false;
    this.#resolve(value);
    return true;
  }

  /** Ends the wait with an error. */
  fail(error: unknown): boolean {
    if (!this.#take()) return false;
    this.#reject(error);
    return true;
  }

  /** Ends the wait with what `fn` returns or throws. */
  finish(fn: () => T): boolean {
    if (!this.#take()) return false;
    try {
      this.#resolve(fn());
    } catch (err) {
      this.#reject(err);
    }
    return true;
  }
}

/** Waiters in arrival order (FIFO grants, as Python's locks and queues). */
export class WaitQueue<T, D = undefined> {
  readonly waiters = new Set<Waiter<T, D>>();

  get size(): number {
    return this.waiters.size;
  }

  /**
   * The longest-waiting waiter whose client is still there. A dying client's
   * end hooks run one by one: one of them (its lock passing on) may look for
   * the next waiter before another (its own waiter leaving) has run, and must
   * not hand the lock to the dead client's own waiter.
   */
  first(): Waiter<T, D> | undefined {
    for (const w of this.waiters) {
      if (!w.session.ended) return w;
      w.drop();
    }
    return undefined;
  }

  /**
   * Parks a call until a grant, or until `timeout` ms (null: never), a
   * withdrawal or the end of its session; `onCancel` says what the call then
   * returns (or throws).
   */
  wait(
    ctx: CallContext,
    timeout: number | null,
    data: D,
    onCancel: (why: CancelReason, waiter: Waiter<T, D>) => T,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w = new Waiter<T, D>(this, ctx.session, data, resolve, reject);
      this.waiters.add(w);
      const cancel = (why: CancelReason) => w.finish(() => onCancel(why, w));
      const timer = timeout === null ? undefined : setTimeout(cancel, timeout, 'timeout');
      const onEnd = () => cancel('gone');
      ctx.session.onEnd.add(onEnd);
      const waitId = ctx.waitId;
      if (waitId !== undefined) ctx.session.waits.set(waitId, () => cancel('withdrawn'));
      w.arm(
        timer,
        () => {
          ctx.session.onEnd.delete(onEnd);
          if (waitId !== undefined) ctx.session.waits.delete(waitId);
        },
        onEnd,
      );
    });
  }
}

/** A server-side timeout argument: milliseconds, or null for none. */
export function timeoutArg(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RangeError(`timeout must be a non-negative number of milliseconds, got ${String(value)}`);
  }
  return value === Number.POSITIVE_INFINITY ? null : value;
}
