/**
 * Lock and RLock on Redis: one owner at a time, identified per instance (a
 * random id), holding a lease renewed while the process lives. Each
 * acquisition takes the next fencing token.
 */
import { randomUUID } from 'node:crypto';
import { LockNotOwnedError } from '../core/errors.js';
import { RedisHeld, type Taken } from './held.js';
import { type LeaseOptions, primitiveSettings } from './options.js';
import { Renewal } from './renewal.js';
import { num, Script } from './script.js';
import type { AttemptResult } from './waits.js';

// KEYS: state (hash: owner, count), lease (owner, with PX), fence (counter), wake (list).
// state.owner without a live lease = its owner died (or stalled past the lease) holding it.
const ACQUIRE = new Script(`
local owner, leaseMs, reentrant = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'
local current = redis.call('HGET', KEYS[1], 'owner')
local died = 0
if current then
  if redis.call('EXISTS', KEYS[2]) == 1 then
    if current == owner and reentrant then
      redis.call('HINCRBY', KEYS[1], 'count', 1)
      redis.call('PEXPIRE', KEYS[2], leaseMs)
      return {1, tonumber(redis.call('HGET', KEYS[1], 'fence')), 0}
    end
    return {0, redis.call('PTTL', KEYS[2])}
  end
  died = 1
end
local fence = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'owner', owner, 'count', 1, 'fence', fence)
redis.call('SET', KEYS[2], owner, 'PX', leaseMs)
return {1, fence, died}
`);

// ARGV owner, reentrant. Replies holds left (0: released), -1 not held by owner (or its lease ran out).
const RELEASE = new Script(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
if ARGV[2] == '1' then
  local left = redis.call('HINCRBY', KEYS[1], 'count', -1)
  if left > 0 then return left end
end
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[1], 'owner', 'count')
redis.call('DEL', KEYS[4])
redis.call('RPUSH', KEYS[4], '1')
return 0
`);

// ARGV owner: ends the lease but keeps the owner, so the next acquirer is told it died.
const ABANDON = new Script(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[4])
redis.call('RPUSH', KEYS[4], '1')
return 1
`);

// ARGV owner. Releases every hold at once (Condition.wait); replies the holds it had, -1 when not held.
const RELEASE_ALL = new Script(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '1')
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[1], 'owner', 'count')
redis.call('DEL', KEYS[4])
redis.call('RPUSH', KEYS[4], '1')
return count
`);

// ARGV owner, count: after a re-acquire, the holds Condition.wait had released.
const SET_COUNT = new Script(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'count', ARGV[2])
return 1
`);

// ARGV owner, lease ms. 1 renewed, 0 lost.
const RENEW = new Script(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
return 1
`);

/** What Lock and RLock share. */
export abstract class OwnedLock extends RedisHeld {
  /** @internal */ protected readonly keys: readonly string[];
  /** @internal */ protected readonly wakeKey: string;
  readonly #owner = randomUUID();
  readonly #renewal: Renewal;
  #fence = 0;
  #holds = 0;
  /** @internal */ protected abstract readonly reentrant: boolean;

  /** @internal */
  protected constructor(what: string, options: LeaseOptions) {
    const settings = primitiveSettings(what, 'lock', options, '{ client, name, lease }');
    super(settings);
    this.keys = ['state', 'lease', 'fence', 'wake'].map((k) => settings.base + k);
    this.wakeKey = this.keys[3]!;
    this.#renewal = new Renewal(settings.leaseMs, async () => {
      if (this.#holds > 0 && Number(await this.run(RENEW, [this.#owner, this.settings.leaseMs])) === 0) {
        this.#renewal.stop();
      }
    });
  }

  /**
   * The fencing token of the latest acquisition by this instance: strictly
   * larger with every acquisition of the lock by anyone. Pass it to the
   * storage the lock protects and have it refuse writes with a smaller token
   * than it has seen: a holder that stalled past its lease is then stopped
   * there too. `0` before the first acquisition.
   */
  get fencingToken(): number {
    return this.#fence;
  }

  /** How long a hold lasts without renewal, in ms. */
  get lease(): number {
    return this.settings.leaseMs;
  }

  /** @internal */
  protected async tryTake(): Promise<AttemptResult<Taken>> {
    const reply = (await this.run(ACQUIRE, [
      this.#owner,
      this.settings.leaseMs,
      this.reentrant ? 1 : 0,
    ])) as unknown[];
    if (num(reply[0]) === 0) {
      const ttl = num(reply[1]);
      return { done: false, retryIn: ttl >= 0 ? ttl + 1 : 0 };
    }
    this.#fence = num(reply[1]);
    this.#holds++;
    this.#renewal.start();
    return { done: true, value: { died: num(reply[2]) === 1 } };
  }

  /** @internal */
  protected async abandon(): Promise<void> {
    this.#dropHolds();
    await this.run(ABANDON, [this.#owner]);
  }

  /** @internal */
  protected async giveBack(): Promise<void> {
    await this.release().catch(() => {});
  }

  #dropHolds(): void {
    this.#holds = 0;
    this.#renewal.stop();
  }

  /**
   * Releases the lock (one hold of an RLock). Throws `LockNotOwnedError` (and
   * changes nothing) when this instance does not hold it, including when its
   * lease ran out and someone else may hold it now.
   */
  async release(): Promise<void> {
    const left = num(await this.run(RELEASE, [this.#owner, this.reentrant ? 1 : 0]));
    if (left < 0) {
      const lost = this.#holds > 0;
      this.#dropHolds();
      throw new LockNotOwnedError(
        `release: this ${this.primitive} ${this.settings.name} is not held here${lost ? ' (its lease ran out)' : ''}`,
      );
    }
    this.#holds = left;
    if (left === 0) this.#renewal.stop();
  }

  /** @internal whether this instance believes it holds the lock (Condition's check). */
  isHeldHere(): boolean {
    return this.#holds > 0;
  }

  /** @internal releases every hold (Condition.wait); resolves how many there were. */
  async releaseAll(): Promise<number> {
    const count = num(await this.run(RELEASE_ALL, [this.#owner]));
    this.#dropHolds();
    if (count < 0)
      throw new LockNotOwnedError(`wait: this ${this.primitive} ${this.settings.name} is not held here`);
    return count;
  }

  /** @internal takes the lock again with `count` holds (Condition.wait), waiting as long as it takes. */
  async restore(count: number): Promise<void> {
    await this.take('wait', { onOwnerDied: () => {} });
    if (count > 1) {
      await this.run(SET_COUNT, [this.#owner, count]);
      this.#holds = count;
    }
  }

  /** Whether anyone holds the lock now (a snapshot). */
  async locked(): Promise<boolean> {
    return Number(await this.settings.connection.send('EXISTS', [this.keys[1]!])) === 1;
  }

  override async close(): Promise<void> {
    this.#renewal.stop();
    await super.close();
  }
}

/**
 * A mutual-exclusion lock on Redis (Python's `threading.Lock`), shared by
 * name across processes and machines.
 *
 * - The owner is this instance: another instance (another process, or another
 *   `Lock` object here) releasing it gets `LockNotOwnedError`; two async tasks
 *   sharing this instance exclude each other.
 * - The hold is a lease of `lease` ms, renewed while the process lives. A
 *   holder that dies, or stalls past its lease, loses the lock: the next
 *   acquirer gets it and is told the owner died, and the stale holder's
 *   `release()` throws `LockNotOwnedError`. {@link Lock.fencingToken} lets the
 *   protected storage refuse the stale holder's writes too.
 * - Waiters wake by notification (a token list and `BLPOP`), not polling.
 *
 * @example
 * ```ts
 * const lock = new Lock({ client: redis, name: 'invoices', lease: 5000 });
 * await lock.withLock(async () => {
 *   await store.write(invoice, { fencingToken: lock.fencingToken });
 * });
 * ```
 */
export class Lock extends OwnedLock {
  /** @internal */ protected readonly reentrant = false;
  /** @internal */ protected readonly primitive = 'Lock';

  constructor(options: LeaseOptions) {
    super('Lock', options);
  }
}

/**
 * A reentrant lock on Redis (Python's `threading.RLock`): the instance that
 * holds it may acquire it again, and must release it as many times.
 * Otherwise as {@link Lock}.
 */
export class RLock extends OwnedLock {
  /** @internal */ protected readonly reentrant = true;
  /** @internal */ protected readonly primitive = 'RLock';

  constructor(options: LeaseOptions) {
    super('RLock', options);
  }
}
