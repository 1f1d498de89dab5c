/** Options of the Redis queues, checked once in the constructor. */
import { type RedisClientLike, type RedisConnection, redisConnection } from '@conc/lock/redis';
import { type Codec, type CodecName, resolveCodec } from '@conc/serialize';
import { checkInt, checkOptions, describeValue } from '@conc/serialize/internal';

/** Options of every Redis queue. */
export interface RedisQueueOptions {
  /**
   * The Redis client: an ioredis or node-redis client you made and connected
   * (or a `RedisConnection`). The queue sends its scripts on it and
   * duplicates it once for its blocking waits; it never closes your client.
   * @example
   * ```ts
   * const q = new Queue({ client: new Redis(), name: 'jobs' });
   * ```
   */
  client: RedisClientLike;
  /**
   * The queue's name: every `Queue` made with the same name (and `prefix`) on
   * any machine is the same queue.
   */
  name: string;
  /**
   * Most items waiting; `put` waits (or fails with `FullError`) beyond it. `0`
   * is no limit. Give every instance of one queue the same value.
   * @default 0
   */
  maxsize?: number;
  /**
   * Codec of the items (every instance of one queue must use the same).
   * @default 'msgpack'
   */
  codec?: CodecName | Codec;
  /**
   * Prefix of the queue's Redis keys: `<prefix>:queue:{<name>}:...` (the braces
   * keep a queue's keys in one Redis Cluster slot).
   * @default 'conc'
   */
  prefix?: string;
}

/** Options of the queues that track tasks (every queue but `SimpleQueue`). */
export interface ReliableQueueOptions extends RedisQueueOptions {
  /**
   * How long an item handed out by `get()` stays this consumer's without news
   * from it, in ms. The lease is renewed every third of it while the process
   * lives; a consumer that dies (or stalls past it) has its items delivered
   * again to another consumer once it passes.
   * @default 30000
   */
  visibilityTimeout?: number;
  /**
   * Deliveries of one item before it goes to the dead letters instead
   * (`deadLetters()`, `requeueDeadLetters()`); `0` is no limit.
   * @default 5
   */
  maxDeliveries?: number;
}

/** The checked options. */
export interface Settings {
  readonly connection: RedisConnection;
  readonly name: string;
  readonly keys: readonly string[];
  readonly maxsize: number;
  readonly codec: Codec;
  readonly leaseMs: number;
  readonly maxDeliveries: number;
}

const KEY_PART = /^[^{}\s]{1,200}$/;

/** Checks the options and names the keys. */
export function settings(
  what: string,
  options: ReliableQueueOptions | undefined,
  keyNames: readonly string[],
  reliable: boolean,
): Settings {
  const o = checkOptions(what, options, '{ client, name, maxsize, visibilityTimeout, maxDeliveries }');
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
  const maxsize = o.maxsize === undefined ? 0 : checkInt(what, 'maxsize', o.maxsize, 0, 2 ** 31 - 1);
  const leaseMs = reliable
    ? o.visibilityTimeout === undefined
      ? 30_000
      : checkInt(what, 'visibilityTimeout', o.visibilityTimeout, 30, 2 ** 31 - 1)
    : 0;
  const maxDeliveries =
    o.maxDeliveries === undefined ? 5 : checkInt(what, 'maxDeliveries', o.maxDeliveries, 0, 2 ** 31 - 1);
  const base = `${prefix}:queue:{${name}}:`;
  return {
    connection,
    name,
    keys: keyNames.map((k) => base + k),
    maxsize,
    codec: resolveCodec(o.codec),
    leaseMs,
    maxDeliveries: reliable ? maxDeliveries : 0,
  };
}
