/**
 * Condition on Redis (Python's `threading.Condition`) over a Redis Lock or
 * RLock. Each `wait()` queues a waiter id in a list and waits on a wake list
 * of its own; `notify(n)` takes the first `n` live waiters off the list and
 * wakes each. A waiter is live while the Redis connection that queued it is
 * open (`CLIENT LIST`), so a process killed inside `wait()` never swallows a
 * notification.
 */
import { randomUUID } from 'node:crypto';
import {
  abortReason,
  checkInt,
  checkOptions,
  checkSignal,
  deadlineOf,
  remaining,
} from '@conc/serialize/internal';
import { LockNotOwnedError } from '../core/errors.js';
import type { AcquireOptions, WaitOptions } from '../core/options.js';
import { type OwnedLock, RLock } from './lock.js';
import { type PrimitiveSettings, primitiveSettings, type RedisPrimitiveOptions } from './options.js';
import { num, Script, text } from './script.js';
import { BlockingWaits } from './waits.js';

const NOTIFIED_MS = 600_000;

// KEYS: waiters. ARGV: notified key, wake list. Replies 1 (and forgets both) once notified.
const CHECK = new Script(`
if redis.call('EXISTS', ARGV[1]) == 1 then
  redis.call('DEL', ARGV[1], ARGV[2])
  return 1
end
return 0
`);

// KEYS: waiters. ARGV: entry, notified key, wake list. Leaves the queue; 1 when a notification came first.
const LEAVE = new Script(`
if redis.call('LREM', KEYS[1], 0, ARGV[1]) == 1 then return 0 end
if redis.call('EXISTS', ARGV[2]) == 1 then
  redis.call('DEL', ARGV[2], ARGV[3])
  return 1
end
return 0
`);

// KEYS: waiters. ARGV: n, key prefix, then client ids known to be gone. Replies how many were woken.
const NOTIFY = new Script(`
local n, prefix = tonumber(ARGV[1]), ARGV[2]
local gone = {}
for i = 3, #ARGV do gone[ARGV[i]] = true end
local woken = 0
while woken < n do
  local entry = redis.call('LPOP', KEYS[1])
  if not entry then break end
  local id, client = string.match(entry, '^([^|]+)|(.+)$')
  if not gone[client] then
    redis.call('SET', prefix .. 'notified:' .. id, '1', 'PX', ${NOTIFIED_MS})
    redis.call('RPUSH', prefix .. 'wake:' .. id, '1')
    redis.call('PEXPIRE', prefix .. 'wake:' .. id, ${NOTIFIED_MS})
    woken = woken + 1
  end
end
return woken
`);

/** Options of {@link Condition}. */
export interface ConditionOptions extends RedisPrimitiveOptions {
  /** The Redis Lock or RLock the condition uses; by default a new RLock of the same name, client and prefix. */
  lock?: OwnedLock;
}

/**
 * A condition variable on Redis (Python's `threading.Condition`), shared by
 * name: `wait()` releases the lock, waits for a `notify()` from anywhere,
 * and takes the lock back. Waiters are woken in the order they waited; a
 * waiter whose process died is skipped.
 *
 * @example
 * ```ts
 * const lock = new Lock({ client: redis, name: 'stock' });
 * const restocked = new Condition({ client: redis, name: 'stock', lock });
 * await lock.acquire();
 * await restocked.waitFor(async () => (await stock()) > 0, { timeout: 10_000 });
 * await lock.release();
 * ```
 */
export class Condition {
  readonly #settings: PrimitiveSettings;
  readonly #lock: OwnedLock;
  readonly #ownsLock: boolean;
  readonly #waiters: string;
  readonly #waits: BlockingWaits;

  constructor(options: ConditionOptions) {
    this.#settings = primitiveSettings('Condition', 'condition', options, '{ client, name, lock }');
    const lock = options.lock;
    this.#ownsLock = lock === undefined;
    this.#lock = lock ?? new RLock({ client: options.client, name: options.name, prefix: options.prefix });
    this.#waiters = `${this.#settings.base}waiters`;
    this.#waits = new BlockingWaits(this.#settings.connection);
  }

  /** The lock underneath. */
  get lock(): OwnedLock {
    return this.#lock;
  }

  /** Acquires the underlying lock. */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /** Releases the underlying lock. */
  release(): Promise<void> {
    return this.#lock.release();
  }

  #owned(what: string): void {
    if (!this.#lock.isHeldHere())
      throw new LockNotOwnedError(`${what}: the condition's lock is not held here`);
  }

  /**
   * Releases the lock, waits for a notification (or the timeout), and takes
   * the lock back before returning: `true` if notified, `false` on timeout.
   * On abort, rejects with the reason holding the lock again (a notification
   * it had got goes on to the next waiter). Throws `LockNotOwnedError` when
   * the lock is not held here.
   */
  async wait(options?: WaitOptions): Promise<boolean> {
    const o = checkOptions('wait', options, '{ timeout, signal }');
    const deadline = deadlineOf('wait', o?.timeout);
    const signal = checkSignal('wait', o?.signal);
    this.#owned('wait');
    if (signal?.aborted) throw abortReason(signal);
    const connection = this.#settings.connection;
    const id = randomUUID();
    const client = num(await connection.send('CLIENT', ['ID']));
    const entry = `${id}|${client}`;
    const notified = `${this.#settings.base}notified:${id}`;
    const wake = `${this.#settings.base}wake:${id}`;
    await connection.send('RPUSH', [this.#waiters, entry]);
    const holds = await this.#lock.releaseAll();
    let outcome: { ok: true; woke: boolean } | { ok: false; error: unknown };
    try {
      const woke =
        remaining(deadline) === 0
          ? false
          : await this.#waits.wait<boolean>({
              keys: [wake],
              attempt: async () =>
                num(await CHECK.run(connection, [this.#waiters], [notified, wake])) === 1
                  ? { done: true, value: true }
                  : { done: false },
              retryIn: 0,
              // Notified, but it left (timeout, abort) as the news came: the notification goes on.
              undo: async () => {
                await this.#notify(1);
              },
              deadline,
              signal,
              timedOut: () => false,
            });
      outcome = { ok: true, woke };
    } catch (err) {
      outcome = { ok: false, error: err };
    }
    if (!outcome.ok || !outcome.woke) {
      // Leaving: a notification that came meanwhile is taken (a timeout) or passed on (an abort).
      const got =
        num(await LEAVE.run(connection, [this.#waiters], [entry, notified, wake]).catch(() => 0)) === 1;
      if (got && outcome.ok) outcome = { ok: true, woke: true };
      else if (got) await this.#notify(1).catch(() => {});
    }
    await this.#lock.restore(holds);
    if (outcome.ok && outcome.woke && signal?.aborted) {
      // Aborted before it could return (it was taking the lock back): the abort wins, as in
      // the other tiers, and the notification it had goes on to the next waiter.
      await this.#notify(1);
      throw abortReason(signal);
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.woke;
  }

  /**
   * Waits until `predicate()` is truthy (checking it first), as Python's
   * `wait_for`; resolves the predicate's last value (falsy after the timeout).
   */
  async waitFor<T>(predicate: () => T | PromiseLike<T>, options?: WaitOptions): Promise<T> {
    const o = checkOptions('waitFor', options, '{ timeout, signal }');
    const deadline = deadlineOf('waitFor', o?.timeout);
    let result = await predicate();
    while (!result) {
      const left = remaining(deadline);
      if (left === 0) break;
      await this.wait({ timeout: left, signal: o?.signal });
      result = await predicate();
    }
    return result;
  }

  /** Wakes up to `n` waiters (the longest waiting first). Throws `LockNotOwnedError` when the lock is not held here. */
  async notify(n = 1): Promise<number> {
    this.#owned('notify');
    checkInt('notify', 'n', n, 0, 2 ** 31 - 1);
    return this.#notify(n);
  }

  /** Wakes every waiter. */
  async notifyAll(): Promise<number> {
    this.#owned('notifyAll');
    return this.#notify(2 ** 31 - 1);
  }

  async #notify(n: number): Promise<number> {
    const connection = this.#settings.connection;
    const entries = (
      (await connection.send('LRANGE', [this.#waiters, 0, Math.min(n, 1000) * 2])) as unknown[]
    ).map(text);
    const clients = [...new Set(entries.map((e) => e.slice(e.indexOf('|') + 1)))];
    const gone: string[] = [];
    if (clients.length > 0) {
      const list = text(await connection.send('CLIENT', ['LIST', 'ID', ...clients]));
      const alive = new Set([...list.matchAll(/(?:^|\n)id=(\d+)/g)].map((m) => m[1]));
      for (const c of clients) if (!alive.has(c)) gone.push(c);
    }
    return num(await NOTIFY.run(connection, [this.#waiters], [n, this.#settings.base, ...gone]));
  }

  /** Closes this instance's blocking connections (and its own lock's); pending waits reject. */
  async close(): Promise<void> {
    await this.#waits.close(new Error(`Condition ${this.#settings.name} was closed in this process`));
    if (this.#ownsLock) await this.#lock.close();
  }

  /** Deletes the condition's keys (and its own lock's) and closes this instance. */
  async destroy(): Promise<void> {
    await this.close();
    await this.#settings.connection.send('DEL', [this.#waiters]);
    if (this.#ownsLock) await this.#lock.destroy();
  }
}
