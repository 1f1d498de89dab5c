/**
 * node-redis (`redis` 5 and 6) behind {@link RedisConnection}. Only the
 * client's shape is used, never an import: node-redis stays the user's
 * dependency.
 */
import type { RedisArgument, RedisConnection } from './connection.js';

/** The part of a node-redis client this adapter uses. */
interface NodeRedisLike {
  sendCommand(args: unknown[], options?: unknown): Promise<unknown>;
  duplicate(): NodeRedisLike;
  connect(): Promise<unknown>;
  destroy?(): void;
  disconnect?(): Promise<void>;
  ref?(): void;
  unref?(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly isOpen: boolean;
}

export function isNodeRedis(x: object): x is NodeRedisLike {
  const c = x as Partial<NodeRedisLike>;
  return typeof c.sendCommand === 'function' && typeof c.duplicate === 'function' && 'isOpen' in c;
}

/** Bulk strings as Buffers (RESP type '$', 36), whatever type mapping the client was given. */
const BINARY = { typeMapping: { 36: Buffer } };

function toDriver(command: string, args: readonly RedisArgument[]): unknown[] {
  const out = new Array<unknown>(args.length + 1);
  out[0] = command;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    out[i + 1] =
      typeof a === 'number'
        ? String(a)
        : a instanceof Uint8Array && !Buffer.isBuffer(a)
          ? Buffer.from(a.buffer, a.byteOffset, a.byteLength)
          : a;
  }
  return out;
}

export function nodeRedisConnection(client: NodeRedisLike, owned = false): RedisConnection {
  return {
    send: (command, args) => client.sendCommand(toDriver(command, args), BINARY),
    async duplicate() {
      const copy = client.duplicate();
      // An 'error' listener keeps a lost connection from crashing the process; commands still reject.
      copy.on('error', () => {});
      await copy.connect();
      return nodeRedisConnection(copy, true);
    },
    async close() {
      if (!owned) return;
      if (typeof client.destroy === 'function') client.destroy();
      else await client.disconnect?.();
    },
    setRef(ref) {
      if (ref) client.ref?.();
      else client.unref?.();
    },
  };
}
