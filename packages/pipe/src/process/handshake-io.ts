/**
 * Reads and writes handshake messages on a fresh socket, before it becomes a
 * connection. Deliberately separate from the connection's frame decoder: a
 * handshake message over 256 bytes (or a 64-bit length) is refused from its
 * header, before any payload is buffered, and bytes the peer sent after its
 * last handshake message are handed over untouched.
 */
import type { Socket } from 'node:net';
import { AuthenticationError } from '../errors.js';
import { type HandshakeIO, MAX_HANDSHAKE_MESSAGE } from './handshake.js';

const EMPTY = new Uint8Array(0);
/** Orders handshakes by when their peer last spoke: a count, not a clock. */
let activity = 0;
/**
 * Most bytes a peer may have sent that the handshake has not asked for yet:
 * one socket read (a client may follow its last handshake message with
 * payload at once) plus a handshake message. More is a flood; the socket is closed.
 */
const MAX_UNREAD = 64 * 1024 + 2 * (4 + MAX_HANDSHAKE_MESSAGE);

export class SocketHandshake implements HandshakeIO {
  readonly #socket: Socket;
  #buffer: Uint8Array = EMPTY;
  #waiter: { resolve(frame: Uint8Array): void; reject(error: unknown): void } | undefined;
  #error: Error | undefined;
  #lastHeard = ++activity;
  #timedOut = false;
  readonly #timer: NodeJS.Timeout;
  readonly #onData = (chunk: Uint8Array) => {
    this.#buffer = this.#buffer.byteLength === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (this.#buffer.byteLength > MAX_UNREAD) {
      this.#fail(new AuthenticationError('the peer sent more than the handshake allows before it finished'));
      this.#socket.destroy();
      return;
    }
    this.#deliver();
  };
  readonly #onEnd = () =>
    this.#fail(new AuthenticationError('the peer closed the connection during the handshake'));
  readonly #onError = (cause: Error) =>
    this.#fail(
      new AuthenticationError(`the connection failed during the handshake: ${cause.message}`, { cause }),
    );

  /**
   * @param timeout the whole handshake must finish within this many
   *   milliseconds, or the socket is failed (a slow or silent peer cannot hold it open).
   */
  constructor(socket: Socket, timeout: number) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onEnd);
    socket.on('error', this.#onError);
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#fail(new AuthenticationError(`the handshake did not finish within ${timeout} ms`));
      socket.destroy();
    }, timeout);
    this.#timer.unref();
  }

  /**
   * When the peer last completed a handshake message (or connected, before it
   * did): comparable between handshakes only; the smallest is the one silent longest.
   */
  get lastHeard(): number {
    return this.#lastHeard;
  }

  /** True when the handshake failed because its deadline passed. */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /**
   * Turns the peer away: fails the handshake with `error`, writes `message`
   * (a last handshake message saying why) and closes the socket at once.
   */
  refuse(message: Uint8Array, error: Error): void {
    this.#fail(error);
    this.write(message);
    // Written to the kernel already (a small write on a fresh socket); closing does not unsend it.
    this.#socket.destroy();
  }

  #fail(error: Error): void {
    if (this.#error) return;
    this.#error = error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
  }

  /** A complete message from the buffer, or undefined; fails on an over-long header. */
  #next(): Uint8Array | undefined {
    const buf = this.#buffer;
    if (buf.byteLength < 4) return undefined;
    const size = new DataView(buf.buffer, buf.byteOffset, 4).getInt32(0);
    if (size < 0 || size > MAX_HANDSHAKE_MESSAGE) {
      if (this.#error) return undefined;
      this.#fail(
        new AuthenticationError(
          `handshake message too long or malformed (declared ${size < 0 ? 'a 64-bit length' : `${size} bytes`}; at most ${MAX_HANDSHAKE_MESSAGE})`,
        ),
      );
      this.#socket.destroy();
      return undefined;
    }
    if (buf.byteLength < 4 + size) return undefined;
    const frame = buf.slice(4, 4 + size);
    this.#buffer = buf.subarray(4 + size);
    // Progress is a whole message: a peer that trickles bytes without finishing one has said nothing.
    this.#lastHeard = ++activity;
    return frame;
  }

  #deliver(): void {
    if (!this.#waiter || this.#error) return;
    const frame = this.#next();
    if (frame === undefined) return;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter.resolve(frame);
  }

  read(): Promise<Uint8Array> {
    // A message that arrived before the peer closed is still read.
    const frame = this.#next();
    if (frame !== undefined) return Promise.resolve(frame);
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  write(message: Uint8Array): void {
    if (this.#socket.destroyed || !this.#socket.writable) return;
    const frame = Buffer.allocUnsafe(4 + message.byteLength);
    frame.writeInt32BE(message.byteLength, 0);
    frame.set(message, 4);
    this.#socket.write(frame);
  }

  #detach(): void {
    clearTimeout(this.#timer);
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    this.#socket.off('error', this.#onError);
  }

  /**
   * Ends the handshake successfully: the socket is paused (so no byte is
   * lost before the connection takes over) and the bytes received after the
   * last handshake message are returned.
   */
  finish(): Uint8Array {
    this.#socket.pause();
    this.#detach();
    const rest = this.#buffer;
    this.#buffer = EMPTY;
    return rest;
  }

  /** Ends a failed handshake: the peer is told nothing more and the socket is closed once written. */
  abort(): void {
    this.#detach();
    this.#fail(new AuthenticationError('handshake aborted'));
    if (!this.#socket.destroyed) {
      this.#socket.end();
      // A peer that never reads must not keep the socket (and its memory) forever.
      setTimeout(() => this.#socket.destroy(), 1000).unref();
    }
  }
}

/**
 * Runs `steps` on a socket's handshake channel within `timeout` ms and returns
 * the bytes that followed; on failure the socket is closed and the error rethrown.
 */
export function handshake(
  socket: Socket,
  timeout: number,
  steps: (io: HandshakeIO) => Promise<void>,
): Promise<Uint8Array> {
  return runHandshake(new SocketHandshake(socket, timeout), steps);
}

/** Runs `steps` on a handshake channel made by the caller (who may refuse it meanwhile). */
export async function runHandshake(
  io: SocketHandshake,
  steps: (io: HandshakeIO) => Promise<void>,
): Promise<Uint8Array> {
  try {
    await steps(io);
  } catch (err) {
    io.abort();
    throw err;
  }
  return io.finish();
}
