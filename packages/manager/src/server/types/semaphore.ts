/**
 * The server side of `m.semaphore()` and `m.boundedSemaphore()`. Permits are
 * counted per client connection, so the permits of a client that died come
 * back, and each acquirer that takes one of them is told.
 */
import { SemaphoreOverReleaseError } from '@conc/lock';
import type { Session } from '../session.js';
import { type CallContext, timeoutArg, WaitQueue } from '../waiters.js';
import type { AcquireResult } from './lock.js';

export class SharedSemaphore {
  static readonly exposed: ReadonlySet<string> = new Set(['acquire', 'release', 'value', 'abandon']);
  readonly #bound: number | undefined;
  #value: number;
  /** Permits recovered from dead holders, not yet handed out. */
  #abandoned = 0;
  readonly #holders = new Map<Session, { n: number; onEnd: () => void }>();
  readonly #waiters = new WaitQueue<AcquireResult>();

  constructor(value: unknown, bounded: boolean) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new RangeError(`semaphore: value must be a non-negative integer, got ${String(value)}`);
    }
    this.#value = value;
    this.#bound = bounded ? value : undefined;
  }

  acquire(ctx: CallContext, timeout?: unknown): AcquireResult | Promise<AcquireResult> {
    const ms = timeoutArg(timeout);
    if (this.#value > 0 && this.#waiters.size === 0) return this.#take(ctx.session);
    if (ms === 0) return false;
    return this.#waiters.wait(ctx, ms, undefined, () => false);
  }

  release(ctx: CallContext, n: unknown = 1): void {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      throw new RangeError(`release: n must be a positive integer, got ${String(n)}`);
    }
    if (this.#bound !== undefined && this.#value + n > this.#bound) {
      throw new SemaphoreOverReleaseError(
        `release: a BoundedSemaphore of value ${this.#bound} released too many times`,
      );
    }
    const held = this.#holders.get(ctx.session);
    if (held) {
      held.n -= Math.min(n, held.n);
      if (held.n === 0) this.#forget(ctx.session);
    }
    this.#value += n;
    this.#wake();
  }

  value(): number {
    return this.#value;
  }

  /** Gives back one permit still marked abandoned (the acquirer's onOwnerDied handler threw). */
  abandon(ctx: CallContext): void {
    this.release(ctx, 1);
    this.#abandoned++;
  }

  #take(session: Session): AcquireResult {
    this.#value--;
    let held = this.#holders.get(session);
    if (!held) {
      const onEnd = () => this.#onHolderEnded(session);
      held = { n: 0, onEnd };
      this.#holders.set(session, held);
      session.onEnd.add(onEnd);
    }
    held.n++;
    if (this.#abandoned > 0) {
      this.#abandoned--;
      return { ownerDied: 1 };
    }
    return true;
  }

  #forget(session: Session): void {
    const held = this.#holders.get(session);
    if (!held) return;
    session.onEnd.delete(held.onEnd);
    this.#holders.delete(session);
  }

  #wake(): void {
    while (this.#value > 0) {
      const next = this.#waiters.first();
      if (!next) return;
      next.grant(this.#take(next.session));
    }
  }

  #onHolderEnded(session: Session): void {
    const held = this.#holders.get(session);
    this.#holders.delete(session);
    if (!held || held.n === 0) return;
    this.#value += held.n;
    this.#abandoned += held.n;
    this.#wake();
  }
}
