/**
 * Python's `multiprocessing.connection.Client`: connects to a `Listener`
 * (ours or Python's) and, with an authkey, runs the handshake in the
 * client's order (answer the listener's challenge, then deliver ours).
 */
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { type ConnectionOptions, connect as connectTls } from 'node:tls';
import { resolveCodec } from '@conc/serialize';
import { checkTimeout } from '../core/deadline.js';
import { PipeTimeoutError } from '../errors.js';
import { type Address, checkAddress } from './address.js';
import {
  answerChallenge,
  authkeyBytes,
  checkDigest,
  type DigestName,
  deliverChallenge,
} from './handshake.js';
import { runHandshake, SocketHandshake } from './handshake-io.js';
import {
  resolveMaxMessageSize,
  SocketConnection,
  type SocketConnectionOptions,
} from './socket-connection.js';

const noop = () => {};

/** Options of {@link Client}. */
export interface ClientOptions extends SocketConnectionOptions {
  /**
   * The listener's authkey. With it, the listener must prove it knows the key
   * too (authentication is mutual); without it, no handshake takes place.
   * @example process.env.CONC_AUTHKEY
   */
  authkey?: Uint8Array | string;
  /** Connecting and authenticating must finish within this many milliseconds. @default 10000 */
  timeout?: number;
  /** Cancels connecting; the call rejects with `signal.reason`. @default undefined */
  signal?: AbortSignal;
  /**
   * Connect over TLS (TCP addresses only): `true` for defaults, or `node:tls`
   * connect options (`ca`, `servername`, `cert`, `key`...).
   * @default false
   * @example { ca: readFileSync('cert.pem') }
   */
  tls?: ConnectionOptions | boolean;
  /** The HMAC digest our challenge asks for. @default 'sha256' */
  digest?: DigestName;
}

/**
 * Connects to a {@link Listener} at `address` and resolves with the
 * connection, authenticated when an `authkey` is given.
 *
 * @throws `AuthenticationError` when either side refuses the other's key;
 *   `PipeTimeoutError` after `timeout`; the system error (`ECONNREFUSED`,
 *   `ENOENT`...) when nothing listens there.
 *
 * @example
 * ```ts
 * const conn = await Client<string>(listener.address, { authkey: 'secret' });
 * await conn.send('rose');
 * ```
 */
export async function Client<T = unknown>(
  address: Address,
  options: ClientOptions = {},
): Promise<SocketConnection<T>> {
  checkAddress(address, 'Client');
  const { timeout = 10_000, signal, tls } = options;
  checkTimeout('Client', timeout);
  const authkey = options.authkey === undefined ? undefined : authkeyBytes(options.authkey, 'Client');
  if (options.digest !== undefined) checkDigest(options.digest);
  resolveCodec(options.codec);
  resolveMaxMessageSize(options.maxMessageSize);
  if (tls && typeof address === 'string')
    throw new TypeError('Client: tls needs a TCP address ({ host, port })');
  signal?.throwIfAborted();

  const deadline = Date.now() + timeout;
  let socket: Socket;
  if (typeof address === 'string') {
    socket = connectTcp({ path: address });
  } else if (tls) {
    socket = connectTls({
      // SNI takes host names only (RFC 6066); an IP address is checked against the certificate without it.
      ...(isIP(address.host) === 0 ? { servername: address.host } : {}),
      ...(typeof tls === 'object' ? tls : {}),
      host: address.host,
      port: address.port,
    });
  } else {
    socket = connectTcp({ host: address.host, port: address.port });
  }
  socket.on('error', noop);
  const onAbort = () => socket.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new PipeTimeoutError(`Client: could not connect within ${timeout} ms`, timeout));
      }, timeout);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        socket.off('error', settle);
        socket.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onClose = () =>
        settle(signal?.aborted ? (signal.reason as Error) : new Error('Client: connection closed'));
      socket.once(tls ? 'secureConnect' : 'connect', () => settle());
      socket.once('error', settle);
      socket.once('close', onClose);
    });
    let leftover: Uint8Array = new Uint8Array(0);
    if (authkey) {
      const digest = options.digest;
      const io = new SocketHandshake(socket, Math.max(1, deadline - Date.now()));
      try {
        leftover = await runHandshake(io, async (channel) => {
          await answerChallenge(channel, authkey);
          await deliverChallenge(channel, authkey, digest);
        });
      } catch (err) {
        // The timeout covers connecting and authenticating: one error for both.
        if (!io.timedOut) throw err;
        throw new PipeTimeoutError(
          `Client: could not connect and authenticate within ${timeout} ms`,
          timeout,
          {
            cause: err,
          },
        );
      }
    }
    signal?.throwIfAborted();
    return new SocketConnection<T>({ socket, leftover }, true, true, {
      codec: options.codec,
      maxMessageSize: options.maxMessageSize,
    });
  } catch (err) {
    socket.destroy();
    if (signal?.aborted) throw signal.reason;
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
