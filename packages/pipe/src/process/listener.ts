/**
 * Python's `multiprocessing.connection.Listener`: accepts authenticated
 * socket connections on a unix socket or TCP (optionally TLS).
 *
 * Handshakes run concurrently as clients arrive, each under its own
 * deadline, so a slow or silent client cannot hold up the others; a client
 * that fails is closed and reported to `onError`, never to `accept()`.
 *
 * At the limit of handshakes in progress, a new client makes room rather than
 * being turned away: the pending client that has gone longest without
 * completing a handshake message (counted from its last one, or its arrival)
 * is told it is refused and closed. A real client answers each handshake step
 * within a round trip, so it is never the one silent longest for long; a flood
 * of connections that say nothing, or trickle part of a message and stall,
 * only displaces itself. Refusals are counted by reason
 * (`refusals`) and reported to `onError`.
 */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { resolveCodec } from '@conc/serialize';
import type { WaitOptions } from '../core/deadline.js';
import { Inbox } from '../core/inbox.js';
import { KeepAlive } from '../core/keep-alive.js';
import { ConnectionClosedError, ListenerBusyError } from '../errors.js';
import {
  type Address,
  checkAddress,
  isLoopback,
  type ListenAddress,
  type TcpAddress,
  withDefaultHost,
} from './address.js';
import {
  answerChallenge,
  authkeyBytes,
  busyMessage,
  checkDigest,
  type DigestName,
  deliverChallenge,
} from './handshake.js';
import { runHandshake, SocketHandshake } from './handshake-io.js';
import { freshPrivateDir, removeDir, removeOnExit } from './private-dir.js';
import {
  resolveMaxMessageSize,
  SocketConnection,
  type SocketConnectionOptions,
} from './socket-connection.js';

/** Defaults of {@link ListenerOptions.handshakeTimeout} and {@link ListenerOptions.maxPendingHandshakes}. */
const HANDSHAKE_TIMEOUT = 5000;
const MAX_PENDING_HANDSHAKES = 64;

/** What a listener puts in the private directory it makes: removal takes this and nothing else. */
const LISTENER_ENTRIES = ['listener.sock'] as const;

const noop = () => {};
const EMPTY = new Uint8Array(0);

/** Options of {@link Listener.listen}. */
export interface ListenerOptions extends SocketConnectionOptions {
  /**
   * Where to listen: a unix socket path, or `{ host, port }` for TCP
   * (`port: 0` picks a free port; read it back from `listener.address`).
   * `{ port }` without a host listens on loopback (`127.0.0.1`).
   * Without an address, a unix socket in a fresh private directory (0700), removed on close.
   * A TCP host other than loopback requires an `authkey`.
   * @default a fresh private unix socket
   * @example { host: '127.0.0.1', port: 0 }
   */
  address?: ListenAddress;
  /**
   * Every client must prove it knows this key (CPython's HMAC challenge,
   * mutual) before anything it sends is decoded. Without one, clients are not
   * authenticated (only allowed on unix sockets and loopback TCP).
   * @default undefined (no authentication)
   * @example randomBytes(32)
   */
  authkey?: Uint8Array | string;
  /** The `listen()` backlog. @default 128 */
  backlog?: number;
  /**
   * Serve TCP over TLS with these `node:tls` server options (`key`, `cert`,
   * `ca`, `requestCert`...). The authkey handshake then runs inside TLS.
   * @default undefined (plain TCP)
   * @example { key: readFileSync('key.pem'), cert: readFileSync('cert.pem') }
   */
  tls?: TlsOptions;
  /** A client must finish the handshake within this many milliseconds. @default 5000 */
  handshakeTimeout?: number;
  /**
   * At most this many handshakes run at once. A client arriving at the limit
   * makes room: the pending client that has gone longest without completing
   * a handshake message (since its last one, or its arrival) is closed, told why (`Client()` rejects with `ListenerBusyError`),
   * reported to `onError` and counted in `refusals.busy`.
   * @default 64
   */
  maxPendingHandshakes?: number;
  /** The HMAC digest our challenges ask for (Python 3.11 clients answer with MD5 regardless). @default 'sha256' */
  digest?: DigestName;
  /**
   * Told of every client refused (failed authentication, handshake deadline,
   * `ListenerBusyError` when closed to make room, TLS error) and of server
   * errors; they never reach `accept()`. `listener.refusals` counts them.
   * @default undefined (ignored)
   * @example (err) => logger.warn(err.message)
   */
  onError?: (error: Error) => void;
}

/** How many clients a listener turned away since it started, by reason. */
export interface ListenerRefusals {
  /** Closed to make room at the `maxPendingHandshakes` limit (the client was told: `ListenerBusyError`). */
  readonly busy: number;
  /** Did not finish the handshake within `handshakeTimeout`. */
  readonly deadline: number;
  /** Failed the handshake: a wrong key, or not speaking the protocol. */
  readonly authentication: number;
}

/**
 * Accepts connections from `Client()`s, ours or Python's.
 *
 * Like every handle in this package, a listener keeps the process alive only
 * while an `accept()` waits.
 *
 * @example
 * ```ts
 * await using listener = await Listener.listen({ authkey: 'secret' });
 * const conn = await listener.accept();
 * console.log(await conn.recv());
 * ```
 */
export class Listener implements AsyncIterable<SocketConnection>, AsyncDisposable {
  readonly #server: Server;
  readonly #address: Address;
  readonly #ownDir: string | undefined;
  readonly #authkey: Uint8Array | undefined;
  readonly #options: ListenerOptions;
  readonly #accepted: Inbox<SocketConnection>;
  /** Handshakes in progress. */
  readonly #handshaking = new Map<Socket, SocketHandshake>();
  readonly #refusals = { busy: 0, deadline: 0, authentication: 0 };
  #lastAccepted: Address | undefined;
  #closing: Promise<void> | undefined;

  private constructor(
    server: Server,
    address: Address,
    ownDir: string | undefined,
    authkey: Uint8Array | undefined,
    options: ListenerOptions,
  ) {
    this.#server = server;
    this.#address = address;
    this.#ownDir = ownDir;
    this.#authkey = authkey;
    this.#options = options;
    const keepAlive = new KeepAlive((alive) => {
      if (alive) server.ref();
      else server.unref();
    });
    this.#accepted = new Inbox<SocketConnection>(keepAlive);
    server.unref();
  }

  /**
   * Starts listening. Rejects for a bad option combination (TLS on a unix
   * socket, a public TCP host without an authkey) or when the address is taken.
   */
  static async listen(options: ListenerOptions = {}): Promise<Listener> {
    const {
      tls,
      backlog = 128,
      handshakeTimeout = HANDSHAKE_TIMEOUT,
      maxPendingHandshakes = MAX_PENDING_HANDSHAKES,
    } = options;
    const address = options.address === undefined ? undefined : withDefaultHost(options.address);
    if (address !== undefined) checkAddress(address, 'Listener.listen');
    const authkey =
      options.authkey === undefined ? undefined : authkeyBytes(options.authkey, 'Listener.listen');
    if (options.digest !== undefined) checkDigest(options.digest);
    resolveCodec(options.codec);
    resolveMaxMessageSize(options.maxMessageSize);
    if (!Number.isSafeInteger(backlog) || backlog < 1)
      throw new RangeError('Listener.listen: backlog must be >= 1');
    if (!(handshakeTimeout > 0)) throw new RangeError('Listener.listen: handshakeTimeout must be > 0');
    if (!Number.isSafeInteger(maxPendingHandshakes) || maxPendingHandshakes < 1) {
      throw new RangeError('Listener.listen: maxPendingHandshakes must be >= 1');
    }
    const tcp = typeof address === 'object';
    if (tls && !tcp) throw new TypeError('Listener.listen: tls needs a TCP address ({ host, port })');
    if (tcp && !isLoopback(address.host) && !authkey) {
      throw new TypeError(
        `Listener.listen: refusing to listen on ${address.host} (reachable from other machines) without an authkey`,
      );
    }

    let ownDir: string | undefined;
    let path: string | undefined;
    if (address === undefined) {
      ownDir = await freshPrivateDir();
      removeOnExit(ownDir, LISTENER_ENTRIES);
      path = join(ownDir, LISTENER_ENTRIES[0]);
    } else if (!tcp) {
      path = address;
    }
    const server = tls ? createTlsServer(tls) : createTcpServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        const done = () => {
          server.off('error', reject);
          resolve();
        };
        if (path !== undefined) server.listen({ path, backlog }, done);
        else
          server.listen(
            { host: (address as TcpAddress).host, port: (address as TcpAddress).port, backlog },
            done,
          );
      });
    } catch (err) {
      server.close();
      if (ownDir) await removeDir(ownDir, LISTENER_ENTRIES);
      throw err;
    }
    let bound: Address;
    if (path !== undefined) {
      bound = path;
    } else {
      const info = server.address();
      bound =
        typeof info === 'object' && info !== null
          ? { host: info.address, port: info.port }
          : { host: (address as TcpAddress).host, port: (address as TcpAddress).port };
    }
    const listener = new Listener(server, bound, ownDir, authkey, {
      ...options,
      authkey: undefined, // held once, as bytes, in #authkey
      handshakeTimeout,
      maxPendingHandshakes,
    });
    server.on('error', (err: Error) => listener.#report(err));
    if (tls) {
      server.on('secureConnection', (socket: Socket) => listener.#onSocket(socket));
      server.on('tlsClientError', (err: Error) => listener.#report(err));
    } else {
      server.on('connection', (socket: Socket) => listener.#onSocket(socket));
    }
    return listener;
  }

  /** Where the listener listens: the socket path, or `{ host, port }` with the actual port. */
  get address(): Address {
    return this.#address;
  }

  /** The peer address of the last connection `accept()` returned (`''` for unix sockets), as in Python. */
  get lastAccepted(): Address | undefined {
    return this.#lastAccepted;
  }

  /**
   * How many clients this listener turned away, by reason (a snapshot). Each
   * was also given to `onError`. A growing `busy` count means more clients
   * are connecting without authenticating than `maxPendingHandshakes` holds.
   */
  get refusals(): ListenerRefusals {
    return { ...this.#refusals };
  }

  /** True once `close()` has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  #report(error: Error): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // A throwing error callback must not take the listener down.
    }
  }

  #onSocket(socket: Socket): void {
    socket.on('error', noop);
    if (this.#closing) {
      socket.destroy();
      return;
    }
    socket.unref();
    const authkey = this.#authkey;
    if (!authkey) {
      this.#queue(socket, EMPTY);
      return;
    }
    const { handshakeTimeout = HANDSHAKE_TIMEOUT, digest } = this.#options;
    this.#makeRoom();
    const io = new SocketHandshake(socket, handshakeTimeout);
    this.#handshaking.set(socket, io);
    runHandshake(io, async (channel) => {
      await deliverChallenge(channel, authkey, digest);
      await answerChallenge(channel, authkey);
    }).then(
      (leftover) => {
        this.#handshaking.delete(socket);
        if (this.#closing) socket.destroy();
        else this.#queue(socket, leftover);
      },
      (err: Error) => {
        this.#handshaking.delete(socket);
        if (this.#closing) return;
        if (err instanceof ListenerBusyError) this.#refusals.busy++;
        else if (io.timedOut) this.#refusals.deadline++;
        else this.#refusals.authentication++;
        this.#report(err);
      },
    );
  }

  /** At the limit, closes the pending client that has been silent longest, telling it why. */
  #makeRoom(): void {
    const { maxPendingHandshakes = MAX_PENDING_HANDSHAKES } = this.#options;
    if (this.#handshaking.size < maxPendingHandshakes) return;
    let victim: [Socket, SocketHandshake] | undefined;
    for (const entry of this.#handshaking) {
      if (!victim || entry[1].lastHeard < victim[1].lastHeard) victim = entry;
    }
    if (!victim) return;
    const [socket, io] = victim;
    this.#handshaking.delete(socket);
    const limit = `${maxPendingHandshakes} handshakes were in progress (maxPendingHandshakes)`;
    io.refuse(
      busyMessage(`busy: ${limit}; this connection had been silent longest and was closed to make room`),
      new ListenerBusyError(
        `refused a client to make room: ${limit}; closed the one silent longest (a flood of connections that never authenticate?)`,
      ),
    );
  }

  #queue(socket: Socket, leftover: Uint8Array): void {
    const { codec, maxMessageSize } = this.#options;
    this.#accepted.push(new SocketConnection({ socket, leftover }, true, true, { codec, maxMessageSize }));
  }

  /**
   * The next authenticated connection, waiting for one.
   *
   * @throws {@link ConnectionClosedError} once the listener is closed;
   *   `PipeTimeoutError` after `timeout`; `signal.reason` when aborted.
   */
  async accept(options?: WaitOptions): Promise<SocketConnection> {
    if (this.#closing) throw new ConnectionClosedError('the listener is closed');
    const conn = await this.#accepted.take(options, true, 'accept');
    this.#lastAccepted = conn.remoteAddress;
    return conn;
  }

  /**
   * Stops listening: pending `accept()`s reject with
   * {@link ConnectionClosedError}, clients not yet accepted are closed, the
   * private directory (if the listener made one) is removed. Connections
   * already accepted stay open. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#accepted.end(new ConnectionClosedError('the listener is closed'));
    const unaccepted: SocketConnection[] = [];
    while (this.#accepted.size > 0) unaccepted.push(this.#accepted.shift());
    for (const socket of this.#handshaking.keys()) socket.destroy();
    this.#handshaking.clear();
    // Only the listening handle: its close callback would also wait for accepted connections.
    this.#server.close();
    await Promise.all(unaccepted.map((conn) => conn.close()));
    if (this.#ownDir) await removeDir(this.#ownDir, LISTENER_ENTRIES);
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Accepts connections until the listener is closed: `for await (const conn of listener)`. */
  async *[Symbol.asyncIterator](): AsyncIterator<SocketConnection> {
    for (;;) {
      let conn: SocketConnection;
      try {
        conn = await this.accept();
      } catch (err) {
        if (this.#closing) return;
        throw err;
      }
      yield conn;
    }
  }
}
