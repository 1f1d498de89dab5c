/**
 * Proxies of the manager's synchronization primitives: `m.lock()`,
 * `m.rlock()`, `m.semaphore()`, `m.boundedSemaphore()` and `m.condition()`,
 * with `@conc/lock`'s interface (`acquire({ blocking, timeout, signal,
 * onOwnerDied })`, `release()`, `lock()` guards, `withLock`).
 *
 * The owner of a hold is this process's connection to the manager: two tasks
 * of one process exclude each other on a Lock, and an RLock re-enters within
 * one process. When a holder's process dies, its connection ends, and the
 * next acquirer gets the lock and is told (`onOwnerDied`, or an
 * `OwnerDiedWarning`).
 */
import { type AcquireOptions, AcquireTimeoutError, type OwnerDiedInfo } from '@conc/lock';
import { checkAcquire, checkWait, rejecting } from './options.js';
import { BaseProxy } from './proxy.js';

type AcquireResult = boolean | { readonly ownerDied: number };

const PRIMITIVE: Readonly<Record<string, string>> = {
  lock: 'Lock',
  rlock: 'RLock',
  semaphore: 'Semaphore',
  boundedSemaphore: 'BoundedSemaphore',
  condition: 'Condition',
};

function reportOwnerDied(info: OwnerDiedInfo, handler: AcquireOptions['onOwnerDied']): void {
  if (handler !== undefined) {
    handler(info);
    return;
  }
  process.emitWarning(
    `a client of the manager died holding a ${info.primitive}; this process took it over. The state it ` +
      'protects may be half-updated. Pass { onOwnerDied } to acquire() to handle this.',
    { type: 'OwnerDiedWarning', code: 'ERR_CONC_OWNER_DIED' },
  );
}

/** One hold of a manager lock, released once: by `release()` or at the end of an `await using` scope. */
export class ManagerLockGuard implements AsyncDisposable {
  /** True when this hold was taken over from a client that died holding it. */
  readonly ownerDied: boolean;
  #release: (() => Promise<void>) | undefined;

  /** @internal built by `lock()` */
  constructor(release: () => Promise<void>, ownerDied: boolean) {
    this.#release = release;
    this.ownerDied = ownerDied;
  }

  /** False once released. */
  get held(): boolean {
    return this.#release !== undefined;
  }

  /** Releases the hold; later calls do nothing. */
  async release(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    await release?.();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

const FAILED = 0;
const ACQUIRED = 1;
const RECOVERED = 2;

/** What Lock, RLock, Semaphore and Condition proxies share: acquiring and scoped holds. */
abstract class AcquirableProxy extends BaseProxy {
  /** The primitive's class name, as `onOwnerDied` reports it. */
  get primitive(): string {
    return PRIMITIVE[this.typeId] ?? this.typeId;
  }

  async #take(options: AcquireOptions | undefined, what: string): Promise<number> {
    const { timeout, signal } = checkAcquire(what, options);
    const r = await this._wait<AcquireResult>('acquire', [timeout], signal, (granted) => {
      if (granted !== false) this._call('release', []).catch(() => {});
    });
    if (r === false) return FAILED;
    if (r === true) return ACQUIRED;
    try {
      reportOwnerDied(
        { primitive: this.primitive, threadId: -1, recovered: r.ownerDied },
        options?.onOwnerDied,
      );
    } catch (err) {
      // The handler could not repair the state: hand it back still abandoned, so the next acquirer is told.
      await this._call('abandon', []).catch(() => {});
      throw err;
    }
    return RECOVERED;
  }

  /**
   * Acquires: `true` once held, `false` when `blocking: false` or `timeout`
   * ran out. The timeout is measured on the server. An abort rejects with
   * `signal.reason` and withdraws the waiter on the server.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return rejecting(() => this.#take(options, `${this.primitive}.acquire`).then((r) => r !== FAILED));
  }

  /** Acquires and returns a guard for `await using`; `AcquireTimeoutError` when not acquired. */
  lock(options?: AcquireOptions): Promise<ManagerLockGuard> {
    const what = `${this.primitive}.lock`;
    return rejecting(async () => {
      const r = await this.#take(options, what);
      if (r === FAILED) {
        throw new AcquireTimeoutError(
          `${what}: ${options?.blocking === false ? 'it is held' : `not acquired within ${String(options?.timeout)} ms`}`,
        );
      }
      return new ManagerLockGuard(() => this._call('release', []), r === RECOVERED);
    });
  }

  /** Runs `fn` holding the lock and releases it however `fn` ends. */
  async withLock<T>(
    fn: (guard: ManagerLockGuard) => T | PromiseLike<T>,
    options?: AcquireOptions,
  ): Promise<Awaited<T>> {
    if (typeof fn !== 'function') throw new TypeError(`${this.primitive}.withLock: expected a function`);
    const g = await this.lock(options);
    try {
      return await fn(g);
    } finally {
      await g.release();
    }
  }
}

/** `m.lock()` and `m.rlock()`. */
export class LockProxy extends AcquirableProxy {
  /** Releases one hold; `LockNotOwnedError` when this process does not hold it. */
  release(): Promise<void> {
    return this._call('release', []);
  }
  /** Whether some client holds it (a snapshot). */
  locked(): Promise<boolean> {
    return this._call('locked', []);
  }
}

/** `m.semaphore(n)` and `m.boundedSemaphore(n)`. */
export class SemaphoreProxy extends AcquirableProxy {
  /** Gives back `n` permits (any client may); over-releasing a bounded one throws `SemaphoreOverReleaseError`. */
  release(n = 1): Promise<void> {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      return Promise.reject(
        new RangeError(`${this.primitive}.release: n must be a positive integer, got ${String(n)}`),
      );
    }
    return this._call('release', [n]);
  }
  /** Free permits now (a snapshot). */
  value(): Promise<number> {
    return this._call('value', []);
  }
}

/** `m.condition(lock?)`: Python's Condition over a manager Lock or RLock (a new RLock by default). */
export class ConditionProxy extends AcquirableProxy {
  release(): Promise<void> {
    return this._call('release', []);
  }
  locked(): Promise<boolean> {
    return this._call('locked', []);
  }
  /**
   * Releases the lock (every hold of an RLock), waits for a notify, takes the
   * lock back; `false` when the timeout ran out first. Must hold the lock.
   */
  wait(options?: { timeout?: number; signal?: AbortSignal }): Promise<boolean> {
    return rejecting(() => {
      const { timeout, signal } = checkWait('Condition.wait', options);
      return this._wait<boolean>('wait', [timeout], signal);
    });
  }
  /**
   * Waits until `predicate` (which may be async: it runs here, holding the
   * lock) returns a truthy value, or the timeout runs out; returns its last value.
   */
  async waitFor<T>(
    predicate: () => T | PromiseLike<T>,
    options?: { timeout?: number; signal?: AbortSignal },
  ): Promise<Awaited<T>> {
    const { timeout, signal } = checkWait('Condition.waitFor', options);
    const end = timeout === null ? Number.POSITIVE_INFINITY : performance.now() + timeout;
    let result = await predicate();
    while (!result) {
      const left = end - performance.now();
      if (left <= 0) break;
      await this.wait({ timeout: left === Number.POSITIVE_INFINITY ? undefined : left, signal });
      result = await predicate();
    }
    return result;
  }
  /** Wakes up to `n` waiters; returns how many. Must hold the lock. */
  notify(n = 1): Promise<number> {
    return this._call('notify', [n]);
  }
  notifyAll(): Promise<number> {
    return this._call('notifyAll', []);
  }
}

/** `m.event()`: Python's Event. */
export class EventProxy extends BaseProxy {
  set(): Promise<void> {
    return this._call('set', []);
  }
  clear(): Promise<void> {
    return this._call('clear', []);
  }
  isSet(): Promise<boolean> {
    return this._call('isSet', []);
  }
  /** `true` once the flag is set, `false` when the timeout runs out first. */
  wait(options?: { timeout?: number; signal?: AbortSignal }): Promise<boolean> {
    return rejecting(() => {
      const { timeout, signal } = checkWait('Event.wait', options);
      if (timeout === 0) return this._call<boolean>('wait', [0]);
      return this._wait<boolean>('wait', [timeout], signal);
    });
  }
}

/** `m.barrier(parties, { action, timeout })`: Python's Barrier. */
export class BarrierProxy extends BaseProxy {
  /**
   * Waits for every party; resolves with this party's arrival index
   * (`0 .. parties-1`). `BrokenBarrierError` when a party times out, is
   * aborted or dies, or on `reset()` / `abort()`.
   */
  wait(options?: { timeout?: number; signal?: AbortSignal }): Promise<number> {
    return rejecting(() => {
      const { timeout, signal } = checkWait('Barrier.wait', options);
      return this._wait<number>('wait', [timeout], signal);
    });
  }
  reset(): Promise<void> {
    return this._call('reset', []);
  }
  abort(): Promise<void> {
    return this._call('abort', []);
  }
  get parties(): Promise<number> {
    return this._call('parties', []);
  }
  get nWaiting(): Promise<number> {
    return this._call('nWaiting', []);
  }
  get broken(): Promise<boolean> {
    return this._call('broken', []);
  }
}
