/**
 * The eviction check (RELIABILITY 38): a Redis server that may evict keys
 * under memory pressure (`maxmemory-policy` other than `noeviction`) can drop
 * a queue's items or a lock's lease without anyone being told. The first time
 * a conc primitive talks through a client, it asks the server's policy once,
 * in the background, and warns once per server when keys may be evicted.
 */
import { debuglog } from 'node:util';
import type { RedisArgument } from './connection.js';

const debug = debuglog('conc');

/** Servers (by `run_id`, or by connection when INFO is refused) already warned about. */
const warned = new Set<string>();

type Send = (command: string, args: readonly RedisArgument[]) => Promise<unknown>;

function text(x: unknown): string {
  if (x instanceof Uint8Array) return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString();
  return String(x);
}

/** Whether an error is the server's refusal (`ERR ...`, `NOPERM ...`) rather than a lost connection. */
function isRefusal(err: unknown): boolean {
  return err instanceof Error && /^[A-Z]+ /.test(err.message);
}

/** The policy out of a `CONFIG GET maxmemory-policy` reply (an array, or a map in RESP3). */
function policyOf(reply: unknown): string | undefined {
  if (Array.isArray(reply)) return reply.length >= 2 ? text(reply[1]) : undefined;
  if (reply instanceof Map) {
    for (const v of reply.values()) return text(v);
    return undefined;
  }
  if (reply && typeof reply === 'object') {
    const v = Object.values(reply)[0];
    return v === undefined ? undefined : text(v);
  }
  return undefined;
}

/**
 * Checks the server's eviction policy on `send`; resolves `true` once the
 * server answered or refused (checked for good), `false` when the connection
 * failed (try again on a later command). Never rejects.
 */
export async function checkEviction(send: Send): Promise<boolean> {
  // Both asked at once, ahead of the primitive's own first command: their replies come first.
  const [config, info] = await Promise.allSettled([
    send('CONFIG', ['GET', 'maxmemory-policy']),
    send('INFO', ['server']),
  ]);
  if (config.status === 'rejected') {
    if (!isRefusal(config.reason)) return false;
    // Managed Redis often refuses CONFIG: nothing to learn, nothing to warn about.
    debug(
      'Redis refused CONFIG GET maxmemory-policy (%s); eviction policy not checked',
      String(config.reason),
    );
    return true;
  }
  const policy = policyOf(config.value);
  if (policy === undefined || policy === 'noeviction') return true;
  if (info.status === 'rejected' && !isRefusal(info.reason)) return false;
  // Without a run_id (INFO refused) this connection's server is warned about on its own.
  const id = info.status === 'fulfilled' ? /run_id:(\w+)/.exec(text(info.value))?.[1] : undefined;
  const server = id ?? `unknown:${warned.size}`;
  if (warned.has(server)) return true;
  warned.add(server);
  process.emitWarning(
    `this Redis server's maxmemory-policy is '${policy}': under memory pressure it may evict conc's keys, ` +
      'silently losing queued items, item leases (redelivering them) and lock leases (letting two holders in). ' +
      "Set 'maxmemory-policy noeviction' (CONFIG SET, redis.conf, or your provider's parameter group) on the " +
      'Redis that holds queues and locks.',
    { type: 'ConcWarning', code: 'ERR_CONC_REDIS_EVICTION' },
  );
  return true;
}
