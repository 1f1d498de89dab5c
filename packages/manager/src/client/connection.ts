/**
 * A client's one connection to a manager server, shared by every proxy of
 * that server in this process. It connects lazily when a proxy arrives in a
 * token (attach is synchronous; the first call waits for the connection),
 * and turns a lost connection into {@link ManagerUnavailableError} for every
 * pending and later call.
 */
import type { ConnectionOptions } from 'node:tls';
import { type Address, Client, isConnectionClosedError, type RpcHandler, RpcPeer } from '@conc/pipe';
import { errorFromWire, isWireError } from '@conc/serialize';
import { ManagerUnavailableError } from '../errors.js';
import { authkeyFor, rememberAuthkey } from './authkey.js';

/** Options of a client connection. */
export interface ConnectOptions {
  /** The server's authkey. */
  authkey: Uint8Array;
  /** Connect over TLS (TCP only). @default false */
  tls?: ConnectionOptions | boolean;
  /** Connecting must finish within this many milliseconds. @default 10000 */
  timeout?: number;
}

const connections = new Map<string, ManagerConnection>();

interface Queued {
  readonly call: unknown[];
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class ManagerConnection {
  readonly address: Address;
  /** Set once known (after the first answer for a connection made with `connect`). */
  serverId: string;
  /** Barrier actions of barriers created here, by object id: the server asks us to run them. */
  readonly barrierActions = new Map<number, () => unknown>();
  #peer: RpcPeer | undefined;
  #connect: (() => Promise<RpcPeer>) | undefined;
  #readyPromise: Promise<RpcPeer> | undefined;
  #lost: ManagerUnavailableError | undefined;
  #nextWait = 0;
  /** Quick calls made in this tick, sent together at its end. */
  #batch: Queued[] | undefined;
  readonly #flushBatch = () => this.#flush();

  private constructor(address: Address, serverId: string, connect: () => Promise<RpcPeer>) {
    this.address = address;
    this.serverId = serverId;
    this.#connect = connect;
  }

  /** The peer, connecting on first use: a token attached but never called on costs no connection. */
  get #ready(): Promise<RpcPeer> {
    if (this.#readyPromise) return this.#readyPromise;
    const connect = this.#connect as () => Promise<RpcPeer>;
    this.#connect = undefined;
    const address = this.address;
    this.#readyPromise = connect().then(
      (peer) => {
        this.#peer = peer;
        void peer.done.then((reason) => {
          this.#lost = new ManagerUnavailableError(
            `the manager at ${describe(address)} is unavailable: ${reason.message}`,
            { cause: reason },
          );
          if (connections.get(this.serverId) === this) connections.delete(this.serverId);
        });
        return peer;
      },
      (err: unknown) => {
        this.#lost = unavailable(address, err);
        if (connections.get(this.serverId) === this) connections.delete(this.serverId);
        throw this.#lost;
      },
    );
    // A connection nobody awaits must not report an unhandled rejection.
    this.#readyPromise.catch(() => {});
    return this.#readyPromise;
  }

  /** Opens a connection (Manager.start / Manager.connect). */
  static async open(address: Address, options: ConnectOptions): Promise<ManagerConnection> {
    const connecting = connectPeer(address, options, () => conn);
    const conn: ManagerConnection = new ManagerConnection(address, '', () => connecting);
    // The caller sees the real cause (AuthenticationError, ECONNREFUSED...).
    const peer = await connecting;
    await conn.#ready;
    const info = (await peer.call('info', [])) as { serverId: string };
    conn.serverId = info.serverId;
    rememberAuthkey(info.serverId, options.authkey);
    if (!connections.has(info.serverId)) connections.set(info.serverId, conn);
    return conn;
  }

  /** The connection of this process to the server a token names, opened on first use. */
  static forToken(address: Address, serverId: string): ManagerConnection {
    const existing = connections.get(serverId);
    if (existing && !existing.#lost) return existing;
    const conn: ManagerConnection = new ManagerConnection(address, serverId, () => {
      // Looked up when the first call needs it: a key set after attach() still counts.
      const authkey = authkeyFor(serverId);
      if (authkey) return connectPeer(address, { authkey }, () => conn);
      return Promise.reject(
        new ManagerUnavailableError(
          "cannot attach a manager proxy: this process does not know the manager's authkey " +
            '(set CONC_MANAGER_AUTHKEY, call Manager.setDefaultAuthkey(key), or Manager.connect first)',
        ),
      );
    });
    connections.set(serverId, conn);
    return conn;
  }

  get closed(): boolean {
    return this.#lost !== undefined;
  }

  nextWaitId(): number {
    return ++this.#nextWait;
  }

  /**
   * Calls a method of an object that answers at once (never parks on the
   * server). The quick calls made in one tick travel as one message and come
   * back as one: many calls in flight cost one write each way, not one per
   * call. Calls that may wait are never batched, so a parked call cannot hold
   * up the answers of others.
   */
  callQuick<R>(call: unknown[]): Promise<R> {
    if (this.#lost) return Promise.reject(this.#lost);
    let batch = this.#batch;
    if (!batch) {
      batch = [];
      this.#batch = batch;
      queueMicrotask(this.#flushBatch);
    }
    const queued = batch;
    return new Promise<R>((resolve, reject) => {
      queued.push({ call, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (!batch || batch.length === 0) return;
    if (batch.length === 1) {
      const only = batch[0] as Queued;
      this.call('c', only.call).then(only.resolve, only.reject);
      return;
    }
    this.call<unknown[]>(
      'b',
      batch.map((q) => q.call),
    ).then(
      (results) => {
        for (let i = 0; i < batch.length; i++) {
          const q = batch[i] as Queued;
          const r = Array.isArray(results) ? (results[i] as [number, unknown] | undefined) : undefined;
          if (r?.[0] === 1) q.resolve(r[1]);
          else if (r && isWireError(r[1])) q.reject(errorFromWire(r[1]));
          else q.reject(new TypeError('the manager sent a malformed batch answer'));
        }
      },
      (err: unknown) => {
        for (const q of batch) q.reject(err);
      },
    );
  }

  /** Calls a server method; a lost connection becomes ManagerUnavailableError. */
  call<R>(method: string, args: unknown[]): Promise<R> {
    // Quick calls made before this one go first: calls reach the server in the order they were made.
    if (this.#batch) this.#flush();
    if (this.#lost) return Promise.reject(this.#lost);
    const peer = this.#peer;
    const p = peer ? peer.call<R>(method, args) : this.#ready.then((pr) => pr.call<R>(method, args));
    return p.catch((err: unknown) => {
      throw this.#translate(err);
    });
  }

  /** Sends a notification; failures are ignored (the connection's end reports itself). */
  notify(method: string, args: unknown[]): void {
    if (this.#lost) return;
    const peer = this.#peer;
    if (peer) peer.notify(method, args).catch(() => {});
    else this.#ready.then((pr) => pr.notify(method, args)).catch(() => {});
  }

  #translate(err: unknown): unknown {
    if (isConnectionClosedError(err)) {
      return (
        this.#lost ??
        new ManagerUnavailableError(`the manager at ${describe(this.address)} is unavailable`, { cause: err })
      );
    }
    return err;
  }

  async close(): Promise<void> {
    if (connections.get(this.serverId) === this) connections.delete(this.serverId);
    if (!this.#readyPromise) return;
    const peer = await this.#readyPromise.catch(() => undefined);
    await peer?.close();
  }
}

function connectPeer(
  address: Address,
  options: ConnectOptions,
  self: () => ManagerConnection,
): Promise<RpcPeer> {
  return Client(address, { authkey: options.authkey, tls: options.tls, timeout: options.timeout }).then(
    (conn) => {
      const handlers = new Map<string, RpcHandler>([
        [
          'barrierAction',
          async ([id]) => {
            const action = self().barrierActions.get(id as number);
            if (!action) throw new Error('no barrier action here');
            await action();
          },
        ],
      ]);
      return new RpcPeer(conn, { handlers });
    },
  );
}

function describe(address: Address): string {
  return typeof address === 'string' ? address : `${address.host}:${address.port}`;
}

function unavailable(address: Address, err: unknown): ManagerUnavailableError {
  if (err instanceof ManagerUnavailableError) return err;
  return new ManagerUnavailableError(
    `cannot reach the manager at ${describe(address)}: ${(err as Error)?.message ?? String(err)}`,
    {
      cause: err,
    },
  );
}
