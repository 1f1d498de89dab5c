/**
 * Event on Redis (Python's `threading.Event`): a flag and a generation.
 * `set()` ends the current generation and leaves a token on that
 * generation's wake list; every waiter woken by it puts it back for the next
 * waiter of that generation, so one token wakes them all, and a waiter that
 * comes after a `clear()` waits on the new generation's list, untouched.
 */
import { abortReason, checkOptions, checkSignal, deadlineOf, remaining } from '@conc/serialize/internal';
import type { WaitOptions } from '../core/options.js';
import { type PrimitiveSettings, primitiveSettings, type RedisPrimitiveOptions } from './options.js';
import { num, Script } from './script.js';
import { BlockingWaits } from './waits.js';

/** How long a past generation's wake list lives: far longer than any waiter needs to pass its token on. */
const OLD_GENERATION_MS = 60_000;

// KEYS: flag, gen. Replies {flag, generation}.
const STATE = new Script(`
return {redis.call('EXISTS', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0')}
`);

// KEYS: flag, gen; ARGV: wake list prefix, old generation ms.
const SET = new Script(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], '1')
local gen = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('INCR', KEYS[2])
local wake = ARGV[1] .. gen
redis.call('RPUSH', wake, '1')
redis.call('PEXPIRE', wake, tonumber(ARGV[2]))
return 1
`);

// KEYS: flag, gen; ARGV: my generation, wake list prefix, old generation ms. 1 when set or a set happened since.
const CHECK = new Script(`
local gen = tonumber(redis.call('GET', KEYS[2]) or '0')
local mine = tonumber(ARGV[1])
if gen > mine then
  local wake = ARGV[2] .. mine
  if redis.call('LLEN', wake) == 0 then
    redis.call('RPUSH', wake, '1')
    redis.call('PEXPIRE', wake, tonumber(ARGV[3]))
  end
  return 1
end
return redis.call('EXISTS', KEYS[1])
`);

/**
 * An event flag on Redis (Python's `threading.Event`), shared by name:
 * `set()` wakes every waiter on every machine, `clear()` resets the flag,
 * `wait()` resolves `true` once it is set (even if cleared again right
 * after), `false` on timeout.
 *
 * @example
 * ```ts
 * const ready = new Event({ client: redis, name: 'warm-cache' });
 * await ready.wait({ timeout: 5000 });
 * ```
 */
export class Event {
  readonly #settings: PrimitiveSettings;
  readonly #keys: readonly string[];
  readonly #wake: string;
  readonly #waits: BlockingWaits;

  constructor(options: RedisPrimitiveOptions) {
    this.#settings = primitiveSettings('Event', 'event', options, '{ client, name }');
    this.#keys = [`${this.#settings.base}flag`, `${this.#settings.base}gen`];
    this.#wake = `${this.#settings.base}wake:`;
    this.#waits = new BlockingWaits(this.#settings.connection);
  }

  /** The name, as given. */
  get name(): string {
    return this.#settings.name;
  }

  /** Sets the flag and wakes every waiter. */
  async set(): Promise<void> {
    await SET.run(this.#settings.connection, this.#keys, [this.#wake, OLD_GENERATION_MS]);
  }

  /** Clears the flag: later waits wait for the next `set()`. */
  async clear(): Promise<void> {
    await this.#settings.connection.send('DEL', [this.#keys[0]!]);
  }

  /** Whether the flag is set (a snapshot). */
  async isSet(): Promise<boolean> {
    return num(await this.#settings.connection.send('EXISTS', [this.#keys[0]!])) === 1;
  }

  /** Resolves `true` once the flag is set, `false` after `timeout`; rejects with the signal's reason on abort. */
  async wait(options?: WaitOptions): Promise<boolean> {
    const o = checkOptions('wait', options, '{ timeout, signal }');
    const deadline = deadlineOf('wait', o?.timeout);
    const signal = checkSignal('wait', o?.signal);
    if (signal?.aborted) throw abortReason(signal);
    const [flag, gen] = (await STATE.run(this.#settings.connection, this.#keys, [])) as unknown[];
    if (num(flag) === 1) return true;
    if (remaining(deadline) === 0) return false;
    const mine = num(gen);
    return this.#waits.wait<boolean>({
      keys: [this.#wake + mine],
      attempt: async () =>
        num(await CHECK.run(this.#settings.connection, this.#keys, [mine, this.#wake, OLD_GENERATION_MS])) ===
        1
          ? { done: true, value: true }
          : { done: false },
      deadline,
      signal,
      timedOut: () => false,
    });
  }

  /** Closes this instance's blocking connection; pending waits reject. */
  async close(): Promise<void> {
    await this.#waits.close(new Error(`Event ${this.#settings.name} was closed in this process`));
  }

  /** Deletes the event's keys from Redis and closes this instance. */
  async destroy(): Promise<void> {
    await this.close();
    await this.#settings.connection.send('DEL', this.#keys);
  }
}
