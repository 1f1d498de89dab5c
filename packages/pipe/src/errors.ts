/**
 * Errors of `@conc/pipe`. Each has a stable `name` and `code`, survives
 * crossing a thread or process boundary (`errorToWire` / `errorFromWire`), and
 * is recognised with its `isXxxError` guard rather than `instanceof` alone.
 */
import { ConcError, type ConcErrorOptions, defineConcError, errorGuard } from '@conc/serialize';

/**
 * The connection is closed: closed locally, closed by the peer, or the peer
 * died. A `recv()` rejects with it only after every complete message that
 * arrived before the close has been returned; a `send()` rejects with it at
 * once. `cause` holds the socket error, when there was one.
 */
export class ConnectionClosedError extends ConcError {
  static {
    defineConcError(this, 'ConnectionClosedError', 'ERR_CONC_CONNECTION_CLOSED');
  }
}

/**
 * The authkey handshake failed: the peer's digest was wrong, it refused ours,
 * it broke the handshake protocol, or it did not finish within the handshake
 * deadline. Raised on both sides of a failed handshake.
 */
export class AuthenticationError extends ConcError {
  static {
    defineConcError(this, 'AuthenticationError', 'ERR_CONC_AUTHENTICATION');
  }
}

/**
 * A `Listener` turned the connection away because it was busy: it was
 * handling its limit of handshakes at once (`maxPendingHandshakes`) and
 * closed the connection that had been waiting longest without a word from
 * its client. Raised by `Client()` on the refused side (the listener says so
 * before it closes), and given to the listener's `onError` for each refusal.
 * Retrying later is reasonable; many of them mean the listener is being
 * flooded with connections that never authenticate.
 */
export class ListenerBusyError extends ConcError {
  static {
    defineConcError(this, 'ListenerBusyError', 'ERR_CONC_LISTENER_BUSY');
  }
}

/**
 * `recvBytesInto()` received a message longer than the space left in the
 * buffer. As in Python, the message is consumed and carried by the error, so
 * nothing is lost.
 */
export class BufferTooShortError extends ConcError {
  /** The whole message that did not fit. */
  readonly bytes: Uint8Array;
  /** Its length in bytes. */
  readonly size: number;
  /** The room the buffer had after the offset, in bytes. */
  readonly available: number;
  constructor(bytes: Uint8Array, available: number, options?: ConcErrorOptions) {
    super(`message of ${bytes.byteLength} bytes does not fit in the ${available} bytes available`, options);
    this.bytes = bytes;
    this.size = bytes.byteLength;
    this.available = available;
  }
  static {
    defineConcError(this, 'BufferTooShortError', 'ERR_CONC_BUFFER_TOO_SHORT');
  }
}

/** A `recv`, `accept`, `Client()` connection or RPC call did not finish within its timeout. */
export class PipeTimeoutError extends ConcError {
  /** The timeout that expired, in milliseconds. */
  readonly timeout: number;
  constructor(message: string, timeout: number, options?: ConcErrorOptions) {
    super(message, options);
    this.timeout = timeout;
  }
  static {
    defineConcError(this, 'PipeTimeoutError', 'ERR_CONC_PIPE_TIMEOUT');
  }
}

/** An RPC peer was asked to run a method it does not expose (including `__proto__`, `constructor`...). */
export class UnknownMethodError extends ConcError {
  /** The method name that was refused. */
  readonly method: string;
  constructor(method: string, options?: ConcErrorOptions) {
    super(`no such remote method: ${JSON.stringify(method)}`, options);
    this.method = method;
  }
  static {
    defineConcError(this, 'UnknownMethodError', 'ERR_CONC_UNKNOWN_METHOD');
  }
}

/** True for a {@link ConnectionClosedError} from any thread, process or copy of this package. */
export const isConnectionClosedError = errorGuard(ConnectionClosedError);
/** True for an {@link AuthenticationError} from any thread, process or copy of this package. */
export const isAuthenticationError = errorGuard(AuthenticationError);
/** True for a {@link ListenerBusyError} from any thread, process or copy of this package. */
export const isListenerBusyError = errorGuard(ListenerBusyError);
/** True for a {@link BufferTooShortError} from any thread, process or copy of this package. */
export const isBufferTooShortError = errorGuard(BufferTooShortError);
/** True for a {@link PipeTimeoutError} from any thread, process or copy of this package. */
export const isPipeTimeoutError = errorGuard(PipeTimeoutError);
/** True for an {@link UnknownMethodError} from any thread, process or copy of this package. */
export const isUnknownMethodError = errorGuard(UnknownMethodError);
