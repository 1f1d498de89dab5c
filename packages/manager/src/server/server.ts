/**
 * The manager's server: a `Listener` (authkey required), one session per
 * client connection, and the object table. Every client call is a small RPC
 * (`RpcPeer` from `@conc/pipe`): `create`, `c` (call a method of an object),
 * and notifications for references (`adopt`, `lend`, `decref`) and for
 * withdrawing a parked call (`w`).
 */
import { randomBytes } from 'node:crypto';
import type { TlsOptions } from 'node:tls';
import { type Address, Listener, type RpcHandler, RpcPeer, type SocketConnection } from '@conc/pipe';
import { errorToWire } from '@conc/serialize';
import { MethodNotExposedError } from '../errors.js';
import { isCallableName, type ProxyTokenData, type RegisteredType } from '../protocol.js';
import { localServers } from './local.js';
import { type Entry, ObjectTable } from './objects.js';
import { Session } from './session.js';
import { BUILTIN_DEFS, loadRegistered, type TypeDef } from './types/index.js';
import type { CallContext } from './waiters.js';

/** Options of {@link ManagerServer.listen} (and `Manager.serve`). */
export interface ServeOptions {
  /**
   * Where to listen: a unix socket path, or `{ host, port }` for TCP
   * (`port: 0` picks a free port). TCP hosts other than loopback are
   * reachable from other machines; use `tls` there.
   * @default a unix socket in a fresh private directory (0700)
   * @example { host: '127.0.0.1', port: 50000 }
   */
  address?: Address;
  /**
   * The key every client must prove it knows (HMAC challenge, mutual) before
   * anything it sends is decoded. Required, on unix sockets too.
   * @example randomBytes(32)
   */
  authkey: Uint8Array | string;
  /** Serve TCP over TLS with these `node:tls` server options. @default undefined (plain TCP) */
  tls?: TlsOptions;
  /** Types registered with `Manager.register` that this server makes. @default every type registered in this process */
  types?: ReadonlyMap<string, RegisteredType>;
  /** Largest message accepted from a client, in bytes. @default 64 MiB */
  maxMessageSize?: number;
  /** Told of refused connections and protocol errors (never the authkey). @default undefined (ignored) */
  onError?: (error: Error) => void;
}

/** What `info()` reports. */
export interface ServerInfo {
  readonly serverId: string;
  /** Live shared objects. */
  readonly objects: number;
  /** Connected clients. */
  readonly clients: number;
}

export class ManagerServer implements AsyncDisposable {
  readonly #listener: Listener;
  readonly #table: ObjectTable;
  readonly #types: Map<string, TypeDef>;
  readonly #sessions = new Set<Session>();
  readonly #onError: ((error: Error) => void) | undefined;
  #nextSession = 0;
  #closing: Promise<void> | undefined;

  private constructor(
    listener: Listener,
    types: Map<string, TypeDef>,
    onError: ((error: Error) => void) | undefined,
  ) {
    this.#listener = listener;
    this.#table = new ObjectTable(listener.address, randomBytes(16).toString('base64url'));
    this.#types = types;
    this.#onError = onError;
    localServers.set(this.#table.serverId, this.#table);
    void this.#acceptLoop();
  }

  /** Starts a server. Rejects without an authkey, or when the address is taken. */
  static async listen(options: ServeOptions): Promise<ManagerServer> {
    if (options?.authkey === undefined || options.authkey.length === 0) {
      throw new TypeError('Manager.serve: an authkey is required');
    }
    const types = new Map(BUILTIN_DEFS);
    for (const [typeId, def] of options.types ?? []) types.set(typeId, await loadRegistered(typeId, def));
    const listener = await Listener.listen({
      address: options.address,
      authkey: options.authkey,
      tls: options.tls,
      maxMessageSize: options.maxMessageSize,
      onError: options.onError,
    });
    return new ManagerServer(listener, types, options.onError);
  }

  get address(): Address {
    return this.#listener.address;
  }

  get serverId(): string {
    return this.#table.serverId;
  }

  info(): ServerInfo {
    return { serverId: this.#table.serverId, objects: this.#table.size, clients: this.#sessions.size };
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: SocketConnection;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // closed
      }
      this.#open(conn);
    }
  }

  #open(conn: SocketConnection): void {
    const handlers = new Map<string, RpcHandler>();
    const peer = new RpcPeer(conn, { handlers, onError: this.#onError });
    const session = new Session(++this.#nextSession, peer);
    this.#sessions.add(session);
    this.#fillHandlers(handlers, session);
    void peer.done.then(() => {
      this.#sessions.delete(session);
      session.end();
      this.#table.dropSession(session);
    });
  }

  #fillHandlers(h: Map<string, RpcHandler>, session: Session): void {
    const table = this.#table;
    h.set('c', (args) => this.#invoke(session, args));
    h.set('b', (calls) => {
      // Quick calls sent together: each answered as [1, value] or [0, error], in order.
      const out: unknown[] = new Array(calls.length);
      const waits: Promise<unknown>[] = [];
      for (let i = 0; i < calls.length; i++) {
        try {
          const call = calls[i];
          if (!Array.isArray(call)) throw new TypeError('a batched call must be an array');
          const r = this.#invoke(session, call);
          if (r instanceof Promise) {
            waits.push(
              r.then(
                (v) => {
                  out[i] = [1, v];
                },
                (e: unknown) => {
                  out[i] = [0, errorToWire(e)];
                },
              ),
            );
          } else out[i] = [1, r];
        } catch (err) {
          out[i] = [0, errorToWire(err)];
        }
      }
      return waits.length === 0 ? out : Promise.all(waits).then(() => out);
    });
    h.set('create', (args) => {
      const [typeId, createArgs] = args as [string, unknown[]];
      const def = typeof typeId === 'string' ? this.#types.get(typeId) : undefined;
      if (!def)
        throw new TypeError(
          `the manager has no type "${String(typeId)}" (register it with Manager.register before start)`,
        );
      if (!Array.isArray(createArgs)) throw new TypeError('create: arguments must be an array');
      let entry: Entry | undefined;
      const obj = def.create(createArgs, session, () => entry?.id ?? -1);
      entry = table.add(typeId, obj, def.exposed, def.builtin);
      table.increfFor(session, entry);
      return this.#describe(entry);
    });
    h.set('adopt', (args) => {
      const [nonce, id] = args as [string, number];
      if (typeof nonce === 'string') table.adopt(nonce, id, session);
    });
    h.set('lend', (args) => {
      const [id, nonce] = args as [number, string];
      if (typeof nonce === 'string' && session.refs.has(id)) table.lend(id, nonce);
    });
    h.set('decref', (args) => {
      table.decrefFor(session, args[0] as number);
    });
    h.set('w', (args) => {
      session.waits.get(args[0] as number)?.();
    });
    h.set('info', () => this.info());
  }

  /** Calls a method of an object: `[id, method, args, waitId?]`, checked against what its type exposes. */
  #invoke(session: Session, call: unknown[]): unknown {
    const [id, method, args, waitId] = call as [number, string, unknown[], number | undefined];
    const entry = this.#table.get(id);
    if (!entry.exposed.has(method) || !isCallableName(method) || !Array.isArray(args)) {
      throw new MethodNotExposedError(`${entry.typeId}.${String(method)} is not exposed to proxies`);
    }
    const fn = (entry.obj as Record<string, (...a: unknown[]) => unknown>)[method];
    if (typeof fn !== 'function')
      throw new MethodNotExposedError(`${entry.typeId}.${method} is not a method`);
    if (!entry.builtin) return fn.apply(entry.obj, args);
    const ctx: CallContext = { session, waitId: typeof waitId === 'number' ? waitId : undefined };
    return fn.call(entry.obj, ctx, ...args);
  }

  /** Token data of a new object (no lend: the creating session holds the reference). */
  #describe(entry: Entry): Omit<ProxyTokenData, 'n'> {
    return {
      a: this.#table.address,
      s: this.#table.serverId,
      i: entry.id,
      t: entry.typeId,
      ...(entry.exposedList ? { x: entry.exposedList } : {}),
    };
  }

  /** Stops listening and disconnects every client (their calls fail with ManagerUnavailableError). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      localServers.delete(this.#table.serverId);
      await this.#listener.close();
      await Promise.all([...this.#sessions].map((s) => s.peer.close()));
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
