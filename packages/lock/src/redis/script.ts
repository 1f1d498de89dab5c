/**
 * A Lua script run by its SHA1 (`EVALSHA`), loaded again with `EVAL` when the
 * server does not know it (first use, or after a restart or `SCRIPT FLUSH`).
 * Scripts are how every Redis primitive changes its state atomically.
 */
import { createHash } from 'node:crypto';
import { isReplyError, type RedisArgument, type RedisConnection } from './connection.js';

/** A Lua script with its keys counted: `run(connection, keys, args)`. */
export class Script {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script; resolves with its reply. */
  async run(
    connection: RedisConnection,
    keys: readonly string[],
    args: readonly RedisArgument[],
  ): Promise<unknown> {
    const tail: RedisArgument[] = [keys.length, ...keys, ...args];
    try {
      return await connection.send('EVALSHA', [this.sha, ...tail]);
    } catch (err) {
      if (!isReplyError(err, 'NOSCRIPT')) throw err;
      return connection.send('EVAL', [this.source, ...tail]);
    }
  }
}

/** A reply element as a number (integers arrive as numbers, numeric strings as bytes). */
export function num(x: unknown): number {
  if (typeof x === 'number') return x;
  if (x instanceof Uint8Array) return Number(Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString());
  if (typeof x === 'string') return Number(x);
  return Number.NaN;
}

/** A reply element as text. */
export function text(x: unknown): string {
  if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString();
  return String(x);
}

/** Redis's clock in milliseconds, as scripts read it: the one clock every machine agrees on. */
export const NOW_MS = `local __t = redis.call('TIME')
local now = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)
`;
