/**
 * The server side of `m.condition(lock?)`, `m.event()` and `m.barrier()`.
 * A condition shares its lock object with the lock's own proxies, so
 * `cond.acquire()` and `lock.acquire()` exclude each other as in Python.
 */
import { BrokenBarrierError, LockNotOwnedError } from '@conc/lock';
import type { Session } from '../session.js';
import { type CallContext, timeoutArg, WaitQueue } from '../waiters.js';
import type { AcquireResult, SharedLock } from './lock.js';

export class SharedCondition {
  static readonly exposed: ReadonlySet<string> = new Set([
    'acquire',
    'release',
    'locked',
    'abandon',
    'wait',
    'notify',
    'notifyAll',
  ]);
  readonly lock: SharedLock;
  readonly #waiters = new WaitQueue<boolean>();

  constructor(lock: SharedLock) {
    this.lock = lock;
  }

  acquire(ctx: CallContext, timeout?: unknown): AcquireResult | Promise<AcquireResult> {
    return this.lock.acquire(ctx, timeout);
  }

  release(ctx: CallContext): void {
    this.lock.release(ctx);
  }

  locked(): boolean {
    return this.lock.locked();
  }

  abandon(ctx: CallContext): void {
    this.lock.abandon(ctx);
  }

  /** Releases every hold, waits for a notify (or the timeout), takes the holds back. */
  async wait(ctx: CallContext, timeout?: unknown): Promise<boolean> {
    const ms = timeoutArg(timeout);
    const holds = this.lock.releaseAll(ctx.session, 'wait');
    // A waiter that leaves (timeout, withdrawn, its client gone) never consumes a notification.
    const notified = await this.#waiters.wait(ctx, ms, undefined, () => false);
    if (ctx.session.ended) return false;
    // Withdrawn (aborted on the client) while taking the lock back: a notification it got goes to the next waiter.
    let withdrawn = false;
    if (notified && ctx.waitId !== undefined) ctx.session.waits.set(ctx.waitId, () => (withdrawn = true));
    await this.lock.reacquire(ctx.session, holds);
    if (ctx.waitId !== undefined) ctx.session.waits.delete(ctx.waitId);
    if (withdrawn && !ctx.session.ended) {
      this.#waiters.first()?.grant(true);
      return false;
    }
    return notified;
  }

  notify(ctx: CallContext, n: unknown = 1): number {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      throw new RangeError(`notify: n must be a non-negative integer, got ${String(n)}`);
    }
    this.#checkOwner(ctx.session, 'notify');
    let woken = 0;
    while (woken < n) {
      const w = this.#waiters.first();
      if (!w) break;
      w.grant(true);
      woken++;
    }
    return woken;
  }

  notifyAll(ctx: CallContext): number {
    return this.notify(ctx, Number.MAX_SAFE_INTEGER);
  }

  #checkOwner(session: Session, what: string): void {
    if (this.lock.owner !== session)
      throw new LockNotOwnedError(`${what}: the condition's lock is not held by this client`);
  }
}

export class SharedEvent {
  static readonly exposed: ReadonlySet<string> = new Set(['set', 'clear', 'isSet', 'wait']);
  #flag = false;
  readonly #waiters = new WaitQueue<boolean>();

  set(): void {
    this.#flag = true;
    for (let w = this.#waiters.first(); w; w = this.#waiters.first()) w.grant(true);
  }

  clear(): void {
    this.#flag = false;
  }

  isSet(): boolean {
    return this.#flag;
  }

  wait(ctx: CallContext, timeout?: unknown): boolean | Promise<boolean> {
    const ms = timeoutArg(timeout);
    if (this.#flag) return true;
    if (ms === 0) return false;
    return this.#waiters.wait(ctx, ms, undefined, () => false);
  }
}

/** Runs a barrier's action in the client that created the barrier (where the function lives). */
export type BarrierAction = () => Promise<unknown>;

export class SharedBarrier {
  static readonly exposed: ReadonlySet<string> = new Set([
    'wait',
    'reset',
    'abort',
    'parties',
    'nWaiting',
    'broken',
  ]);
  readonly #parties: number;
  readonly #timeout: number | null;
  readonly #action: BarrierAction | undefined;
  readonly #waiters = new WaitQueue<number, number>();
  #count = 0;
  #broken = false;

  constructor(parties: unknown, timeout: unknown, action: BarrierAction | undefined) {
    if (typeof parties !== 'number' || !Number.isInteger(parties) || parties < 1) {
      throw new RangeError(`barrier: parties must be a positive integer, got ${String(parties)}`);
    }
    this.#parties = parties;
    this.#timeout = timeoutArg(timeout);
    this.#action = action;
  }

  async wait(ctx: CallContext, timeout?: unknown): Promise<number> {
    const ms = timeout === undefined || timeout === null ? this.#timeout : timeoutArg(timeout);
    if (this.#broken) throw new BrokenBarrierError('wait: the barrier is broken');
    const index = this.#count++;
    if (index + 1 < this.#parties) {
      return this.#waiters.wait(ctx, ms, index, () => {
        // This party's own answer goes out first; the others learn it is broken right after.
        this.#broken = true;
        setImmediate(() => this.#break());
        throw new BrokenBarrierError('wait: the barrier broke (a party timed out, was aborted or died)');
      });
    }
    // The last party: run the action, then release this cycle's parties.
    this.#count = 0;
    const released = [...this.#waiters.waiters];
    for (const w of released) this.#waiters.waiters.delete(w);
    if (this.#action) {
      try {
        await this.#action();
      } catch (err) {
        this.#broken = true;
        for (const w of released)
          w.fail(new BrokenBarrierError('wait: the barrier action failed', { cause: err }));
        this.#break();
        throw err;
      }
    }
    for (const w of released) w.grant(w.data);
    return index;
  }

  reset(): void {
    this.#break();
    this.#broken = false;
  }

  abort(): void {
    this.#break();
  }

  parties(): number {
    return this.#parties;
  }

  nWaiting(): number {
    return this.#waiters.size;
  }

  broken(): boolean {
    return this.#broken;
  }

  #break(): void {
    this.#broken = true;
    this.#count = 0;
    for (let w = this.#waiters.first(); w; w = this.#waiters.first()) {
      w.fail(new BrokenBarrierError('wait: the barrier was broken, reset or aborted'));
    }
  }
}
