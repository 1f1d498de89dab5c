/** Options shared by every Redis primitive, checked once in the constructor. */
import { checkInt, checkOptions, describeValue } from '@conc/serialize/internal';
import { type RedisClientLike, type RedisConnection, redisConnection } from './connection.js';

/** Options of every Redis lock primitive. */
export interface RedisPrimitiveOptions {
  /**
   * The Redis client: an ioredis or node-redis client you made and connected
   * (or a `RedisConnection`). The primitive sends its scripts on it and
   * duplicates it once for its blocking waits; it never closes your client.
   * @example
   * ```ts
   * const lock = new Lock({ client: new Redis(), name: 'invoices' });
   * ```
   */
  client: RedisClientLike;
  /** The name: every primitive of this kind with the same name (and `prefix`) on any machine is the same one. */
  name: string;
  /**
   * Prefix of the Redis keys: `<prefix>:<kind>:{<name>}:...` (the braces keep
   * one primitive's keys in one Redis Cluster slot).
   * @default 'conc'
   */
  prefix?: string;
}

/** Options of the primitives that are held (Lock, RLock, Semaphore, Condition's lock). */
export interface LeaseOptions extends RedisPrimitiveOptions {
  /**
   * How long a hold lasts without news from its holder, in ms. It is renewed
   * every third of it while the process lives; a holder that dies (or stalls,
   * or loses Redis, past it) loses the hold, and the next acquirer is told
   * the owner died.
   * @default 10000
   */
  lease?: number;
}

/** Checked options. */
export interface PrimitiveSettings {
  readonly connection: RedisConnection;
  readonly name: string;
  /** Key prefix of this primitive, ending in `}:`. */
  readonly base: string;
  readonly leaseMs: number;
}

const KEY_PART = /^[^{}\s]{1,200}$/;

/** Checks the common options of a primitive of `kind` (`lock`, `semaphore`...). */
export function primitiveSettings(
  what: string,
  kind: string,
  options: LeaseOptions | undefined,
  shape: string,
): PrimitiveSettings {
  const o = checkOptions(what, options, shape);
  if (o === undefined) throw new TypeError(`${what}: options { client, name } are required`);
  const connection = redisConnection(what, o.client);
  const name = o.name as unknown;
  if (typeof name !== 'string' || !KEY_PART.test(name)) {
    throw new TypeError(
      `${what}: name must be a string of 1 to 200 characters without braces or spaces, got ${describeValue(name)}`,
    );
  }
  const prefix = (o.prefix ?? 'conc') as unknown;
  if (typeof prefix !== 'string' || !KEY_PART.test(prefix)) {
    throw new TypeError(
      `${what}: prefix must be a string without braces or spaces, got ${describeValue(prefix)}`,
    );
  }
  const leaseMs = o.lease === undefined ? 10_000 : checkInt(what, 'lease', o.lease, 30, 2 ** 31 - 1);
  return { connection, name, base: `${prefix}:${kind}:{${name}}:`, leaseMs };
}
