/**
 * ioredis (5 and 6) behind {@link RedisConnection}. Only the client's shape is
 * used, never an import: ioredis stays the user's dependency.
 */
import type { RedisArgument, RedisConnection } from './connection.js';

/** The part of an ioredis client this adapter uses. */
interface IoredisLike {
  callBuffer(command: string, ...args: unknown[]): Promise<unknown>;
  duplicate(): IoredisLike;
  disconnect(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  stream?: { ref?(): void; unref?(): void };
}

export function isIoredis(x: object): x is IoredisLike {
  const c = x as Partial<IoredisLike>;
  return typeof c.callBuffer === 'function' && typeof c.duplicate === 'function';
}

function toDriver(args: readonly RedisArgument[]): unknown[] {
  const out = new Array<unknown>(args.length);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    out[i] =
      a instanceof Uint8Array && !Buffer.isBuffer(a) ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : a;
  }
  return out;
}

export function ioredisConnection(client: IoredisLike, owned = false): RedisConnection {
  let ref = true;
  const apply = () => {
    const stream = client.stream;
    if (ref) stream?.ref?.();
    else stream?.unref?.();
  };
  // A reconnect makes a new socket: it gets the current ref state too.
  if (owned) client.on('connect', apply);
  return {
    send: (command, args) => client.callBuffer(command, ...toDriver(args)),
    async duplicate() {
      const copy = client.duplicate();
      // Without a listener ioredis prints every failed reconnect; commands still reject.
      copy.on('error', () => {});
      return ioredisConnection(copy, true);
    },
    async close() {
      if (owned) client.disconnect();
    },
    setRef(next) {
      ref = next;
      apply();
    },
  };
}
