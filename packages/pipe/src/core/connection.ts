/**
 * The `Connection` every tier shares: Python's `multiprocessing.connection`
 * API with promises, timeouts in milliseconds and AbortSignals. A tier (worker
 * threads over a MessagePort, processes over a socket) supplies how messages
 * are sent, decoded and closed; the receiving logic lives here once.
 */
import { FrameTooLargeError } from '@conc/serialize';
import {
  BufferTooShortError,
  ConnectionClosedError,
  isConnectionClosedError,
  isPipeTimeoutError,
  PipeTimeoutError,
} from '../errors.js';
import { checkTimeout, type WaitOptions, waitWith } from './deadline.js';
import { Inbox } from './inbox.js';
import { KeepAlive } from './keep-alive.js';

/** Options of `recv`, `recvBytes` and `recvBytesInto`. */
export interface RecvOptions extends WaitOptions {}

/** @internal Options only this package's own layers (RPC, wait) use. */
export interface InternalRecvOptions extends RecvOptions {
  /** When false, this pending receive does not keep the process alive. @default true */
  keepAlive?: boolean;
}

/** Bytes accepted by `sendBytes` and `recvBytesInto`: any typed array, DataView, Buffer or ArrayBuffer. */
export type BytesLike = ArrayBufferView | ArrayBuffer | SharedArrayBuffer;

/** @internal Registers a readiness watcher: called when a message arrives or the stream ends. */
export const kWatch: unique symbol = Symbol('conc.pipe.watch') as never;
/** @internal True when `recv` would settle at once. */
export const kReady: unique symbol = Symbol('conc.pipe.ready') as never;
/** @internal Takes a keep-alive hold on the connection's handle. */
export const kHold: unique symbol = Symbol('conc.pipe.hold') as never;

/** A byte view over `buf`, with `offset`/`size` counted in bytes. */
export function bytesView(buf: BytesLike, what: string): Uint8Array {
  if (buf instanceof Uint8Array) return buf;
  if (ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (
    buf instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer)
  ) {
    return new Uint8Array(buf);
  }
  throw new TypeError(`${what}: expected a typed array, DataView, Buffer or ArrayBuffer`);
}

/**
 * A received message as the caller's own bytes. A socket delivers many frames
 * in one chunk, and a frame is a view into it: handed out as is, transferring
 * its `.buffer` (or writing through it) would take or change the messages
 * after it. Copied only when it shares its buffer.
 */
function own(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  return Uint8Array.prototype.slice.call(bytes);
}

function checkInteger(value: number, name: string, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what}: ${name} must be an integer >= 0 (got ${String(value)})`);
  }
}

/**
 * One end of a pipe or socket connection: Python's
 * `multiprocessing.connection.Connection`, asynchronous.
 *
 * Messages arrive whole and in order. A `recv()` waiting when the peer closes
 * or dies first receives every complete message that arrived before, then
 * rejects with {@link ConnectionClosedError}. Sends return promises that
 * resolve once the message has been handed over (to the operating system for
 * sockets, to the peer's port for threads); sends never interleave.
 *
 * @typeParam T the type of the values sent and received with `send`/`recv`.
 */
export abstract class Connection<T = unknown> implements AsyncIterable<T>, AsyncDisposable {
  #readable: boolean;
  readonly #writable: boolean;
  #closing: Promise<void> | undefined;
  /** @internal */
  protected readonly keepAlive: KeepAlive;
  /** @internal */
  protected readonly inbox: Inbox<unknown>;

  /** @internal */
  protected constructor(readable: boolean, writable: boolean) {
    if (!readable && !writable)
      throw new TypeError('Connection: at least one of readable and writable must be true');
    this.#readable = readable;
    this.#writable = writable;
    this.keepAlive = new KeepAlive((alive) => this.setRef(alive));
    this.inbox = new Inbox<unknown>(this.keepAlive, (m) => this.onTake(m));
  }

  /** @internal Makes the transport keep the process alive (true) or not (false). */
  protected abstract setRef(alive: boolean): void;
  /** @internal Sends one encoded value. */
  protected abstract sendValue(value: T): Promise<void>;
  /** @internal Sends raw bytes as one message: a private copy that fills its own ArrayBuffer. */
  protected abstract sendRaw(bytes: Uint8Array): Promise<void>;
  /** @internal Turns a received message into a value. */
  protected abstract decode(message: unknown): T;
  /** @internal The bytes of a received message. */
  protected abstract bytesOf(message: unknown): Uint8Array;
  /** @internal Closes the transport after flushing what was sent. */
  protected abstract closeTransport(): Promise<void>;
  /** @internal Called for every message taken from the inbox. */
  protected onTake(_message: unknown): void {}
  /** @internal Called before any use: lets a lazily connected end start connecting. */
  protected activate(): void {}
  /** @internal The error a call on this locally closed connection rejects with. */
  protected closedError(): Error {
    return new ConnectionClosedError('the connection is closed');
  }

  /** True once `close()` has been called on this end. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** True if this end can receive (false for the sending end of a one-way pipe). */
  get readable(): boolean {
    return this.#readable;
  }

  /** True if this end can send (false for the receiving end of a one-way pipe). */
  get writable(): boolean {
    return this.#writable;
  }

  #checkWritable(): Error | undefined {
    if (this.#closing) return this.closedError();
    if (!this.#writable) return new TypeError('this end of the pipe is read-only');
    return undefined;
  }

  #checkReadable(): Error | undefined {
    if (this.#closing) return this.closedError();
    if (!this.#readable) return new TypeError('this end of the pipe is write-only');
    return undefined;
  }

  /**
   * Sends a value, encoded with the connection's codec. A value that cannot be
   * encoded rejects with `SerializationError` naming the path to the
   * offending part, and nothing is sent. Calls made in the same tick are
   * written together.
   *
   * @returns a promise that resolves once the message has been handed over
   *   (awaiting it is how a process knows it may exit), and rejects with
   *   {@link ConnectionClosedError} when the connection is or becomes closed.
   */
  send(obj: T): Promise<void> {
    const error = this.#checkWritable();
    if (error) return Promise.reject(error);
    this.activate();
    return this.sendValue(obj);
  }

  /**
   * Sends `size` bytes of `buf` starting at byte `offset` as one message,
   * unencoded: Python's `send_bytes`, and what a Python peer reads with
   * `recv_bytes()`. The bytes are copied (or written) before the promise
   * settles, so the buffer may be reused once it resolves.
   *
   * @param offset first byte to send. @default 0
   * @param size number of bytes. @default the rest of the buffer
   */
  sendBytes(buf: BytesLike, offset = 0, size?: number): Promise<void> {
    const error = this.#checkWritable();
    if (error) return Promise.reject(error);
    let bytes: Uint8Array;
    try {
      const view = bytesView(buf, 'sendBytes');
      checkInteger(offset, 'offset', 'sendBytes');
      if (offset > view.byteLength) throw new RangeError('sendBytes: buffer length < offset');
      const count = size ?? view.byteLength - offset;
      checkInteger(count, 'size', 'sendBytes');
      if (offset + count > view.byteLength) throw new RangeError('sendBytes: buffer length < offset + size');
      // A copy of its own, taken now: the caller may reuse its buffer as soon as this returns,
      // while the bytes go out with the tick's batch. (Uint8Array's slice: a Buffer's own
      // slice() is a view.) The copy's whole ArrayBuffer is the message, so a tier may transfer it.
      bytes = Uint8Array.prototype.slice.call(view, offset, offset + count);
    } catch (err) {
      return Promise.reject(err);
    }
    this.activate();
    return this.sendRaw(bytes);
  }

  /**
   * Receives the next value. Waits for one when none is buffered.
   *
   * @throws {@link ConnectionClosedError} once the peer has closed or died and
   *   every message sent before has been received; `PipeTimeoutError` after
   *   `timeout`; `signal.reason` when aborted; `DeserializationError` for a
   *   message the codec cannot read (the connection stays usable).
   */
  recv(options?: RecvOptions): Promise<T> {
    const error = this.#checkReadable();
    if (error) return Promise.reject(error);
    this.activate();
    // The common case of a busy reader: a message is waiting. No extra promise hop.
    if (this.inbox.size > 0 && !options?.signal?.aborted) {
      try {
        return Promise.resolve(this.decode(this.inbox.shift()));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const keepAlive = (options as InternalRecvOptions | undefined)?.keepAlive ?? true;
    return this.inbox.take(options, keepAlive).then((message) => this.decode(message));
  }

  /**
   * Receives the next message as raw bytes: Python's `recv_bytes`, and what
   * reads a Python peer's `send_bytes()`.
   *
   * @param maxLength refuse longer messages: as in Python, a longer message
   *   rejects with `FrameTooLargeError` and the connection stops receiving
   *   (it is closed if it cannot send either).
   */
  async recvBytes(maxLength?: number, options?: RecvOptions): Promise<Uint8Array> {
    const error = this.#checkReadable();
    if (error) throw error;
    if (maxLength !== undefined) checkInteger(maxLength, 'maxLength', 'recvBytes');
    this.activate();
    const bytes = own(this.bytesOf(await this.inbox.take(options)));
    if (maxLength !== undefined && bytes.byteLength > maxLength) {
      this.#badMessageLength();
      throw new FrameTooLargeError(bytes.byteLength, maxLength);
    }
    return bytes;
  }

  /**
   * Receives the next message into `buf` at byte `offset` and resolves with
   * its length in bytes: Python's `recv_bytes_into`.
   *
   * @throws {@link BufferTooShortError} when the message does not fit; the
   *   message is consumed and carried by the error (`error.bytes`).
   */
  async recvBytesInto(buf: BytesLike, offset = 0, options?: RecvOptions): Promise<number> {
    const error = this.#checkReadable();
    if (error) throw error;
    const view = bytesView(buf, 'recvBytesInto');
    checkInteger(offset, 'offset', 'recvBytesInto');
    if (offset > view.byteLength) throw new RangeError('recvBytesInto: offset too large');
    this.activate();
    const bytes = this.bytesOf(await this.inbox.take(options));
    const available = view.byteLength - offset;
    if (bytes.byteLength > available) throw new BufferTooShortError(own(bytes), available);
    view.set(bytes, offset);
    return bytes.byteLength;
  }

  /**
   * Whether a message (or the end of the stream) is ready to be received,
   * waiting up to `timeout` milliseconds for one: Python's `poll`. It resolves
   * `true` when the peer has closed, so that the next `recv` reports it.
   *
   * @param timeout milliseconds to wait; `0` looks once (after letting pending
   *   I/O land), `Infinity` waits without limit. @default 0
   */
  async poll(timeout = 0, options?: { signal?: AbortSignal }): Promise<boolean> {
    const error = this.#checkReadable();
    if (error) throw error;
    checkTimeout('poll', timeout);
    this.activate();
    if (this.inbox.ready) return true;
    if (timeout === 0) {
      // Let I/O that already reached this process be read before answering.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return this.inbox.ready;
    }
    return waitWith<boolean>(
      'poll',
      { timeout, signal: options?.signal },
      (ms) => new PipeTimeoutError(`poll: nothing within ${ms} ms`, ms),
      (resolve) => {
        const stop = this.inbox.watch(() => {
          stop();
          resolve(true);
        });
        return stop;
      },
    ).catch((err: unknown) => {
      if (isPipeTimeoutError(err)) return false;
      throw err;
    });
  }

  /**
   * Closes this end. Messages already sent are still delivered (a socket is
   * flushed, then shut down); pending and later receives on this end reject
   * with {@link ConnectionClosedError}; the peer's receives reject with it
   * after draining what it has. Idempotent.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      this.inbox.end(this.closedError());
      this.inbox.clear();
      this.#closing = this.closeTransport();
    }
    return this.#closing;
  }

  /** Same as {@link close}, for `await using conn = ...`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Receives values until the peer closes: `for await (const msg of conn)`.
   * The loop ends normally on {@link ConnectionClosedError}; other errors are thrown.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      let value: T;
      try {
        value = await this.recv();
      } catch (err) {
        if (isConnectionClosedError(err)) return;
        throw err;
      }
      yield value;
    }
  }

  /** @internal */
  [kWatch](fn: () => void, keepAlive = true): () => void {
    this.activate();
    return this.inbox.watch(fn, keepAlive);
  }

  /** @internal */
  [kReady](): boolean {
    return this.#closing !== undefined || this.inbox.ready;
  }

  /** @internal */
  [kHold](): () => void {
    return this.keepAlive.hold();
  }

  /** Python's `_bad_message_length`: stop reading; close if this end cannot send either. */
  #badMessageLength(): void {
    if (this.#writable) {
      this.#readable = false;
      this.inbox.end(
        new ConnectionClosedError('the connection stopped receiving after an over-long message'),
      );
      this.inbox.clear();
      this.stopReading();
    } else {
      void this.close();
    }
  }

  /** @internal Stops reading from the transport (after a bad message length). */
  protected stopReading(): void {}
}
