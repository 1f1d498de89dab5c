/**
 * The process tier: a connection over a stream socket (unix domain socket,
 * TCP or TLS) framed as CPython's `multiprocessing.connection` frames it.
 *
 * Writing is `SocketWriter`'s (one `writev` per tick's messages). Reading:
 * every chunk goes through a `FrameDecoder` (any chunking; a malformed or
 * over-limit length closes this connection with `ProtocolError` /
 * `FrameTooLargeError`). Past a high-water mark of unread bytes the socket is
 * paused, so a slow reader pushes back on its sender as a pipe does.
 */
import type { Socket } from 'node:net';
import {
  type Codec,
  type CodecName,
  CUSTOM_CODEC_TAG,
  codecTag,
  DEFAULT_MAX_FRAME_SIZE,
  decodeMessage,
  FrameDecoder,
  getCodec,
  maxValuesFor,
  registerKind,
  resolveCodec,
  shareSymbol,
  TokenError,
} from '@conc/serialize';
import { Connection } from '../core/connection.js';
import { deferred } from '../core/deadline.js';
import { ConnectionClosedError } from '../errors.js';
import type { Address } from './address.js';
import type { Rendezvous, RendezvousData } from './rendezvous.js';
import { rendezvousFromData } from './rendezvous.js';
import { SocketWriter } from './writer.js';

/** The `share()` kind of an unconnected process pipe end. */
export const PROCESS_CONNECTION_KIND = 'pipe.process.Connection';

/** Unread bytes past which the socket stops reading until the application catches up. */
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = HIGH_WATER / 2;
/** How long a closing connection waits for the peer's end of stream before cutting the socket. */
const CLOSE_LINGER_MS = 2000;

/** Codec and size options of socket connections (pipes, `Listener`, `Client`). */
export interface SocketConnectionOptions {
  /**
   * How `send`/`recv` encode values: a codec from `@conc/serialize` or its
   * name. Each message carries a 2-byte envelope (version, codec tag), so
   * ends configured with different codecs fail with `ProtocolError` instead
   * of misreading each other. To talk to Python, use `sendBytes` /
   * `recvBytes` (Python's own `send()` pickles, which cannot be read here).
   * @default 'msgpack' (MessagePack, structured-clone mode)
   * @example { codec: 'json' }
   */
  codec?: Codec | CodecName;
  /**
   * Largest message accepted, in bytes, either way: a bigger `send` fails at
   * the sender with `FrameTooLargeError`; a peer announcing a bigger frame has
   * its connection closed before anything is allocated.
   * @default DEFAULT_MAX_FRAME_SIZE (64 MiB)
   */
  maxMessageSize?: number;
}

/** Resolves the maxMessageSize option. */
export function resolveMaxMessageSize(size: number | undefined): number {
  if (size === undefined) return DEFAULT_MAX_FRAME_SIZE;
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new RangeError(`maxMessageSize must be a positive integer of bytes (got ${String(size)})`);
  }
  return size;
}

/** The other end of a process pipe, while both ends are in this process. */
const siblings = new WeakMap<SocketConnection, SocketConnection>();

/** @internal Links the two ends of a new process pipe (see `activate`). */
export function linkPipeEnds(a: SocketConnection, b: SocketConnection): void {
  siblings.set(a, b);
  siblings.set(b, a);
}

/** @internal How a socket connection gets its socket. */
export interface SocketSource {
  /** An established (and authenticated) socket, and bytes already read from it. */
  socket?: Socket;
  leftover?: Uint8Array;
  /** Or a rendezvous that connects lazily, on first use (an unconnected process pipe end). */
  rendezvous?: Rendezvous;
}

/**
 * One end of a socket connection: what `Client()`, `Listener.accept()` and
 * `Pipe({ scope: 'process' })` return.
 *
 * An end of a process pipe connects lazily: to the other end, on first use.
 * Until then it can be handed to another process with `share(end)` (a
 * JSON-safe token: argv, env, `process.send`...) and `attach(token)` there.
 */
export class SocketConnection<T = unknown> extends Connection<T> {
  readonly #codec: Codec;
  /** The envelope tag of the codec, written before each encoded value. */
  readonly #tag: number;
  readonly #maxMessageSize: number;
  /** The decode budget: a message may not decode into more values than its size limit allows. */
  readonly #maxValues: number;
  #decoder: FrameDecoder;
  #socket: Socket | undefined;
  #rendezvous: Rendezvous | undefined;
  #connecting: Promise<void> | undefined;
  #shared = false;
  readonly #writer: SocketWriter;
  #unread = 0;
  #paused = false;
  #ref = false;
  #remote: Address | undefined;
  readonly #closed = deferred<void>();

  static {
    registerKind<SocketConnection>({
      kind: PROCESS_CONNECTION_KIND,
      attach: (data) => SocketConnection.#attach(data),
      Class: SocketConnection,
    });
  }

  /** @internal Use `Client()`, `Listener.accept()` or `Pipe({ scope: 'process' })`. */
  constructor(
    source: SocketSource,
    readable: boolean,
    writable: boolean,
    options: SocketConnectionOptions = {},
  ) {
    super(readable, writable);
    this.#codec = resolveCodec(options.codec);
    this.#tag = codecTag(this.#codec);
    this.#maxMessageSize = resolveMaxMessageSize(options.maxMessageSize);
    this.#maxValues = maxValuesFor(this.#maxMessageSize);
    this.#decoder = new FrameDecoder({ maxFrameSize: this.#maxMessageSize });
    this.#writer = new SocketWriter(this.keepAlive, this.#maxMessageSize);
    if (source.socket) this.#adopt(source.socket, source.leftover);
    else if (source.rendezvous) this.#rendezvous = source.rendezvous;
    else throw new TypeError('SocketConnection: no socket and no rendezvous');
  }

  static #attach(data: unknown): SocketConnection {
    const d = data as Partial<
      RendezvousData & { readable: boolean; writable: boolean; codec: string; max: number }
    >;
    if (typeof d !== 'object' || d === null)
      throw new TokenError('process pipe token: data is not an object');
    if (typeof d.readable !== 'boolean' || typeof d.writable !== 'boolean') {
      throw new TokenError('process pipe token: bad readable/writable flags');
    }
    if (typeof d.codec !== 'string' || typeof d.max !== 'number') {
      throw new TokenError('process pipe token: bad codec or size limit');
    }
    return new SocketConnection({ rendezvous: rendezvousFromData(d) }, d.readable, d.writable, {
      codec: getCodec(d.codec),
      maxMessageSize: d.max,
    });
  }

  /**
   * The peer's address: `{ host, port }` over TCP, `''` over a unix socket,
   * undefined while a pipe end has not connected yet.
   */
  get remoteAddress(): Address | undefined {
    return this.#remote;
  }

  /** The codec `send`/`recv` use. */
  get codec(): Codec {
    return this.#codec;
  }

  /** The largest message this connection sends or accepts, in bytes. */
  get maxMessageSize(): number {
    return this.#maxMessageSize;
  }

  /** @internal Starts connecting a pipe end on first use. */
  protected override activate(): void {
    const rendezvous = this.#rendezvous;
    if (!rendezvous || this.#connecting) return;
    rendezvous.setRef(this.#ref);
    this.#connecting = rendezvous.connect().then(
      ({ socket, leftover }) => {
        this.#rendezvous = undefined;
        if (this.closed && !this.#writer.waiting) {
          socket.destroy();
          return;
        }
        this.#adopt(socket, leftover);
      },
      (error: unknown) => {
        this.#rendezvous = undefined;
        const reason =
          error instanceof Error ? error : new ConnectionClosedError(String(error), { cause: error });
        this.#shutdown(reason, reason);
        this.#closed.resolve();
      },
    );
    // Both ends still here: they meet now (a send on one must not wait for a recv on the other).
    const sibling = siblings.get(this);
    if (sibling && !sibling.#shared && !sibling.closed) sibling.activate();
  }

  #adopt(socket: Socket, leftover: Uint8Array | undefined): void {
    this.#socket = socket;
    this.#remote =
      socket.remoteAddress && socket.remotePort !== undefined
        ? { host: socket.remoteAddress, port: socket.remotePort }
        : '';
    socket.setNoDelay?.(true);
    socket.on('error', (error: Error) => {
      const reason = new ConnectionClosedError(`the connection failed: ${error.message}`, { cause: error });
      this.#shutdown(reason, reason);
    });
    socket.on('end', () => this.#onEnd());
    socket.on('close', () => this.#onClose());
    socket.on('data', (chunk: Uint8Array) => this.#receive(chunk));
    if (leftover && leftover.byteLength > 0) this.#receive(leftover);
    // A peer may send its last messages and close right behind its handshake: the end of
    // stream (even the close) can have happened before this connection took the socket over.
    if (socket.readableEnded) this.#onEnd();
    if (socket.destroyed) this.#onClose();
    this.#writer.attach(socket);
    if (this.#ref) socket.ref();
    else socket.unref();
    socket.resume();
  }

  #onEnd(): void {
    // The decoder says whether the stream stopped inside a frame, and where.
    let cut: unknown;
    try {
      this.#decoder.end();
    } catch (err) {
      cut = err;
    }
    const reason =
      cut === undefined
        ? new ConnectionClosedError('the peer closed the connection')
        : new ConnectionClosedError('the peer closed the connection in the middle of a message', {
            cause: cut,
          });
    this.#shutdown(reason, new ConnectionClosedError('the peer closed the connection'));
  }

  #onClose(): void {
    this.#shutdown(
      new ConnectionClosedError('the connection is closed'),
      new ConnectionClosedError('the connection is closed'),
    );
    this.#closed.resolve();
  }

  #receive(chunk: Uint8Array): void {
    let frames: Uint8Array[];
    let broken: Error | undefined;
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      broken = error as Error;
      // The frames before the bad header are complete and good: they are delivered first.
      frames = ((error as { frames?: Uint8Array[] }).frames ?? []) as Uint8Array[];
    }
    for (const frame of frames) {
      this.#unread += frame.byteLength;
      this.inbox.push(frame);
    }
    if (broken) {
      // A broken length prefix: nothing after it can be trusted. Close this connection only.
      this.#shutdown(
        broken,
        new ConnectionClosedError('the connection was closed after a protocol error', { cause: broken }),
      );
      this.#socket?.destroy();
      return;
    }
    if (this.#unread > HIGH_WATER && !this.#paused && this.#socket) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  /** @internal */
  protected override onTake(message: unknown): void {
    this.#unread -= (message as Uint8Array).byteLength;
    if (this.#paused && this.#unread < LOW_WATER) {
      this.#paused = false;
      this.#socket?.resume();
    }
  }

  /** Ends receiving with `receiveReason` and sending with `sendReason`. */
  #shutdown(receiveReason: Error, sendReason: Error): void {
    this.inbox.end(receiveReason);
    this.#writer.fail(sendReason);
  }

  /** @internal */
  protected override setRef(alive: boolean): void {
    this.#ref = alive;
    if (this.#socket) {
      if (alive) this.#socket.ref();
      else this.#socket.unref();
    } else {
      this.#rendezvous?.setRef(alive);
    }
  }

  /** @internal */
  protected override sendValue(value: T): Promise<void> {
    const error = this.#writer.error;
    if (error) return Promise.reject(error);
    try {
      return this.#writer.sendValue(this.#codec, value, this.#tag);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** @internal */
  protected override sendRaw(bytes: Uint8Array): Promise<void> {
    return this.#writer.enqueue(bytes, -1);
  }

  /** @internal */
  protected override decode(message: unknown): T {
    return decodeMessage(message as Uint8Array, { codec: this.#codec, maxValues: this.#maxValues }) as T;
  }

  /** @internal */
  protected override bytesOf(message: unknown): Uint8Array {
    return message as Uint8Array;
  }

  /** @internal */
  protected override stopReading(): void {
    this.#socket?.pause();
  }

  /** @internal */
  protected override closedError(): Error {
    return this.#shared
      ? new ConnectionClosedError(
          'this end of the pipe was shared with share() and now belongs to another process',
        )
      : super.closedError();
  }

  /** @internal */
  protected override async closeTransport(): Promise<void> {
    if (this.#shared) return;
    const rendezvous = this.#rendezvous;
    if (rendezvous) {
      this.#writer.flush();
      if (!this.#writer.waiting || !this.#connecting) {
        // Not connected and nothing to deliver: give up meeting the peer (it is told).
        this.#shutdown(this.closedError(), this.closedError());
        await rendezvous.close();
        await this.#connecting;
        return;
      }
      // Sends wait for the peer: deliver them first, then close as usual. A peer that never
      // attaches its end (its process died first) must not hold close() and the process
      // forever: after the linger the pending sends are rejected and the meeting called off.
      const connecting = this.#connecting;
      let timer: NodeJS.Timeout | undefined;
      const met = await Promise.race([
        connecting.then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), CLOSE_LINGER_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!met && this.#rendezvous) {
        const reason = new ConnectionClosedError(
          'the connection was closed before the other end of the pipe was attached; unsent messages were dropped',
        );
        this.#shutdown(reason, reason);
        await rendezvous.close();
        await connecting;
        return;
      }
    }
    this.#writer.flush();
    const socket = this.#socket;
    if (!socket || socket.destroyed) return;
    const release = this.keepAlive.hold();
    // Send our end of stream after what is queued, keep reading (and dropping) until the
    // peer's, then close: closing with unread input would reset a TCP peer and lose its data.
    socket.end();
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
    try {
      await this.#closed.promise;
    } finally {
      clearTimeout(linger);
      release();
    }
  }

  /**
   * Describes this end for `share()`: only an end of `Pipe({ scope: 'process' })`
   * not yet used in this process. Afterwards it belongs to whoever attaches the token.
   * @internal
   */
  [shareSymbol](): { kind: string; data: unknown } {
    const rendezvous = this.#rendezvous;
    if (this.closed) throw new TypeError('share: this connection is closed');
    if (!rendezvous || this.#connecting) {
      throw new TypeError(
        'share: only an end of Pipe({ scope: "process" }) can be shared, before either end is used in this process',
      );
    }
    if (codecTag(this.#codec) === CUSTOM_CODEC_TAG) {
      throw new TypeError(
        'share: an end with a custom codec cannot be shared (the other process cannot look it up)',
      );
    }
    this.#shared = true;
    this.#rendezvous = undefined;
    void this.close();
    return {
      kind: PROCESS_CONNECTION_KIND,
      data: {
        ...rendezvous.toData(),
        readable: this.readable,
        writable: this.writable,
        codec: this.#codec.name,
        max: this.#maxMessageSize,
      },
    };
  }
}
