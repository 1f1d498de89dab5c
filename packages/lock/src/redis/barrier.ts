/**
 * Barrier on Redis (Python's `threading.Barrier`): parties arrive in a
 * generation; the last one runs the action and opens the next generation,
 * waking the others through that generation's wake list. Each waiting party
 * holds a lease renewed while it lives: one that dies (or stalls past it)
 * breaks the barrier for the others, as a timeout or an abort does.
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
import { BrokenBarrierError } from '../core/errors.js';
import type { WaitOptions } from '../core/options.js';
import { type LeaseOptions, type PrimitiveSettings, primitiveSettings } from './options.js';
import { Renewal } from './renewal.js';
import { NOW_MS, num, Script } from './script.js';
import { BlockingWaits } from './waits.js';

const OLD_GENERATION_MS = 60_000;

// KEYS: meta (hash: gen, count, broken), parties (zset party → lease end). ARGV[1] is the wake list prefix.
const PRELUDE = `${NOW_MS}
local prefix = ARGV[1]
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')
local function wakeAll(g)
  local wake = prefix .. g
  if redis.call('LLEN', wake) == 0 then redis.call('RPUSH', wake, '1') end
  redis.call('PEXPIRE', wake, ${OLD_GENERATION_MS})
end
local function breakIt()
  redis.call('HSET', KEYS[1], 'broken', 1, 'count', 0)
  redis.call('DEL', KEYS[2])
  wakeAll(gen)
end
-- A waiting party whose lease ran out died (or stalled): the barrier breaks.
if #redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1) > 0 then breakIt() end
`;

// ARGV prefix, parties, party, lease ms. Replies {-1} broken; {1, gen, index} last party (runs the action);
// {0, gen, index, ms until a lease ends}.
const ARRIVE = new Script(`${PRELUDE}
if redis.call('HGET', KEYS[1], 'broken') == '1' then return {-1} end
local parties, party, leaseMs = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local index = redis.call('HINCRBY', KEYS[1], 'count', 1) - 1
if index + 1 >= parties then return {1, gen, index} end
redis.call('ZADD', KEYS[2], now + leaseMs, party)
return {0, gen, index, leaseMs}
`);

// ARGV prefix, gen: the last party opens the next generation, releasing the others.
const PASS = new Script(`${PRELUDE}
if tonumber(ARGV[2]) ~= gen or redis.call('HGET', KEYS[1], 'broken') == '1' then return -1 end
redis.call('HSET', KEYS[1], 'gen', gen + 1, 'count', 0)
redis.call('DEL', KEYS[2])
wakeAll(gen)
return 1
`);

// ARGV prefix, gen, party, lease ms. Replies 1 passed, -1 broken, {0, ms until a lease ends}.
const CHECK = new Script(`${PRELUDE}
if tonumber(ARGV[2]) ~= gen then
  wakeAll(tonumber(ARGV[2]))
  if redis.call('HGET', KEYS[1], 'reset:' .. ARGV[2]) then return -1 end
  return 1
end
if redis.call('HGET', KEYS[1], 'broken') == '1' then wakeAll(gen); return -1 end
redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[4]), ARGV[3])
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if first[2] then return tonumber(first[2]) - now + 1 end
return 0
`);

// ARGV prefix. Breaks the barrier (timeout, abort, abort()).
const BREAK = new Script(`${PRELUDE}
breakIt()
return 1
`);

// ARGV prefix. Waiting parties get BrokenBarrierError; the barrier is whole again.
const RESET = new Script(`${PRELUDE}
if tonumber(redis.call('HGET', KEYS[1], 'count') or '0') > 0 or redis.call('HGET', KEYS[1], 'broken') == '1' then
  redis.call('HSET', KEYS[1], 'reset:' .. gen, 1)
  wakeAll(gen)
end
redis.call('HSET', KEYS[1], 'gen', gen + 1, 'count', 0, 'broken', 0)
redis.call('DEL', KEYS[2])
return 1
`);

// Replies {count, broken}.
const STATE = new Script(`${PRELUDE}
return {tonumber(redis.call('HGET', KEYS[1], 'count') or '0'), tonumber(redis.call('HGET', KEYS[1], 'broken') or '0')}
`);

/** Options of {@link Barrier}. */
export interface BarrierOptions extends LeaseOptions {
  /** How many parties must call `wait()` before all go on. */
  parties: number;
  /** Run by the last party to arrive, before the others are released. */
  action?: () => unknown;
  /** Default timeout of `wait()`, in ms. */
  timeout?: number;
}

/**
 * A barrier on Redis (Python's `threading.Barrier`), shared by name: `wait()`
 * resolves each party's arrival index once `parties` have arrived, on any
 * machines. A party that times out, aborts or dies (its lease runs out)
 * breaks it for all (`BrokenBarrierError`) until `reset()`.
 *
 * @example
 * ```ts
 * const start = new Barrier({ client: redis, name: 'load-test', parties: 8 });
 * await start.wait({ timeout: 30_000 });
 * ```
 */
export class Barrier {
  readonly #settings: PrimitiveSettings;
  readonly #keys: readonly string[];
  readonly #wake: string;
  readonly #parties: number;
  readonly #action: (() => unknown) | undefined;
  readonly #timeout: number | undefined;
  readonly #waits: BlockingWaits;

  constructor(options: BarrierOptions) {
    this.#settings = primitiveSettings(
      'Barrier',
      'barrier',
      options,
      '{ client, name, parties, action, timeout }',
    );
    this.#parties = checkInt('Barrier', 'parties', options.parties, 1, 2 ** 31 - 1);
    if (options.action !== undefined && typeof options.action !== 'function') {
      throw new TypeError('Barrier: action must be a function');
    }
    this.#action = options.action;
    this.#timeout = options.timeout;
    this.#keys = [`${this.#settings.base}meta`, `${this.#settings.base}parties`];
    this.#wake = `${this.#settings.base}wake:`;
    this.#waits = new BlockingWaits(this.#settings.connection);
  }

  #run(script: Script, args: Array<string | number>): Promise<unknown> {
    return script.run(this.#settings.connection, this.#keys, [this.#wake, ...args]);
  }

  /** Parties needed to pass. */
  get parties(): number {
    return this.#parties;
  }

  /** Parties waiting now (a snapshot). */
  get nWaiting(): Promise<number> {
    return this.#run(STATE, []).then((r) => num((r as unknown[])[0]));
  }

  /** Whether the barrier is broken (a snapshot). */
  get broken(): Promise<boolean> {
    return this.#run(STATE, []).then((r) => num((r as unknown[])[1]) === 1);
  }

  /**
   * Waits for all parties; resolves this party's arrival index (0 to
   * parties - 1). Rejects `BrokenBarrierError` when the barrier is or becomes
   * broken, including by this wait's own timeout; with the signal's reason
   * on abort (breaking it too).
   */
  async wait(options?: WaitOptions): Promise<number> {
    const o = checkOptions('wait', options, '{ timeout, signal }');
    const deadline = deadlineOf('wait', o?.timeout ?? this.#timeout);
    const signal = checkSignal('wait', o?.signal);
    if (signal?.aborted) throw abortReason(signal);
    const party = randomUUID();
    const leaseMs = this.#settings.leaseMs;
    const arrived = (await this.#run(ARRIVE, [this.#parties, party, leaseMs])) as unknown[];
    const status = num(arrived[0]);
    if (status === -1) throw new BrokenBarrierError('wait: the barrier is broken');
    const gen = num(arrived[1]);
    const index = num(arrived[2]);
    if (status === 1) {
      try {
        await this.#action?.();
      } catch (err) {
        await this.#run(BREAK, []);
        throw err;
      }
      if (num(await this.#run(PASS, [gen])) === -1) throw new BrokenBarrierError('wait: the barrier broke');
      return index;
    }
    const renewal = new Renewal(leaseMs, () => this.#run(CHECK, [gen, party, leaseMs]));
    renewal.start();
    try {
      const passed =
        remaining(deadline) === 0
          ? false
          : await this.#waits.wait<boolean>({
              keys: [this.#wake + gen],
              attempt: async () => {
                const r = num(await this.#run(CHECK, [gen, party, leaseMs]));
                if (r === 1) return { done: true, value: true };
                if (r === -1) throw new BrokenBarrierError('wait: the barrier broke');
                return { done: false, retryIn: r > 0 ? r : undefined };
              },
              retryIn: num(arrived[3]) + 1,
              deadline,
              signal,
              timedOut: () => false,
            });
      if (!passed) {
        await this.#run(BREAK, []);
        throw new BrokenBarrierError('wait: timed out; the barrier is broken');
      }
      return index;
    } catch (err) {
      if (!(err instanceof BrokenBarrierError)) await this.#run(BREAK, []).catch(() => {});
      throw err;
    } finally {
      renewal.stop();
    }
  }

  /** Puts the barrier back to its initial state; parties waiting now get `BrokenBarrierError`. */
  async reset(): Promise<void> {
    await this.#run(RESET, []);
  }

  /** Breaks the barrier: waiting and later parties get `BrokenBarrierError` until `reset()`. */
  async abort(): Promise<void> {
    await this.#run(BREAK, []);
  }

  /** Closes this instance's blocking connection; pending waits reject. */
  async close(): Promise<void> {
    await this.#waits.close(new Error(`Barrier ${this.#settings.name} was closed in this process`));
  }

  /** Deletes the barrier's keys and closes this instance. */
  async destroy(): Promise<void> {
    await this.close();
    await this.#settings.connection.send('DEL', this.#keys);
  }
}
