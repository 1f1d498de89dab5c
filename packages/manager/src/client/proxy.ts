/**
 * The base of every proxy: one object on a manager server, reached through
 * this process's connection to it. Every method is an RPC and returns a
 * promise.
 *
 * References (Python's proxy reference counting): each proxy holds one
 * reference to its object on the server, counted against this process's
 * connection. It is dropped when the proxy is garbage-collected or when the
 * connection ends (the process exited or was killed), so the server frees
 * objects nobody refers to.
 *
 * `share(proxy)` gives a JSON-safe token; `attach(token)` in another process
 * (with `@conc/manager` imported and the authkey known there) rebuilds it. A
 * proxy inside a message through a conc Pipe is rebuilt the same way. Sharing
 * lends the token a reference on the server for a minute, so the object
 * stays alive until the receiver adopts it even if this proxy goes away.
 */
import { randomBytes } from 'node:crypto';
import { registerKind, type Shareable, shareSymbol } from '@conc/serialize';
import { checkTokenData, PROXY_KIND, type ProxyTokenData } from '../protocol.js';
import { localServers } from '../server/local.js';
import type { ObjectTable } from '../server/objects.js';
import { ManagerConnection } from './connection.js';

interface Held {
  readonly conn: ManagerConnection;
  readonly id: number;
}

const references = new FinalizationRegistry<Held>(({ conn, id }) => conn.notify('decref', [id]));

/** Proxy classes by type id; a proxy module adds its own. */
const proxyClasses = new Map<
  string,
  new (
    conn: ManagerConnection,
    data: ProxyTokenData,
    local?: ObjectTable,
  ) => BaseProxy
>();

/** @internal Registers the proxy class of a type id. */
export function defineProxy(
  typeIds: readonly string[],
  cls: new (conn: ManagerConnection, data: ProxyTokenData, local?: ObjectTable) => BaseProxy,
): void {
  for (const t of typeIds) proxyClasses.set(t, cls);
}

/** @internal Builds the proxy of an object (created here, or adopted from a token). */
export function makeProxy(conn: ManagerConnection, data: ProxyTokenData, local?: ObjectTable): BaseProxy {
  const Cls = proxyClasses.get(data.t) ?? proxyClasses.get('*');
  if (!Cls) throw new TypeError(`no proxy for manager type "${data.t}"`);
  return new Cls(conn, data, local);
}

/** What every manager proxy shares. */
export abstract class BaseProxy implements Shareable {
  /** @internal */
  readonly _conn: ManagerConnection;
  /** @internal */
  readonly _data: ProxyTokenData;
  /**
   * @internal Set when this proxy was decoded in the process that runs its
   * server (a proxy stored in a shared object): the server holds the
   * reference, and sharing it lends from the server's table directly.
   */
  readonly _local: ObjectTable | undefined;

  /** @internal Use the manager's factories (`m.dict()`...) or `attach(token)`. */
  constructor(conn: ManagerConnection, data: ProxyTokenData, local?: ObjectTable) {
    this._conn = conn;
    this._data = data;
    this._local = local;
    if (!local) references.register(this, { conn, id: data.i });
  }

  /** The object's type id on the server (`dict`, `lock`, a registered type...). */
  get typeId(): string {
    return this._data.t;
  }

  /** @internal Calls a method of the object. */
  _call<R>(method: string, args: unknown[]): Promise<R> {
    return this._conn.callQuick<R>([this._data.i, method, args]);
  }

  /**
   * @internal A call that may park on the server. With a signal, an abort
   * withdraws the waiter there; once the server answers, the call rejects with
   * `signal.reason`, and `undo` gives back whatever the server had granted
   * just before the withdrawal arrived (a lock, an item).
   */
  _wait<R>(
    method: string,
    args: unknown[],
    signal: AbortSignal | undefined,
    undo?: (granted: R) => void,
  ): Promise<R> {
    // Never batched: a parked call must not hold up the answers of quick calls sent with it.
    if (!signal) return this._conn.call<R>('c', [this._data.i, method, args]);
    if (signal.aborted) return Promise.reject(signal.reason);
    const waitId = this._conn.nextWaitId();
    const pending = this._conn.call<R>('c', [this._data.i, method, args, waitId]);
    return new Promise<R>((resolve, reject) => {
      let aborted = false;
      const onAbort = () => {
        aborted = true;
        this._conn.notify('w', [waitId]);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      pending.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          if (!aborted) return resolve(value);
          undo?.(value);
          reject(signal.reason);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(aborted ? signal.reason : err);
        },
      );
    });
  }

  [shareSymbol](): { kind: string; data: ProxyTokenData } {
    if (this._local) return { kind: PROXY_KIND, data: this._local.tokenData(this._local.get(this._data.i)) };
    const nonce = randomBytes(12).toString('base64url');
    // Sent after the encode that asked for this token, not from inside it (a send within a send).
    // Order does not matter: an adoption that outruns its lend takes its own reference, and the
    // lend then cancels itself.
    const id = this._data.i;
    queueMicrotask(() => this._conn.notify('lend', [id, nonce]));
    return { kind: PROXY_KIND, data: { ...this._data, n: nonce } };
  }
}

/**
 * Teaches `attach` (and the codecs) manager proxies (see `kinds.ts`).
 */
export function registerProxyKind(): void {
  registerKind<unknown>({
    kind: PROXY_KIND,
    attach: (raw) => {
      const data = checkTokenData(raw);
      const conn = ManagerConnection.forToken(data.a, data.s);
      // In the process that runs the server: the server holds the reference (no connection to itself).
      const local = localServers.get(data.s);
      if (local) {
        const entry = local.adopt(data.n, data.i, undefined);
        const proxy = makeProxy(conn, data, local);
        local.holdFor(proxy, entry);
        return proxy;
      }
      const proxy = makeProxy(conn, data);
      // Not from inside the decode that is reviving it: after it, before the caller's next call.
      queueMicrotask(() => conn.notify('adopt', [data.n, data.i]));
      return proxy;
    },
    Class: BaseProxy,
  });
}
