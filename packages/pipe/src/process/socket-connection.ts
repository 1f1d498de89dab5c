/**
 * The process tier: a connection over a stream socket (unix domain socket,
 * TCP or TLS) framed as CPython's `multiprocessing.connection` frames it.
 *
 * Writing: frames sent in the same tick are gathered and written with one
 * `writev` (small ones copied into one buffer, big ones passed as they are),
 * which is what makes many small sends cheap; a batch's promise resolves in
 * the write callback, once the bytes are with the operating system. Reading:
 * every chunk goes through a `FrameDecoder` (any chunking; a malformed or
 * over-limit length closes this connection with `ProtocolError` /
 * `FrameTooLargeError`). Past a high-water mark of unread bytes the socket is
 * paused, so a slow reader pushes back on its sender as a pipe does.
 */
import type { Socket } from 'node:net';
import {
  type Codec,
  type CodecName,
  codecTag,
  DEFAULT_MAX_FRAME_SIZE,
  decodeMessage,
  FrameDecoder,
  FrameTooLargeError,
  getCodec,
  registerKind,
  resolveCodec,
  shareSymbol,
  TokenError,
} from '@conc/serialize';
import { Connection } from '../core/connection.js';
import { type Deferred, deferred } from '../core/deadline.js';
import { ConnectionClosedError } from '../errors.js';
import type { Address } from './address.js';
import { Batch } from './gather.js';
import type { Rendezvous, RendezvousData } from './rendezvous.js';
import { rendezvousFromData } from './rendezvous.js';

/** The `share()` kind of an unconnected process pipe end. */
export const PROCESS_CONNECTION_KIND = 'pipe.process.Connection';

/** Unread bytes past which the socket stops reading until the application catches up. */
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = HIGH_WATER / 2;
/** How long a closing connection waits for the peer's end of stream before cutting the socket. */
const CLOSE_LINGER_MS = 2000;

const noop = () => {};

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

interface Outgoing {
  batch: Batch;
  done: Deferred<void>;
  /** Keeps the process alive while the batch waits for its socket. */
  release?: () => void;
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
  #decoder: FrameDecoder;
  #socket: Socket | undefined;
  #rendezvous: Rendezvous | undefined;
  #connecting: Promise<void> | undefined;
  #shared = false;
  /** Batches sent before the socket exists (a pipe end still connecting). */
  #waiting: Outgoing[] = [];
  #out: Outgoing | undefined;
  /** Set once sends can no longer succeed. */
  #sendError: Error | undefined;
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
    this.#decoder = new FrameDecoder({ maxFrameSize: this.#maxMessageSize });
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
        if (this.closed && this.#waiting.length === 0) {
          socket.destroy();
          return;
        }
        this.#adopt(socket, leftover);
        const waiting = this.#waiting;
        this.#waiting = [];
        for (const out of waiting) this.#write(out);
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
    socket.on('end', () => {
      const partial = this.#decoder.buffered > 0;
      const reason = new ConnectionClosedError(
        partial
          ? 'the peer closed the connection in the middle of a message'
          : 'the peer closed the connection',
      );
      this.#shutdown(reason, new ConnectionClosedError('the peer closed the connection'));
    });
    socket.on('close', () => {
      this.#shutdown(
        new ConnectionClosedError('the connection is closed'),
        new ConnectionClosedError('the connection is closed'),
      );
      this.#closed.resolve();
    });
    socket.on('data', (chunk: Uint8Array) => this.#receive(chunk));
    if (leftover && leftover.byteLength > 0) this.#receive(leftover);
    if (this.#ref) socket.ref();
    else socket.unref();
    socket.resume();
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

  /** Ends receiving with `receiveReason` and sending with `sendReason`; fails unsent batches. */
  #shutdown(receiveReason: Error, sendReason: Error): void {
    this.inbox.end(receiveReason);
    this.#sendError ??= sendReason;
    const pending = [...this.#waiting, ...(this.#out ? [this.#out] : [])];
    this.#waiting = [];
    this.#out = undefined;
    for (const out of pending) {
      out.release?.();
      out.done.reject(this.#sendError);
    }
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
    if (this.#sendError) return Promise.reject(this.#sendError);
    let payload: Uint8Array;
    try {
      payload = this.#codec.encode(value);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue(payload, this.#tag);
  }

  /** @internal */
  protected override sendRaw(bytes: Uint8Array): Promise<void> {
    return this.#enqueue(bytes, -1);
  }

  #enqueue(payload: Uint8Array, tag: number): Promise<void> {
    if (this.#sendError) return Promise.reject(this.#sendError);
    const size = Batch.frameSize(payload, tag);
    if (size > this.#maxMessageSize)
      return Promise.reject(new FrameTooLargeError(size, this.#maxMessageSize));
    let out = this.#out;
    if (!out) {
      out = { batch: new Batch(), done: deferred<void>() };
      // A send nobody awaits must not become an unhandled rejection; awaiting callers still see it.
      out.done.promise.catch(noop);
      this.#out = out;
      queueMicrotask(() => this.#flush());
    }
    out.batch.add(payload, tag);
    return out.done.promise;
  }

  #flush(): void {
    const out = this.#out;
    if (!out) return;
    this.#out = undefined;
    if (this.#socket) {
      this.#write(out);
    } else {
      // Not connected yet (a pipe end meeting its peer): an awaited send must keep the process alive.
      out.release = this.keepAlive.hold();
      this.#waiting.push(out);
    }
  }

  #write(out: Outgoing): void {
    out.release?.();
    const socket = this.#socket;
    if (!socket || this.#sendError) {
      out.done.reject(this.#sendError ?? new ConnectionClosedError('the connection is closed'));
      return;
    }
    const done = (error?: Error | null) => {
      if (error) {
        this.#sendError ??= new ConnectionClosedError(`the connection failed: ${error.message}`, {
          cause: error,
        });
        out.done.reject(this.#sendError);
      } else if (socket.destroyed) {
        // Node calls back without an error for a write cut short by the socket's destruction
        // (a peer that died mid-write): the bytes cannot be known to have left.
        out.done.reject(
          this.#sendError ?? new ConnectionClosedError('the connection closed during the send'),
        );
      } else {
        out.done.resolve();
      }
    };
    const chunks = out.batch.chunks();
    if (chunks.length === 1) {
      socket.write(chunks[0] as Uint8Array, done);
      return;
    }
    socket.cork();
    const last = chunks.length - 1;
    // Callbacks run in order: the last write's settles the batch.
    for (let i = 0; i <= last; i++) socket.write(chunks[i] as Uint8Array, i === last ? done : undefined);
    socket.uncork();
  }

  /** @internal */
  protected override decode(message: unknown): T {
    return decodeMessage(message as Uint8Array, { codec: this.#codec }) as T;
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
      this.#flush();
      if (this.#waiting.length === 0 || !this.#connecting) {
        // Not connected and nothing to deliver: give up meeting the peer (it is told).
        this.#shutdown(this.closedError(), this.closedError());
        await rendezvous.close();
        await this.#connecting;
        return;
      }
      // Sends wait for the peer: deliver them first, then close as usual.
      await this.#connecting;
    }
    this.#flush();
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
