/**
 * What Lock, RLock, Semaphore and BoundedSemaphore share on Redis: acquire in
 * its waiting, timed, non-blocking and cancellable forms, the owner-died
 * report, guards, and the wait for a release (a token on the wake list, or
 * the end of a dead holder's lease).
 */
import { abortReason, NO_WAIT } from '@conc/serialize/internal';
import { AcquireTimeoutError } from '../core/errors.js';
import { type AcquireOptions, resolveAcquire } from '../core/options.js';
import { reportOwnerDied } from '../core/owner-died.js';
import type { RedisArgument } from './connection.js';
import { RedisLockGuard } from './guard.js';
import type { PrimitiveSettings } from './options.js';
import type { Script } from './script.js';
import { type AttemptResult, BlockingWaits } from './waits.js';

/** A successful take: whether it took over from a dead holder. */
export interface Taken {
  readonly died: boolean;
}

/** @internal */
export abstract class RedisHeld {
  /** @internal */ protected readonly settings: PrimitiveSettings;
  /** @internal */ protected readonly waits: BlockingWaits;
  /** @internal the keys every script of this primitive receives. */
  protected abstract readonly keys: readonly string[];
  /** @internal the wake list. */
  protected abstract readonly wakeKey: string;
  /** @internal */ protected abstract readonly primitive: string;

  /** @internal */
  protected constructor(settings: PrimitiveSettings) {
    this.settings = settings;
    this.waits = new BlockingWaits(settings.connection);
  }

  /** The name, as given. */
  get name(): string {
    return this.settings.name;
  }

  /** @internal */
  protected run(script: Script, args: readonly RedisArgument[]): Promise<unknown> {
    return script.run(this.settings.connection, this.keys, args);
  }

  /** @internal one try: taken, or not (and when a holder's lease could end). */
  protected abstract tryTake(): Promise<AttemptResult<Taken>>;
  /** @internal gives a hold back still marked abandoned (an onOwnerDied handler threw). */
  protected abstract abandon(): Promise<void>;
  /** @internal gives back a hold taken for a waiter that left meanwhile. */
  protected abstract giveBack(): Promise<void>;

  /** Releases one hold. */
  abstract release(): Promise<void>;

  /** @internal acquires; resolves taken or not. */
  protected async take(what: string, options: AcquireOptions | undefined): Promise<Taken | undefined> {
    const { deadline, signal, onOwnerDied } = resolveAcquire(options, what);
    if (signal?.aborted) throw abortReason(signal);
    let got: Taken | undefined;
    const first = this.waits.waitingOn(this.wakeKey) === 0 ? await this.tryTake() : undefined;
    if (first?.done) got = first.value;
    else if (deadline === NO_WAIT || deadline - performance.now() <= 0) return undefined;
    else {
      const taken = await this.waits.wait<Taken | undefined>({
        keys: [this.wakeKey],
        attempt: () => this.tryTake(),
        retryIn: first ? first.retryIn : 0,
        undo: () => this.giveBack(),
        deadline,
        signal,
        timedOut: () => undefined,
      });
      if (taken === undefined) return undefined;
      got = taken;
    }
    if (got.died) {
      try {
        reportOwnerDied({ primitive: this.primitive, threadId: -1, recovered: 1 }, onOwnerDied);
      } catch (err) {
        await this.abandon();
        throw err;
      }
    }
    return got;
  }

  /**
   * Acquires, waiting as long as `timeout` allows (Python's `acquire`):
   * resolves `true` once held, `false` on `blocking: false` or after the
   * timeout; rejects with the signal's reason on abort (holding nothing). A
   * hold taken over from a holder that died is reported to `onOwnerDied`, or
   * else as an `OwnerDiedWarning`.
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    return (await this.take('acquire', options)) !== undefined;
  }

  /** Acquires and returns a guard for `await using`; throws `AcquireTimeoutError` when not acquired. */
  async lock(options?: AcquireOptions): Promise<RedisLockGuard> {
    const got = await this.take('lock', options);
    if (got === undefined) {
      throw new AcquireTimeoutError(
        `lock: ${options?.blocking === false ? 'it is held' : `not acquired within ${String(options?.timeout)} ms`}`,
      );
    }
    return new RedisLockGuard(() => this.release(), got.died);
  }

  /** Runs `fn` holding this, releasing however `fn` ends; returns what `fn` returns. */
  async withLock<T>(
    fn: (guard: RedisLockGuard) => T | PromiseLike<T>,
    options?: AcquireOptions,
  ): Promise<Awaited<T>> {
    if (typeof fn !== 'function') throw new TypeError('withLock: expected a function');
    const g = await this.lock(options);
    try {
      return await fn(g);
    } finally {
      await g.release();
    }
  }

  /** Closes this instance's blocking connection; pending acquires reject. Holds end with their leases. */
  async close(): Promise<void> {
    await this.waits.close(new Error(`${this.primitive} ${this.settings.name} was closed in this process`));
  }

  /** Deletes every key of this primitive from Redis and closes this instance. */
  async destroy(): Promise<void> {
    await this.close();
    await this.settings.connection.send('DEL', this.keys);
  }
}
