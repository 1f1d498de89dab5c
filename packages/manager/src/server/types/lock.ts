/**
 * The server side of `m.lock()` and `m.rlock()`. The owner is the client
 * connection (a session), not a process id: a recycled pid can never be
 * mistaken for the owner, and a client whose connection ends while holding
 * the lock (killed, crashed) has it passed to the next acquirer, who is told
 * (`{ ownerDied }`), as a robust mutex reports EOWNERDEAD.
 */
import { LockNotOwnedError } from '@conc/lock';
import type { Session } from '../session.js';
import { type CallContext, timeoutArg, WaitQueue } from '../waiters.js';

/** What an acquire answers: not acquired, acquired, or acquired from a holder that died (with its hold count). */
export type AcquireResult = boolean | { readonly ownerDied: number };

export class SharedLock {
  static readonly exposed: ReadonlySet<string> = new Set(['acquire', 'release', 'locked', 'abandon']);
  readonly reentrant: boolean;
  #owner: Session | undefined;
  #count = 0;
  /** Holds recovered from a dead owner, told to the next acquirer. */
  #abandoned = 0;
  readonly #waiters = new WaitQueue<AcquireResult>();
  readonly #ownerEnded = () => this.#onOwnerEnded();

  constructor(reentrant: boolean) {
    this.reentrant = reentrant;
  }

  get owner(): Session | undefined {
    return this.#owner;
  }

  acquire(ctx: CallContext, timeout?: unknown): AcquireResult | Promise<AcquireResult> {
    const ms = timeoutArg(timeout);
    if (this.#owner === undefined) return this.#take(ctx.session, 1);
    if (this.reentrant && this.#owner === ctx.session) {
      this.#count++;
      return true;
    }
    if (ms === 0) return false;
    return this.#waiters.wait(ctx, ms, undefined, () => false);
  }

  release(ctx: CallContext): void {
    this.#checkOwner(ctx.session, 'release');
    if (--this.#count === 0) this.#free();
  }

  locked(): boolean {
    return this.#owner !== undefined;
  }

  /** Hands the lock back still marked abandoned (the acquirer's onOwnerDied handler threw). */
  abandon(ctx: CallContext): void {
    this.#checkOwner(ctx.session, 'abandon');
    const holds = this.#count;
    this.#count = 0;
    this.#free();
    this.#abandoned = Math.max(1, holds);
    this.#handOff();
  }

  /** Condition.wait: releases every hold of `session`, returning how many there were. */
  releaseAll(session: Session, what: string): number {
    this.#checkOwner(session, what);
    const n = this.#count;
    this.#count = 0;
    this.#free();
    return n;
  }

  /** Condition.wait: takes the lock back with `count` holds, waiting as long as it takes. */
  async reacquire(session: Session, count: number): Promise<void> {
    if (this.#owner !== undefined) {
      const got = await this.#waiters.wait({ session, waitId: undefined }, null, undefined, () => false);
      if (got === false) return;
    } else {
      this.#take(session, count);
    }
    this.#count = count;
  }

  #checkOwner(session: Session, what: string): void {
    if (this.#owner === session) return;
    throw new LockNotOwnedError(
      this.#owner === undefined
        ? `${what}: the ${this.reentrant ? 'RLock' : 'Lock'} is not held`
        : `${what}: the ${this.reentrant ? 'RLock' : 'Lock'} is held by another client`,
    );
  }

  #take(session: Session, count: number): AcquireResult {
    this.#owner = session;
    this.#count = count;
    session.onEnd.add(this.#ownerEnded);
    const abandoned = this.#abandoned;
    this.#abandoned = 0;
    return abandoned > 0 ? { ownerDied: abandoned } : true;
  }

  #free(): void {
    this.#owner?.onEnd.delete(this.#ownerEnded);
    this.#owner = undefined;
    this.#handOff();
  }

  #handOff(): void {
    if (this.#owner !== undefined) return;
    const next = this.#waiters.first();
    if (next) next.grant(this.#take(next.session, 1));
  }

  #onOwnerEnded(): void {
    this.#abandoned = Math.max(1, this.#count);
    this.#owner = undefined;
    this.#count = 0;
    this.#handOff();
  }
}
