/**
 * Semaphore and BoundedSemaphore on Redis: a count of free permits, and the
 * permits each holder (an instance) took, under a lease renewed while it
 * lives. A holder whose lease ran out gives its permits back, marked so that
 * whoever takes them is told the owner died.
 */
import { randomUUID } from 'node:crypto';
import { checkInt } from '@conc/serialize/internal';
import { SemaphoreOverReleaseError } from '../core/errors.js';
import { RedisHeld, type Taken } from './held.js';
import { type LeaseOptions, primitiveSettings } from './options.js';
import { Renewal } from './renewal.js';
import { NOW_MS, num, Script } from './script.js';
import type { AttemptResult } from './waits.js';

// KEYS: meta (hash: value, bound, orphans), holders (zset holder → lease end), counts (hash holder → permits), wake.
// Every script first sets the semaphore up (the first instance's value wins) and reclaims dead holders' permits.
const PRELUDE = `${NOW_MS}
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'value', ARGV[1], 'bound', ARGV[1], 'orphans', 0)
end
for _, h in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  local c = tonumber(redis.call('HGET', KEYS[3], h) or '0')
  redis.call('ZREM', KEYS[2], h)
  redis.call('HDEL', KEYS[3], h)
  redis.call('HINCRBY', KEYS[1], 'value', c)
  redis.call('HINCRBY', KEYS[1], 'orphans', c)
end
local function wake(n)
  local value = tonumber(redis.call('HGET', KEYS[1], 'value'))
  if n > 0 then
    local ones = {}
    for i = 1, math.min(n, 64) do ones[i] = '1' end
    redis.call('RPUSH', KEYS[4], unpack(ones))
  end
  if value <= 0 then redis.call('DEL', KEYS[4]) else redis.call('LTRIM', KEYS[4], -value, -1) end
end
`;

// ARGV initial, holder, lease ms. Replies {1, died} or {0, ms until a holder's lease ends or -1}.
const ACQUIRE = new Script(`${PRELUDE}
local holder, leaseMs = ARGV[2], tonumber(ARGV[3])
if tonumber(redis.call('HGET', KEYS[1], 'value')) > 0 then
  redis.call('HINCRBY', KEYS[1], 'value', -1)
  redis.call('HINCRBY', KEYS[3], holder, 1)
  redis.call('ZADD', KEYS[2], now + leaseMs, holder)
  local died = 0
  if tonumber(redis.call('HGET', KEYS[1], 'orphans')) > 0 then
    redis.call('HINCRBY', KEYS[1], 'orphans', -1)
    died = 1
  end
  wake(0)
  return {1, died}
end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if first[2] then return {0, tonumber(first[2]) - now} end
return {0, -1}
`);

// ARGV initial, holder, n, bounded (1/0). Replies 1, or -1 when it would exceed the bound.
const RELEASE = new Script(`${PRELUDE}
local holder, n = ARGV[2], tonumber(ARGV[3])
local value = tonumber(redis.call('HGET', KEYS[1], 'value'))
if ARGV[4] == '1' and value + n > tonumber(redis.call('HGET', KEYS[1], 'bound')) then return -1 end
redis.call('HINCRBY', KEYS[1], 'value', n)
local mine = tonumber(redis.call('HGET', KEYS[3], holder) or '0')
if mine > 0 then
  if mine <= n then
    redis.call('HDEL', KEYS[3], holder)
    redis.call('ZREM', KEYS[2], holder)
  else
    redis.call('HINCRBY', KEYS[3], holder, -n)
  end
end
wake(n)
return 1
`);

// ARGV initial, holder, lease ms.
const RENEW = new Script(`${PRELUDE}
return redis.call('ZADD', KEYS[2], 'XX', 'CH', now + tonumber(ARGV[3]), ARGV[2])
`);

// ARGV initial, holder: gives one permit back marked abandoned (an onOwnerDied handler threw).
const ABANDON = new Script(`${PRELUDE}
local holder = ARGV[2]
local mine = tonumber(redis.call('HGET', KEYS[3], holder) or '0')
if mine <= 0 then return 0 end
if mine == 1 then
  redis.call('HDEL', KEYS[3], holder)
  redis.call('ZREM', KEYS[2], holder)
else
  redis.call('HINCRBY', KEYS[3], holder, -1)
end
redis.call('HINCRBY', KEYS[1], 'value', 1)
redis.call('HINCRBY', KEYS[1], 'orphans', 1)
wake(1)
return 1
`);

/** Options of {@link Semaphore} and {@link BoundedSemaphore}. */
export interface SemaphoreOptions extends LeaseOptions {
  /**
   * The permits a new semaphore starts with. The first instance to use the
   * name sets it; later instances with another value use the existing one.
   * @default 1
   */
  value?: number;
}

/**
 * A counting semaphore on Redis (Python's `threading.Semaphore`), shared by
 * name: `acquire()` takes a permit, waiting while there is none; `release(n)`
 * gives `n` back (from anyone: a semaphore also signals). Permits taken by an
 * instance whose process dies (or stalls past its lease) come back, and
 * whoever takes one is told the owner died.
 *
 * @example
 * ```ts
 * const slots = new Semaphore({ client: redis, name: 'api-slots', value: 10 });
 * await slots.withLock(() => callTheApi());
 * ```
 */
export class Semaphore extends RedisHeld {
  /** @internal */ protected readonly keys: readonly string[];
  /** @internal */ protected readonly wakeKey: string;
  /** @internal */ protected readonly primitive: string = 'Semaphore';
  readonly #holder = randomUUID();
  readonly #initial: number;
  readonly #bounded: boolean;
  readonly #renewal: Renewal;
  #holds = 0;

  constructor(options: SemaphoreOptions) {
    const settings = primitiveSettings('Semaphore', 'semaphore', options, '{ client, name, value, lease }');
    super(settings);
    this.#initial =
      options.value === undefined ? 1 : checkInt('Semaphore', 'value', options.value, 0, 2 ** 31 - 1);
    this.#bounded = new.target === BoundedSemaphore;
    this.keys = ['meta', 'holders', 'counts', 'wake'].map((k) => settings.base + k);
    this.wakeKey = this.keys[3]!;
    this.#renewal = new Renewal(settings.leaseMs, () =>
      this.run(RENEW, [this.#initial, this.#holder, this.settings.leaseMs]),
    );
  }

  /** @internal */
  protected async tryTake(): Promise<AttemptResult<Taken>> {
    const reply = (await this.run(ACQUIRE, [
      this.#initial,
      this.#holder,
      this.settings.leaseMs,
    ])) as unknown[];
    if (num(reply[0]) === 0) {
      const next = num(reply[1]);
      return next >= 0 ? { done: false, retryIn: next + 1 } : { done: false };
    }
    this.#holds++;
    this.#renewal.start();
    return { done: true, value: { died: num(reply[1]) === 1 } };
  }

  /** @internal */
  protected async abandon(): Promise<void> {
    this.#holds = Math.max(0, this.#holds - 1);
    if (this.#holds === 0) this.#renewal.stop();
    await this.run(ABANDON, [this.#initial, this.#holder]);
  }

  /** @internal */
  protected async giveBack(): Promise<void> {
    await this.release().catch(() => {});
  }

  /**
   * Gives `n` permits back (waking up to `n` waiters anywhere). A
   * BoundedSemaphore throws `SemaphoreOverReleaseError` (and changes nothing)
   * when that would exceed its initial value.
   */
  async release(n = 1): Promise<void> {
    checkInt('release', 'n', n, 1, 2 ** 31 - 1);
    const ok = num(await this.run(RELEASE, [this.#initial, this.#holder, n, this.#bounded ? 1 : 0]));
    if (ok < 0) {
      throw new SemaphoreOverReleaseError(
        `release: BoundedSemaphore ${this.settings.name} released more times than acquired`,
      );
    }
    this.#holds = Math.max(0, this.#holds - n);
    if (this.#holds === 0) this.#renewal.stop();
  }

  /** Free permits now (a snapshot). */
  async value(): Promise<number> {
    const reply = await this.settings.connection.send('HGET', [this.keys[0]!, 'value']);
    return reply === null ? this.#initial : num(reply);
  }

  override async close(): Promise<void> {
    this.#renewal.stop();
    await super.close();
  }
}

/** A {@link Semaphore} that refuses to be released above its initial value (Python's `BoundedSemaphore`). */
export class BoundedSemaphore extends Semaphore {
  /** @internal */ protected override readonly primitive: string = 'BoundedSemaphore';
}
