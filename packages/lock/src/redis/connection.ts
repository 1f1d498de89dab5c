/**
 * The one small interface the Redis tier talks through, so no conc package
 * depends on a Redis driver: the user passes the client they already have
 * (ioredis or node-redis, recognised by shape), or wraps any other driver in
 * a {@link RedisConnection} of their own.
 */
import { describeValue } from '@conc/serialize/internal';
import { checkEviction } from './eviction.js';
import { ioredisConnection, isIoredis } from './ioredis.js';
import { isNodeRedis, nodeRedisConnection } from './node-redis.js';

/** An argument of a command: strings and numbers as text, bytes as they are. */
export type RedisArgument = string | number | Uint8Array;

/**
 * A connection to Redis as the conc primitives use it. Implement it to use a
 * driver other than ioredis or node-redis.
 *
 * @example
 * ```ts
 * const connection: RedisConnection = {
 *   send: (command, args) => myDriver.raw(command, ...args),
 *   duplicate: async () => wrap(await myDriver.clone()),
 *   close: () => myDriver.quit(),
 * };
 * const lock = new Lock({ client: connection, name: 'jobs' });
 * ```
 */
export interface RedisConnection {
  /**
   * Sends one command and resolves with its reply: bulk strings as `Uint8Array`
   * (a `Buffer` is one), integers as numbers, arrays as arrays, nil as `null`;
   * rejects with the server's error (its message starting with the error code,
   * e.g. `NOSCRIPT ...`).
   */
  send(command: string, args: readonly RedisArgument[]): Promise<unknown>;
  /**
   * A new connection to the same server with the same options, for the
   * blocking commands (a connection blocked in `BLPOP` can send nothing else).
   * The primitive closes it with {@link RedisConnection.close}.
   */
  duplicate(): Promise<RedisConnection>;
  /** Closes a connection made by {@link RedisConnection.duplicate}; pending commands reject. */
  close(): Promise<void>;
  /**
   * Whether the connection's socket may keep the process alive (`true` while
   * someone waits on it, `false` when idle). Optional: without it an idle
   * duplicated connection keeps the process alive until `close()`.
   */
  setRef?(ref: boolean): void;
}

/** What the Redis primitives accept as `client`: an ioredis or node-redis client, or a {@link RedisConnection}. */
export type RedisClientLike = RedisConnection | object;

const wrapped = new WeakMap<object, RedisConnection>();

function isConnection(x: object): x is RedisConnection {
  const c = x as Partial<RedisConnection>;
  return typeof c.send === 'function' && typeof c.duplicate === 'function' && typeof c.close === 'function';
}

/**
 * The {@link RedisConnection} for a user's client: an ioredis client (one
 * with `callBuffer`), a node-redis client (one with `sendCommand` and
 * `isOpen`), or a `RedisConnection` as it is. One wrapper per client.
 */
export function redisConnection(what: string, client: unknown): RedisConnection {
  if (typeof client !== 'object' || client === null) {
    throw new TypeError(
      `${what}: client must be an ioredis or node-redis client (or a RedisConnection), got ${describeValue(client)}`,
    );
  }
  const known = wrapped.get(client);
  if (known) return known;
  let connection: RedisConnection;
  if (isIoredis(client)) connection = ioredisConnection(client);
  else if (isNodeRedis(client)) connection = nodeRedisConnection(client);
  else if (isConnection(client)) connection = client;
  else {
    throw new TypeError(
      `${what}: client is neither an ioredis client (callBuffer), a node-redis client (sendCommand) nor a RedisConnection (send, duplicate, close)`,
    );
  }
  connection = checkedOnFirstUse(connection);
  wrapped.set(client, connection);
  return connection;
}

/**
 * The connection, asking the server's eviction policy alongside its first
 * command (see eviction.ts); asked again on a later command when the
 * connection was not up yet. One flag test per command after that.
 */
function checkedOnFirstUse(connection: RedisConnection): RedisConnection {
  const send = connection.send.bind(connection);
  let state: 'unchecked' | 'checking' | 'checked' = 'unchecked';
  return {
    send(command, args) {
      if (state === 'unchecked') {
        state = 'checking';
        void checkEviction(send).then((done) => {
          state = done ? 'checked' : 'unchecked';
        });
      }
      return send(command, args);
    },
    duplicate: () => connection.duplicate(),
    close: () => connection.close(),
    ...(connection.setRef ? { setRef: (ref: boolean) => connection.setRef?.(ref) } : {}),
  };
}

/** Whether an error is the server's reply starting with `code` (`NOSCRIPT`, `ERR`...). */
export function isReplyError(err: unknown, code: string): boolean {
  return err instanceof Error && typeof err.message === 'string' && err.message.startsWith(`${code} `);
}
